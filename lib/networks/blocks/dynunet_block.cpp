// UnetBasicBlock, UnetResBlock, UnetUpBlock, UnetOutBlock and the dynunet conv helpers
// (dynunet_block.h).
#include "med/networks/blocks/dynunet_block.h"

#include <string>

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::networks::blocks {

namespace L = med::networks::layers;

LayerSpec dynunetDefaultAct() {
  return LayerSpec("LEAKYRELU", {{"inplace", true}, {"negative_slope", 0.01}});
}

std::vector<int64_t> dynunetPadding(const std::vector<int64_t> &kernel_size,
                                    const std::vector<int64_t> &stride, const std::string &where) {
  const int64_t d = static_cast<int64_t>(std::max(kernel_size.size(), stride.size()));
  auto k = detail::perAxis(kernel_size, d, where + ".kernel_size");
  auto s = detail::perAxis(stride, d, where + ".stride");
  std::vector<int64_t> p(d);
  for (int64_t i = 0; i < d; ++i) {
    if (k[i] - s[i] + 1 < 0)
      throw Error(where, "padding (kernel_size - stride + 1) / 2 would be negative (kernel " +
                             std::to_string(k[i]) + ", stride " + std::to_string(s[i]) +
                             "); use a larger kernel_size or a smaller stride");
    p[i] = (k[i] - s[i] + 1) / 2;
  }
  return p;
}

std::vector<int64_t> dynunetOutputPadding(const std::vector<int64_t> &kernel_size,
                                          const std::vector<int64_t> &stride,
                                          const std::vector<int64_t> &padding,
                                          const std::string &where) {
  const int64_t d = static_cast<int64_t>(padding.size());
  auto k = detail::perAxis(kernel_size, d, where + ".kernel_size");
  auto s = detail::perAxis(stride, d, where + ".stride");
  std::vector<int64_t> op(d);
  for (int64_t i = 0; i < d; ++i) {
    op[i] = 2 * padding[i] + s[i] - k[i];
    if (op[i] < 0)
      throw Error(where, "output padding 2 * padding + stride - kernel_size would be negative "
                         "(kernel " +
                             std::to_string(k[i]) + ", stride " + std::to_string(s[i]) + ")");
  }
  return op;
}

Convolution dynunetConv(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                        const std::vector<int64_t> &kernel_size, const std::vector<int64_t> &stride,
                        const std::optional<LayerSpec> &dropout, bool bias, bool is_transposed) {
  const std::string where = is_transposed ? "UnetUpBlock" : "UnetBlock";
  if (spatial_dims < 1 || spatial_dims > 3)
    throw Error(where + ".spatial_dims", "expected 1, 2 or 3, got " + std::to_string(spatial_dims));
  auto k = detail::perAxis(kernel_size, spatial_dims, where + ".kernel_size");
  auto s = detail::perAxis(stride, spatial_dims, where + ".stride");
  auto pad = dynunetPadding(k, s, where);
  ConvolutionOptions o(spatial_dims, in_channels, out_channels);
  o.strides(s).kernel_size(k).act(std::nullopt).norm(std::nullopt).dropout(dropout).bias(bias);
  // MONAI's Convolution adds no "adn" when act, norm and dropout are all None.
  o.conv_only(!dropout).is_transposed(is_transposed).padding(pad);
  if (is_transposed)
    o.output_padding(dynunetOutputPadding(k, s, pad, where));
  return Convolution(o);
}

namespace {
bool changesShape(const UnetBlockOptions &o) {
  if (o.in_channels() != o.out_channels())
    return true;
  for (int64_t s : o.stride())
    if (s != 1)
      return true;
  return false;
}
} // namespace

namespace detail {
UnetConvLayers::UnetConvLayers(torch::nn::Module &owner, const UnetBlockOptions &o) {
  const int64_t d = o.spatial_dims();
  conv1 = owner.register_module("conv1", dynunetConv(d, o.in_channels(), o.out_channels(),
                                                     o.kernel_size(), o.stride(), o.dropout()));
  conv2 = owner.register_module("conv2", dynunetConv(d, o.out_channels(), o.out_channels(),
                                                     o.kernel_size(), {1}, o.dropout()));
  lrelu = L::get_act_layer(o.act_name());
  owner.register_module("lrelu", lrelu.ptr());
  norm1 = L::get_norm_layer(o.norm_name(), d, o.out_channels());
  owner.register_module("norm1", norm1.ptr());
  norm2 = L::get_norm_layer(o.norm_name(), d, o.out_channels());
  owner.register_module("norm2", norm2.ptr());
}

at::Tensor UnetConvLayers::beforeLastAct(const at::Tensor &x) {
  at::Tensor y = lrelu.forward(norm1.forward(conv1->forward(x)));
  return norm2.forward(conv2->forward(y));
}
} // namespace detail

UnetBasicBlockImpl::UnetBasicBlockImpl(UnetBlockOptions o)
    : options(std::move(o)), layers_(*this, options) {}

at::Tensor UnetBasicBlockImpl::forward(const at::Tensor &x) {
  return layers_.lrelu.forward(layers_.beforeLastAct(x));
}

UnetResBlockImpl::UnetResBlockImpl(UnetBlockOptions o)
    : options(std::move(o)), layers_(*this, options) {
  if (changesShape(options)) {
    const int64_t d = options.spatial_dims();
    conv3_ = register_module("conv3", dynunetConv(d, options.in_channels(), options.out_channels(),
                                                  {1}, options.stride(), options.dropout()));
    norm3_ = L::get_norm_layer(options.norm_name(), d, options.out_channels());
    register_module("norm3", norm3_.ptr());
  }
}

at::Tensor UnetResBlockImpl::forward(const at::Tensor &x) {
  at::Tensor y = layers_.beforeLastAct(x);
  at::Tensor res = conv3_ ? norm3_.forward(conv3_->forward(x)) : x;
  return layers_.lrelu.forward(y + res);
}

UnetUpBlockImpl::UnetUpBlockImpl(UnetUpBlockOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  transp_conv_ = register_module(
      "transp_conv", dynunetConv(d, options.in_channels(), options.out_channels(),
                                 options.upsample_kernel_size(), options.upsample_kernel_size(),
                                 options.dropout(), options.trans_bias(), /*is_transposed=*/true));
  conv_block_ = register_module(
      "conv_block",
      UnetBasicBlock(UnetBlockOptions(d, 2 * options.out_channels(), options.out_channels(),
                                      options.kernel_size(), {1}, options.norm_name())
                         .act_name(options.act_name())
                         .dropout(options.dropout())));
}

at::Tensor UnetUpBlockImpl::forward(const at::Tensor &x, const at::Tensor &skip) {
  at::Tensor up = transp_conv_->forward(x);
  if (skip.dim() != up.dim() || skip.size(1) != options.out_channels() ||
      skip.sizes().slice(2) != up.sizes().slice(2))
    throw Error("UnetUpBlock.forward",
                "skip must have shape (B, " + std::to_string(options.out_channels()) +
                    ", *up-sampled size) matching the transposed conv output");
  return conv_block_->forward(at::cat({up, skip}, 1));
}

UnetOutBlockImpl::UnetOutBlockImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                                   std::optional<LayerSpec> dropout) {
  conv_ = register_module("conv", dynunetConv(spatial_dims, in_channels, out_channels, {1}, {1},
                                              dropout, /*bias=*/true));
}

at::Tensor UnetOutBlockImpl::forward(const at::Tensor &x) { return conv_->forward(x); }

} // namespace med::networks::blocks
