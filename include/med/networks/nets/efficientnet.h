// MONAI's EfficientNet (Tan & Le 2019) and EfficientNetBN (the b0-b8 / l2 presets): a strided
// stem, stacks of MBConv blocks (expansion 1x1 conv, depthwise conv, squeeze-and-excitation,
// projection, drop-connect residual) and a 1x1 conv head with global pooling and a linear
// classifier, in 1D, 2D or 3D. Convs use TensorFlow "same" padding computed, as in MONAI, for the
// preset's image size. Names are MONAI's ("_conv_stem", "_blocks.1.1._expand_conv", "_fc").
// No pretrained weights are downloaded: load a converted checkpoint with torch::load instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"
#include "med/networks/layers/factories.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// x * sigmoid(x), MONAI's MemoryEfficientSwish (the same values; LibTorch autograd keeps the
/// input for the backward pass).
class MemoryEfficientSwishImpl : public torch::nn::Module {
public:
  at::Tensor forward(const at::Tensor &x);
};
TORCH_MODULE(MemoryEfficientSwish);

/// Options of MBConvBlock (MONAI's names). `image_size` is the input size the "same" padding is
/// computed for; `se_ratio` outside (0, 1] disables squeeze-and-excitation.
struct MBConvBlockOptions {
  MBConvBlockOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                     int64_t kernel_size, int64_t stride, std::vector<int64_t> image_size,
                     int64_t expand_ratio)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels),
        kernel_size_(kernel_size), stride_(stride), image_size_(std::move(image_size)),
        expand_ratio_(expand_ratio) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);
  TORCH_ARG(int64_t, stride);
  TORCH_ARG(std::vector<int64_t>, image_size);
  TORCH_ARG(int64_t, expand_ratio);
  TORCH_ARG(double, se_ratio) = 0.25;
  TORCH_ARG(bool, id_skip) = true;
  TORCH_ARG(LayerSpec, norm) = LayerSpec("batch", {{"eps", 1e-3}, {"momentum", 0.01}});
  TORCH_ARG(double, drop_connect_rate) = 0.2;
};

/// The mobile inverted bottleneck block.
///
///   MBConvBlock(MBConvBlockOptions(2, 16, 24, 3, 2, {112, 112}, 6))
class MBConvBlockImpl : public torch::nn::Module {
public:
  explicit MBConvBlockImpl(MBConvBlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  MBConvBlockOptions options;

private:
  bool has_se_ = false;
  torch::nn::AnyModule expand_conv_, expand_pad_, bn0_, depthwise_conv_, depthwise_pad_, bn1_;
  torch::nn::AnyModule se_pool_, se_reduce_, se_reduce_pad_, se_expand_, se_expand_pad_;
  torch::nn::AnyModule project_conv_, project_pad_, bn2_;
  MemoryEfficientSwish swish_{nullptr};
};
TORCH_MODULE(MBConvBlock);

/// Options of EfficientNet: `blocks_args_str` holds one MONAI block string per stack, e.g.
/// "r1_k3_s11_e1_i32_o16_se0.25" (repeats, kernel, stride, expansion, in / out filters, SE
/// ratio; "noskip" disables the residual). Widths and repeats are scaled by the coefficients.
///
///   EfficientNet(EfficientNetOptions({"r1_k3_s11_e1_i32_o16_se0.25"}).num_classes(2))
struct EfficientNetOptions {
  explicit EfficientNetOptions(std::vector<std::string> blocks_args_str)
      : blocks_args_str_(std::move(blocks_args_str)) {}
  TORCH_ARG(std::vector<std::string>, blocks_args_str);
  TORCH_ARG(int64_t, spatial_dims) = 2;
  TORCH_ARG(int64_t, in_channels) = 3;
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(double, width_coefficient) = 1.0;
  TORCH_ARG(double, depth_coefficient) = 1.0;
  TORCH_ARG(double, dropout_rate) = 0.2;
  TORCH_ARG(int64_t, image_size) = 224;
  TORCH_ARG(LayerSpec, norm) = LayerSpec("batch", {{"eps", 1e-3}, {"momentum", 0.01}});
  TORCH_ARG(double, drop_connect_rate) = 0.2;
  TORCH_ARG(int64_t, depth_divisor) = 8;
};

/// (B, in_channels, *S) -> (B, num_classes) logits.
class EfficientNetImpl : public torch::nn::Module {
public:
  explicit EfficientNetImpl(EfficientNetOptions options);
  at::Tensor forward(const at::Tensor &x);
  EfficientNetOptions options;

private:
  torch::nn::AnyModule conv_stem_, stem_pad_, bn0_, conv_head_, head_pad_, bn1_, avg_pooling_;
  blocks::TensorSequential blocks_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
  MemoryEfficientSwish swish_{nullptr};
};
TORCH_MODULE(EfficientNet);

/// Options of EfficientNetBN: `model_name` "efficientnet-b0" .. "efficientnet-b8" or
/// "efficientnet-l2" picks MONAI's width / depth / image size / dropout preset. Unlike MONAI
/// (default pretrained=True) nothing is downloaded: `pretrained` true throws med::Error.
///
///   auto net =
///   EfficientNetBN(EfficientNetBNOptions("efficientnet-b0").in_channels(1).num_classes(2));
struct EfficientNetBNOptions {
  explicit EfficientNetBNOptions(std::string model_name) : model_name_(std::move(model_name)) {}
  TORCH_ARG(std::string, model_name);
  TORCH_ARG(bool, pretrained) = false;
  TORCH_ARG(int64_t, spatial_dims) = 2;
  TORCH_ARG(int64_t, in_channels) = 3;
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(LayerSpec, norm) = LayerSpec("batch", {{"eps", 1e-3}, {"momentum", 0.01}});
};

/// The EfficientNetOptions of a named preset (MONAI's seven baseline block strings).
EfficientNetOptions efficientNetBNOptions(const EfficientNetBNOptions &o);

/// EfficientNet built from a preset.
class EfficientNetBNImpl : public EfficientNetImpl {
public:
  explicit EfficientNetBNImpl(const EfficientNetBNOptions &o)
      : EfficientNetImpl(efficientNetBNOptions(o)) {}
};
TORCH_MODULE(EfficientNetBN);

} // namespace med::networks::nets
