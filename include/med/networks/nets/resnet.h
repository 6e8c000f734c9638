// MONAI's ResNet (He et al. 2016, with Hara et al.'s 3D variant): a stem conv + norm + act +
// max-pool, four stages of residual blocks (basic: two 3^d convs; bottleneck: 1 - 3^d - 1 convs
// with 4x expansion), global average pooling and a linear classifier. Used as a classifier
// and as a feature extractor (feed_forward false). Submodule names are MONAI's ("conv1", "bn1",
// "layer1.0.conv1", "layer1.0.downsample.0", "fc"), so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/layers/factories.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// What the two residual block kinds share: the residual path. `downsample` is empty (identity),
/// a module (shortcut "B": strided 1x1 conv + norm) or, with `shortcut_a_planes` > 0, MONAI's
/// parameter-free shortcut "A" (stride-s subsampling and zero channels up to that count; like
/// MONAI, no gradient flows through it).
struct ResNetShortcut {
  torch::nn::AnyModule downsample;
  int64_t shortcut_a_planes = 0;
  int64_t stride = 1;
  at::Tensor operator()(const at::Tensor &x);
};

/// MONAI's ResNetBlock (expansion 1): conv3 (stride) -> norm -> act -> conv3 -> norm, + shortcut,
/// act. ResNet builds these; exposed for custom stages.
///
///   ResNetBlock b(64, 64, 3, 1, {}, LayerSpec("relu"), LayerSpec("batch"));
class ResNetBlockImpl : public torch::nn::Module {
public:
  static constexpr int64_t expansion = 1;
  ResNetBlockImpl(int64_t in_planes, int64_t planes, int64_t spatial_dims, int64_t stride,
                  ResNetShortcut shortcut, const LayerSpec &act, const LayerSpec &norm);
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule conv1_, bn1_, act_, conv2_, bn2_;
  ResNetShortcut shortcut_;
};
TORCH_MODULE(ResNetBlock);

/// MONAI's ResNetBottleneck (expansion 4): conv1 -> conv3 (stride) -> conv1 to 4 * planes, each
/// followed by a norm (act after the first two), + shortcut, act.
class ResNetBottleneckImpl : public torch::nn::Module {
public:
  static constexpr int64_t expansion = 4;
  ResNetBottleneckImpl(int64_t in_planes, int64_t planes, int64_t spatial_dims, int64_t stride,
                       ResNetShortcut shortcut, const LayerSpec &act, const LayerSpec &norm);
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule conv1_, bn1_, conv2_, bn2_, conv3_, bn3_, act_;
  ResNetShortcut shortcut_;
};
TORCH_MODULE(ResNetBottleneck);

/// Options of ResNet, MONAI's arguments and defaults. `block` is "basic" (ResNetBlock) or
/// "bottleneck" (ResNetBottleneck); `layers` and `block_inplanes` have 4 entries (blocks and
/// base width per stage; widths are scaled by `widen_factor`). `conv1_t_size` /
/// `conv1_t_stride` take one value or one per axis. `shortcut_type` "A" (parameter-free) or "B"
/// (1x1 conv + norm, with bias when `bias_downsample`).
///
///   auto net = ResNet(ResNetOptions("basic", {2, 2, 2, 2}, {64, 128, 256, 512})
///                         .n_input_channels(1).num_classes(2));
struct ResNetOptions {
  ResNetOptions() = default;
  ResNetOptions(std::string block, std::vector<int64_t> layers, std::vector<int64_t> block_inplanes)
      : block_(std::move(block)), layers_(std::move(layers)),
        block_inplanes_(std::move(block_inplanes)) {}
  TORCH_ARG(std::string, block) = "basic";
  TORCH_ARG(std::vector<int64_t>, layers) = {1, 1, 1, 1};
  TORCH_ARG(std::vector<int64_t>, block_inplanes) = {64, 128, 256, 512};
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, n_input_channels) = 3;
  TORCH_ARG(std::vector<int64_t>, conv1_t_size) = {7};
  TORCH_ARG(std::vector<int64_t>, conv1_t_stride) = {1};
  TORCH_ARG(bool, no_max_pool) = false;
  TORCH_ARG(std::string, shortcut_type) = "B";
  TORCH_ARG(double, widen_factor) = 1.0;
  TORCH_ARG(int64_t, num_classes) = 400;
  TORCH_ARG(bool, feed_forward) = true;
  TORCH_ARG(bool, bias_downsample) = true;
  TORCH_ARG(LayerSpec, act) = LayerSpec("relu", {{"inplace", true}});
  TORCH_ARG(LayerSpec, norm) = LayerSpec("batch");
};

/// (B, n_input_channels, *S) -> (B, num_classes), or (B, block_inplanes[3] * expansion) pooled
/// features when feed_forward is false.
class ResNetImpl : public torch::nn::Module {
public:
  explicit ResNetImpl(ResNetOptions options = {});
  at::Tensor forward(const at::Tensor &x);
  ResNetOptions options;

private:
  torch::nn::Sequential makeLayer(int64_t planes, int64_t blocks, int64_t stride);
  int64_t in_planes_ = 0;
  torch::nn::AnyModule conv1_, bn1_, act_, maxpool_, avgpool_;
  std::vector<torch::nn::Sequential> stages_;
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(ResNet);

/// MONAI's factories: `options` supplies everything but block, layers and block_inplanes
/// ({64, 128, 256, 512}), which the depth fixes (10/18/34: basic blocks {1,1,1,1}, {2,2,2,2},
/// {3,4,6,3}; 50/101/152/200: bottlenecks {3,4,6,3}, {3,4,23,3}, {3,8,36,3}, {3,24,36,3}).
/// Pretrained weights are not downloaded.
///
///   auto net = resnet50(ResNetOptions().spatial_dims(3).n_input_channels(1).num_classes(2));
ResNet resnet10(ResNetOptions options = {});
ResNet resnet18(ResNetOptions options = {});
ResNet resnet34(ResNetOptions options = {});
ResNet resnet50(ResNetOptions options = {});
ResNet resnet101(ResNetOptions options = {});
ResNet resnet152(ResNetOptions options = {});
ResNet resnet200(ResNetOptions options = {});

} // namespace med::networks::nets
