// MONAI's squeeze-and-excitation blocks (Hu et al. 2018): ChannelSELayer re-weights channels by
// a gate computed from their global average, and the SE residual bottlenecks of SENet
// (SEBottleneck, SEResNetBottleneck, SEResNeXtBottleneck: three Convolutions, an SE layer and a
// projected residual). Submodule names are MONAI's ("conv1.conv", "conv1.adn.N",
// "se_layer.fc.0", "project"), so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"
#include "med/networks/layers/factories.h"

namespace med::networks::blocks {

/// x * gate(x): global average pool -> Linear(C, C / r) -> act_1 -> Linear(C / r, C) -> act_2,
/// broadcast over the spatial axes. C / r must be at least 1.
///
///   ChannelSELayer se(3, 64, 16);
class ChannelSELayerImpl : public torch::nn::Module {
public:
  ChannelSELayerImpl(int64_t spatial_dims, int64_t in_channels, int64_t r = 2,
                     const LayerSpec &acti_type_1 = LayerSpec("relu", {{"inplace", true}}),
                     const LayerSpec &acti_type_2 = LayerSpec("sigmoid"));
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule avg_pool_;
  torch::nn::Sequential fc_{nullptr};
};
TORCH_MODULE(ChannelSELayer);

/// The kinds of SENet bottleneck (MONAI's names): "se_bottleneck" (SENet-154; widths 2p, 4p,
/// 4p, stride on the 3^d conv), "se_resnet_bottleneck" (SE-ResNet; p, p, 4p, stride on the first
/// 1x1 conv), "se_resnetxt_bottleneck" (SE-ResNeXt; floor(p * base_width / 64) * groups twice,
/// then 4p, stride on the 3^d conv). All have expansion 4.
enum class SEBottleneckKind { SEBottleneck, SEResNetBottleneck, SEResNeXtBottleneck };

/// Parses "se_bottleneck" / "se_resnet_bottleneck" / "se_resnetxt_bottleneck"; med::Error
/// naming `where` otherwise.
SEBottleneckKind seBottleneckKind(const std::string &name, const std::string &where);

/// An SENet residual block: conv1 -> conv2 (grouped 3^d) -> conv3 (each Convolution with batch
/// norm, ReLU after the first two) -> se_layer, + project(x), ReLU. `downsample` (may be empty)
/// is the projection of the residual path; empty means Identity, or a 1x1 conv with bias when
/// the channel count changes (MONAI's SEBlock default).
///
///   SEResidualBlock b(SEBottleneckKind::SEResNetBottleneck, 3, 64, 64, 1, 16, 1, {});
class SEResidualBlockImpl : public torch::nn::Module {
public:
  static constexpr int64_t expansion = 4;
  SEResidualBlockImpl(SEBottleneckKind kind, int64_t spatial_dims, int64_t inplanes, int64_t planes,
                      int64_t groups, int64_t reduction, int64_t stride,
                      torch::nn::AnyModule downsample, int64_t base_width = 4);
  at::Tensor forward(const at::Tensor &x);

private:
  Convolution conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  ChannelSELayer se_layer_{nullptr};
  torch::nn::AnyModule project_, act_;
};
TORCH_MODULE(SEResidualBlock);

} // namespace med::networks::blocks
