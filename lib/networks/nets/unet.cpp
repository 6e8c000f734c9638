// UNet (unet.h): built recursively as MONAI does — each level is
// Sequential(down, SkipConnection(deeper levels), up), the bottom a stride-1 down layer.
#include "med/networks/nets/unet.h"

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace nn = torch::nn;

UNetImpl::UNetImpl(UNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("UNet.spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  const auto &ch = options.channels();
  const auto &st = options.strides();
  if (ch.size() < 2)
    throw Error("UNet.channels", "expected at least 2 levels, got " + std::to_string(ch.size()));
  if (st.size() != ch.size() - 1)
    throw Error("UNet.strides", "expected len(channels) - 1 = " + std::to_string(ch.size() - 1) +
                                    " strides, got " + std::to_string(st.size()));
  for (int64_t c : ch)
    if (c < 1)
      throw Error("UNet.channels", "expected positive channel counts");
  for (int64_t s : st)
    if (s < 1)
      throw Error("UNet.strides", "expected positive strides");
  B::detail::perAxis(options.kernel_size(), d, "UNet.kernel_size");
  B::detail::perAxis(options.up_kernel_size(), d, "UNet.up_kernel_size");
  if (options.in_channels() < 1 || options.out_channels() < 1)
    throw Error("UNet.in_channels", "expected positive in_channels and out_channels");
  // The top level is MONAI's `model` itself (a Sequential), not wrapped once more.
  nn::AnyModule top = block(options.in_channels(), options.out_channels(), 0);
  model_ = top.get<B::TensorSequential>();
  register_module("model", model_);
}

nn::AnyModule UNetImpl::block(int64_t in, int64_t out, size_t level) {
  const auto &ch = options.channels();
  const int64_t c = ch[level], s = options.strides()[level];
  const bool isTop = level == 0;
  nn::AnyModule sub;
  int64_t upc;
  if (ch.size() - level > 2) {
    sub = block(c, c, level + 1);
    upc = 2 * c;
  } else {
    sub = down(c, ch[level + 1], 1, false); // the bottom layer
    upc = c + ch[level + 1];
  }
  B::TensorSequential seq;
  seq->push_back(down(in, c, s, isTop));
  seq->push_back(B::SkipConnection(std::move(sub)));
  seq->push_back(up(upc, out, s, isTop));
  return nn::AnyModule(seq);
}

nn::AnyModule UNetImpl::down(int64_t in, int64_t out, int64_t stride, bool) {
  const int64_t d = options.spatial_dims();
  std::optional<LayerSpec> drop = B::dropoutSpec(options.dropout());
  if (options.num_res_units() > 0)
    return nn::AnyModule(B::ResidualUnit(B::ResidualUnitOptions(d, in, out)
                                             .strides({stride})
                                             .kernel_size(options.kernel_size())
                                             .subunits(options.num_res_units())
                                             .act(options.act())
                                             .norm(options.norm())
                                             .dropout(drop)
                                             .bias(options.bias())
                                             .adn_ordering(options.adn_ordering())));
  return nn::AnyModule(B::Convolution(B::ConvolutionOptions(d, in, out)
                                          .strides({stride})
                                          .kernel_size(options.kernel_size())
                                          .act(options.act())
                                          .norm(options.norm())
                                          .dropout(drop)
                                          .bias(options.bias())
                                          .adn_ordering(options.adn_ordering())));
}

nn::AnyModule UNetImpl::up(int64_t in, int64_t out, int64_t stride, bool isTop) {
  const int64_t d = options.spatial_dims();
  std::optional<LayerSpec> drop = B::dropoutSpec(options.dropout());
  auto conv = B::Convolution(B::ConvolutionOptions(d, in, out)
                                 .strides({stride})
                                 .kernel_size(options.up_kernel_size())
                                 .act(options.act())
                                 .norm(options.norm())
                                 .dropout(drop)
                                 .bias(options.bias())
                                 .conv_only(isTop && options.num_res_units() == 0)
                                 .is_transposed(true)
                                 .adn_ordering(options.adn_ordering()));
  if (options.num_res_units() == 0)
    return nn::AnyModule(conv);
  B::TensorSequential seq;
  seq->push_back(conv);
  seq->push_back(B::ResidualUnit(B::ResidualUnitOptions(d, out, out)
                                     .strides({1})
                                     .kernel_size(options.kernel_size())
                                     .subunits(1)
                                     .act(options.act())
                                     .norm(options.norm())
                                     .dropout(drop)
                                     .bias(options.bias())
                                     .last_conv_only(isTop)
                                     .adn_ordering(options.adn_ordering())));
  return nn::AnyModule(seq);
}

at::Tensor UNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2)
    throw Error("UNet.input", "expected a (B, C, " + std::to_string(d) +
                                  " spatial axes) tensor, got " + std::to_string(x.dim()) +
                                  " dimensions");
  if (x.size(1) != options.in_channels())
    throw Error("UNet.input", "expected " + std::to_string(options.in_channels()) +
                                  " channels, got " + std::to_string(x.size(1)));
  int64_t f = 1;
  for (int64_t s : options.strides())
    f *= s;
  for (int64_t i = 2; i < x.dim(); ++i)
    if (x.size(i) % f != 0)
      throw Error("UNet.input",
                  "spatial size " + std::to_string(x.size(i)) + " (axis " + std::to_string(i - 2) +
                      ") must be divisible by the product of strides, " + std::to_string(f) +
                      "; pad it to a multiple of " + std::to_string(f));
  return model_->forward(x);
}

} // namespace med::networks::nets
