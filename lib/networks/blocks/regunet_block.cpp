// RegUNet's blocks (regunet_block.h).
#include "med/networks/blocks/regunet_block.h"

#include <ATen/ATen.h>
#include <c10/util/StringUtil.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/init.h>

#include "med/core/error.h"

namespace med::networks::blocks {

namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {
void checkDims(int64_t d, const char *where) {
  if (d < 1 || d > 3)
    throw Error(where, "expected 1, 2 or 3 spatial dims, got " + std::to_string(d));
}

} // namespace

at::Tensor regInterpolate(const at::Tensor &x, at::IntArrayRef size, const std::string &mode,
                          std::optional<bool> align_corners, const std::string &where) {
  const size_t n = size.size();
  if (n < 1 || n > 3 || x.dim() != static_cast<int64_t>(n) + 2)
    throw Error(where,
                "expected (B, C, *spatial) with 1 to 3 spatial axes matching the size, got " +
                    c10::str(x.sizes()));
  if (mode == "nearest") {
    if (align_corners)
      throw Error(where, "align_corners can only be set with the interpolating modes");
    return n == 1   ? at::upsample_nearest1d(x, size)
           : n == 2 ? at::upsample_nearest2d(x, size)
                    : at::upsample_nearest3d(x, size);
  }
  const bool ac = align_corners.value_or(false);
  if (mode == "linear" && n == 1)
    return at::upsample_linear1d(x, size, ac);
  if (mode == "bilinear" && n == 2)
    return at::upsample_bilinear2d(x, size, ac);
  if (mode == "bicubic" && n == 2)
    return at::upsample_bicubic2d(x, size, ac);
  if (mode == "trilinear" && n == 3)
    return at::upsample_trilinear3d(x, size, ac);
  throw Error(where, "mode \"" + mode + "\" is not supported for " + std::to_string(n) +
                         " spatial dims (nearest, linear 1D, bilinear / bicubic 2D, trilinear 3D)");
}

Convolution get_conv_block(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                           int64_t kernel_size, int64_t strides, std::optional<int64_t> padding,
                           std::optional<LayerSpec> act, std::optional<LayerSpec> norm,
                           std::optional<std::string> initializer) {
  checkDims(spatial_dims, "get_conv_block.spatial_dims");
  const int64_t pad = padding ? *padding : (kernel_size - 1) / 2;
  Convolution block(ConvolutionOptions(spatial_dims, in_channels, out_channels)
                        .kernel_size({kernel_size})
                        .strides({strides})
                        .padding(std::vector<int64_t>{pad})
                        .act(std::move(act))
                        .norm(std::move(norm))
                        .bias(false));
  if (initializer) {
    at::Tensor w = block->named_parameters()["conv.weight"];
    torch::NoGradGuard noGrad;
    if (*initializer == "kaiming_uniform")
      nn::init::kaiming_normal_(w); // MONAI's "kaiming_uniform" draws from the normal law
    else if (*initializer == "zeros")
      w.zero_();
    else
      throw Error("get_conv_block.initializer",
                  "expected \"kaiming_uniform\" or \"zeros\", got \"" + *initializer + "\"");
  }
  return block;
}

Convolution get_conv_layer(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                           int64_t kernel_size) {
  checkDims(spatial_dims, "get_conv_layer.spatial_dims");
  return Convolution(ConvolutionOptions(spatial_dims, in_channels, out_channels)
                         .kernel_size({kernel_size})
                         .padding(std::vector<int64_t>{(kernel_size - 1) / 2})
                         .bias(false)
                         .conv_only(true));
}

Convolution get_deconv_block(int64_t spatial_dims, int64_t in_channels, int64_t out_channels) {
  checkDims(spatial_dims, "get_deconv_block.spatial_dims");
  return Convolution(ConvolutionOptions(spatial_dims, in_channels, out_channels)
                         .strides({2})
                         .act(LayerSpec("RELU"))
                         .norm(LayerSpec("BATCH"))
                         .bias(false)
                         .is_transposed(true)
                         .padding(std::vector<int64_t>{1})
                         .output_padding(std::vector<int64_t>{1}));
}

RegistrationResidualConvBlockImpl::RegistrationResidualConvBlockImpl(int64_t spatial_dims,
                                                                     int64_t in_channels,
                                                                     int64_t out_channels,
                                                                     int64_t num_layers,
                                                                     int64_t kernel_size) {
  checkDims(spatial_dims, "RegistrationResidualConvBlock.spatial_dims");
  if (num_layers < 1)
    throw Error("RegistrationResidualConvBlock.num_layers",
                "expected at least 1, got " + std::to_string(num_layers));
  nn::ModuleList layers, norms, acts;
  for (int64_t i = 0; i < num_layers; ++i) {
    convs_.push_back(get_conv_layer(spatial_dims, i == 0 ? in_channels : out_channels, out_channels,
                                    kernel_size));
    layers->push_back(convs_.back());
    norms_.push_back(L::get_norm_layer("BATCH", spatial_dims, out_channels));
    norms->push_back(norms_.back().ptr());
    acts_.push_back(L::get_act_layer("RELU"));
    acts->push_back(acts_.back().ptr());
  }
  register_module("layers", layers);
  register_module("norms", norms);
  register_module("acts", acts);
}

at::Tensor RegistrationResidualConvBlockImpl::forward(const at::Tensor &x) {
  at::Tensor y = x;
  for (size_t i = 0; i < convs_.size(); ++i) {
    y = norms_[i].forward(convs_[i]->forward(y));
    if (i + 1 == convs_.size())
      y = y + x;
    y = acts_[i].forward(y);
  }
  return y;
}

RegistrationDownSampleBlockImpl::RegistrationDownSampleBlockImpl(int64_t spatial_dims,
                                                                 int64_t channels, bool pooling) {
  checkDims(spatial_dims, "RegistrationDownSampleBlock.spatial_dims");
  if (pooling)
    layer_ = L::pool({"MAX", {{"kernel_size", 2}}}, spatial_dims);
  else
    layer_ = nn::AnyModule(get_conv_block(spatial_dims, channels, channels, 2, 2, 0));
  register_module("layer", layer_.ptr());
}

at::Tensor RegistrationDownSampleBlockImpl::forward(const at::Tensor &x) {
  for (int64_t a = 2; a < x.dim(); ++a)
    if (x.size(a) % 2 != 0)
      throw Error("RegistrationDownSampleBlock.input",
                  "expected even spatial sizes, got " + c10::str(x.sizes()));
  return layer_.forward(x);
}

RegistrationExtractionBlockImpl::RegistrationExtractionBlockImpl(
    int64_t spatial_dims, std::vector<int64_t> extract_levels,
    const std::vector<int64_t> &num_channels, int64_t out_channels,
    std::optional<std::string> kernel_initializer, std::optional<LayerSpec> activation)
    : extract_levels_(std::move(extract_levels)) {
  if (extract_levels_.empty())
    throw Error("RegistrationExtractionBlock.extract_levels", "expected at least one level");
  nn::ModuleList layers;
  for (int64_t l : extract_levels_) {
    if (l < 0 || l >= static_cast<int64_t>(num_channels.size()))
      throw Error("RegistrationExtractionBlock.extract_levels",
                  "level " + std::to_string(l) + " is outside 0.." +
                      std::to_string(num_channels.size() - 1));
    max_level_ = std::max(max_level_, l);
    convs_.push_back(get_conv_block(spatial_dims, num_channels[l], out_channels, 3, 1, std::nullopt,
                                    activation, std::nullopt, kernel_initializer));
    layers->push_back(convs_.back());
  }
  register_module("layers", layers);
}

at::Tensor RegistrationExtractionBlockImpl::forward(const std::vector<at::Tensor> &x,
                                                    at::IntArrayRef image_size) {
  std::vector<at::Tensor> features;
  for (size_t i = 0; i < convs_.size(); ++i) {
    const int64_t idx = max_level_ - extract_levels_[i];
    if (idx >= static_cast<int64_t>(x.size()))
      throw Error("RegistrationExtractionBlock.input",
                  "expected a feature map for level " + std::to_string(extract_levels_[i]) +
                      ", got " + std::to_string(x.size()) + " maps");
    features.push_back(regInterpolate(convs_[i]->forward(x[idx]), image_size, "nearest",
                                      std::nullopt, "RegistrationExtractionBlock.input"));
  }
  return at::stack(features, 0).mean(0);
}

AdditiveUpSampleBlockImpl::AdditiveUpSampleBlockImpl(int64_t spatial_dims, int64_t in_channels,
                                                     int64_t out_channels, std::string mode,
                                                     std::optional<bool> align_corners)
    : mode_(std::move(mode)), align_corners_(align_corners) {
  if (in_channels != 2 * out_channels)
    throw Error("AdditiveUpSampleBlock.in_channels",
                "expected 2 * out_channels = " + std::to_string(2 * out_channels) + ", got " +
                    std::to_string(in_channels));
  deconv_ = register_module("deconv", get_deconv_block(spatial_dims, in_channels, out_channels));
}

at::Tensor AdditiveUpSampleBlockImpl::forward(const at::Tensor &x) {
  std::vector<int64_t> size;
  for (int64_t a = 2; a < x.dim(); ++a)
    size.push_back(2 * x.size(a));
  at::Tensor resized = regInterpolate(x, size, mode_, align_corners_, "AdditiveUpSampleBlock.mode");
  // The channel halves of the resized input, summed: (B, C, ...) -> (B, C / 2, ...).
  at::Tensor halves = at::stack(resized.split(resized.size(1) / 2, 1), -1).sum(-1);
  return deconv_->forward(x) + halves;
}

} // namespace med::networks::blocks
