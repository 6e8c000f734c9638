// EnsureChannelFirst: MONAI's channel handling after LoadImage.
#include "med/core/error.h"
#include "med/io/image_io.h"

namespace med::io {

MetaTensor EnsureChannelFirst::operator()(const MetaTensor &img) const {
  if (!img.data.defined())
    throw Error("EnsureChannelFirst", "the MetaTensor has no data");
  c10::optional<int> channel = options_.channel_dim();
  if (!channel && img.meta.original_channel_dim)
    channel = *img.meta.original_channel_dim;
  if (options_.no_channel())
    channel = c10::nullopt;
  if (!channel) // MONAI's "no_channel": add a leading axis of size 1
    return img.withData(img.data.unsqueeze(0));
  const int64_t rank = img.data.dim();
  const int64_t c = *channel < 0 ? *channel + rank : *channel;
  if (c < 0 || c >= rank)
    throw Error("EnsureChannelFirst.channel_dim",
                "channel dim " + std::to_string(*channel) + " is out of range for data of rank " +
                    std::to_string(rank) + "; expected a value in [" + std::to_string(-rank) +
                    ", " + std::to_string(rank - 1) + "]");
  return img.withData(img.data.movedim(c, 0).contiguous());
}

} // namespace med::io
