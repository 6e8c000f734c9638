// MONAI's UNet: an encoder-decoder with skip connections whose levels are Convolutions or
// ResidualUnits (num_res_units > 0). Parameter names follow MONAI's state_dict ("model.0.conv...",
// "model.1.submodule...") so MONAI checkpoints map onto it key by key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "med/networks/blocks/convolutions.h"
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/networks/layers/factories.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of UNet, MONAI's arguments and defaults. `channels` has one entry per level (at
/// least 2), `strides` one fewer (the down-sampling factor of each level but the bottom);
/// `kernel_size` / `up_kernel_size` take one value or one per spatial axis.
///
///   auto net = UNet(UNetOptions(3, 1, 2).channels({16, 32, 64, 128}).strides({2, 2, 2})
///                       .num_res_units(2));
struct UNetOptions {
  UNetOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, channels) = {};
  TORCH_ARG(std::vector<int64_t>, strides) = {};
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(std::vector<int64_t>, up_kernel_size) = {3};
  TORCH_ARG(int64_t, num_res_units) = 0;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  TORCH_ARG(double, dropout) = 0.0;
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(std::string, adn_ordering) = "NDA";
};

/// The network; forward takes (B, in_channels, *spatial) with every spatial size divisible by
/// the product of `strides` (med::Error otherwise) and returns (B, out_channels, *spatial).
class UNetImpl : public torch::nn::Module {
public:
  explicit UNetImpl(UNetOptions options);
  at::Tensor forward(const at::Tensor &x);
  UNetOptions options;

private:
  torch::nn::AnyModule block(int64_t in, int64_t out, size_t level);
  torch::nn::AnyModule down(int64_t in, int64_t out, int64_t stride, bool is_top);
  torch::nn::AnyModule up(int64_t in, int64_t out, int64_t stride, bool is_top);
  blocks::TensorSequential model_{nullptr};
};
TORCH_MODULE(UNet);

} // namespace med::networks::nets
