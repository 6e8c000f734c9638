// MONAI's AttentionUnet (Oktay et al. 2018): a U-Net whose skips pass through an additive
// attention gate (the decoder features gate the encoder features) and are merged with a conv
// instead of plain concatenation. Submodule names are MONAI's ("model.1.attention.W_g.0.conv",
// "model.1.upconv.up", "model.1.merge", "model.1.submodule.0.conv.0").
#pragma once

#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

/// Options of AttentionUnet, MONAI's arguments and defaults: `channels` per level (at least 2),
/// `strides` one per down-sampling (len(channels) - 1); kernel sizes one value or one per axis.
///
///   auto net = AttentionUnet(AttentionUnetOptions(3, 1, 2, {16, 32, 64, 128}, {2, 2, 2}));
struct AttentionUnetOptions {
  AttentionUnetOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                       std::vector<int64_t> channels, std::vector<int64_t> strides)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels),
        channels_(std::move(channels)), strides_(std::move(strides)) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, channels);
  TORCH_ARG(std::vector<int64_t>, strides);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(std::vector<int64_t>, up_kernel_size) = {3};
  TORCH_ARG(double, dropout) = 0.0;
};

/// (B, in_channels, *S) -> (B, out_channels, *S); every spatial size must be divisible by the
/// product of strides.
class AttentionUnetImpl : public torch::nn::Module {
public:
  explicit AttentionUnetImpl(AttentionUnetOptions options);
  at::Tensor forward(const at::Tensor &x);
  AttentionUnetOptions options;

private:
  blocks::TensorSequential model_{nullptr};
};
TORCH_MODULE(AttentionUnet);

} // namespace med::networks::nets
