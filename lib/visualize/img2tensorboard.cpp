#include "med/visualize/img2tensorboard.h"

#include <algorithm>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/visualize/utils.h"

namespace med::visualize {

void plot_2d_or_3d_image(const at::Tensor &data, int64_t step, SummaryWriter &writer, int64_t index,
                         int64_t max_channels, int64_t frame_dim, int64_t max_frames,
                         const std::string &tag) {
  const std::string where = "plot_2d_or_3d_image";
  if (!data.defined() || data.dim() < 3)
    throw Error(where + ".data", "expected a batch (B, [C,] spatial...) with at least 3 axes");
  if (index < 0 || index >= data.size(0))
    throw Error(where + ".index", "expected an item in [0, " + std::to_string(data.size(0)) +
                                      "), got " + std::to_string(index));
  if (max_channels < 1 || max_frames < 1)
    throw Error(where + ".max_channels", "expected max_channels and max_frames >= 1");
  at::Tensor d = data[index].detach().to(at::kCPU).to(at::kFloat);
  if (d.dim() == 2) {
    writer.add_image(tag + "_HW", rescale_array(d), step, "HW");
    return;
  }
  if (d.dim() == 3) {
    if (d.size(0) == 3 && max_channels == 3) {
      writer.add_image(tag + "_CHW", d, step, "CHW");
      return;
    }
    for (int64_t j = 0; j < std::min(max_channels, d.size(0)); ++j)
      writer.add_image(tag + "_HW_" + std::to_string(j), rescale_array(d[j]), step, "HW");
    return;
  }
  d = d.reshape({-1, d.size(-3), d.size(-2), d.size(-1)});
  const int64_t fd = frame_dim > 0 ? frame_dim - 2 : frame_dim; // axis of one channel volume
  if (fd < -3 || fd > 2)
    throw Error(where + ".frame_dim",
                "expected a spatial axis of (B, C, H, W, D), got " + std::to_string(frame_dim));
  for (int64_t j = 0; j < std::min(max_channels, d.size(0)); ++j) {
    at::Tensor vol = d[j];
    const int64_t frames = vol.size(fd);
    const int64_t every = (frames + max_frames - 1) / max_frames;
    Matshow3dResult r =
        matshow3d(vol, Matshow3dOptions().frame_dim(fd).every_n(every).margin(0).fill_value(0.0));
    writer.add_image(tag + "_HWD_" + std::to_string(j), rescale_array(r.image), step, "HW");
  }
}

} // namespace med::visualize
