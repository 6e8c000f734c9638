// MONAI's DenseNet (Huang et al. 2017) for 1D/2D/3D images: a stem (7^d conv, norm, act,
// max-pool), dense blocks whose layers (norm-act-1x1 conv-norm-act-3^d conv) each append
// `growth_rate` channels to their input, transitions (norm-act-1x1 conv halving the channels,
// 2x average pool) and a classifier (act, global average pool, flatten, linear). Submodule names
// are MONAI's ("features.denseblock1.denselayer1.layers.conv1", "class_layers.out"), so
// state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"
#include "med/networks/layers/factories.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of DenseNet, MONAI's arguments and defaults. `block_config` lists the layer count
/// of each dense block (absent: DenseNet-121's {6, 12, 24, 16}, or the factory's depth);
/// `bn_size` * growth_rate is the width of each layer's 1x1 bottleneck; `dropout_prob` > 0 adds
/// a dropout after every dense layer.
///
///   auto net = DenseNet(DenseNetOptions(3, 1, 2).block_config({6, 12, 32, 32}));
struct DenseNetOptions {
  DenseNetOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, init_features) = 64;
  TORCH_ARG(int64_t, growth_rate) = 32;
  TORCH_ARG(std::optional<std::vector<int64_t>>, block_config) = std::nullopt;
  TORCH_ARG(int64_t, bn_size) = 4;
  TORCH_ARG(LayerSpec, act) = LayerSpec("relu", {{"inplace", true}});
  TORCH_ARG(LayerSpec, norm) = LayerSpec("batch");
  TORCH_ARG(double, dropout_prob) = 0.0;
};

/// (B, in_channels, *S) -> (B, out_channels) class scores (logits).
class DenseNetImpl : public torch::nn::Module {
public:
  explicit DenseNetImpl(DenseNetOptions options);
  at::Tensor forward(const at::Tensor &x);
  DenseNetOptions options;

private:
  blocks::TensorSequential features_{nullptr}, class_layers_{nullptr};
};
TORCH_MODULE(DenseNet);

/// MONAI's DenseNet121 / 169 / 201 / 264: DenseNet with block_config {6,12,24,16},
/// {6,12,32,32}, {6,12,48,32} or {6,12,64,48} unless `options` sets one. Pretrained weights are
/// not downloaded.
///
///   auto net = DenseNet121(DenseNetOptions(3, 1, 2));
DenseNet DenseNet121(DenseNetOptions options);
DenseNet DenseNet169(DenseNetOptions options);
DenseNet DenseNet201(DenseNetOptions options);
DenseNet DenseNet264(DenseNetOptions options);

} // namespace med::networks::nets
