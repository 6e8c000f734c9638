// MONAI's Critic: the Wasserstein-GAN critic built like a Discriminator (a strided stack of
// ResidualUnits, "net.layer_i...") but without the linear head or sigmoid: the final feature
// map is flattened and averaged to one unbounded score per image. Submodule names are MONAI's,
// so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>

#include "med/networks/nets/regressor.h"

namespace med::networks::nets {

/// Options of Critic, MONAI's arguments and defaults (dropout 0.25 as Discriminator). `in_shape`
/// is (channels, *spatial) of one input; one `strides` entry per `channels` entry.
///
///   auto c = Critic(CriticOptions({1, 32, 32}, {4, 8, 16}, {2, 2, 2})); // (B,1,32,32) -> (B,1)
struct CriticOptions {
  CriticOptions(std::vector<int64_t> in_shape, std::vector<int64_t> channels,
                std::vector<int64_t> strides)
      : in_shape_(std::move(in_shape)), channels_(std::move(channels)),
        strides_(std::move(strides)) {}
  TORCH_ARG(std::vector<int64_t>, in_shape);
  TORCH_ARG(std::vector<int64_t>, channels);
  TORCH_ARG(std::vector<int64_t>, strides);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(int64_t, num_res_units) = 2;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  /// Dropout probability; nullopt (MONAI's None) adds no dropout layer.
  TORCH_ARG(std::optional<double>, dropout) = 0.25;
  TORCH_ARG(bool, bias) = true;
};

/// (B, *in_shape) -> (B, 1): the mean of the last layer's flattened features.
class CriticImpl : public RegressorImpl {
public:
  explicit CriticImpl(CriticOptions options);
  at::Tensor forward(const at::Tensor &x);
};
TORCH_MODULE(Critic);

} // namespace med::networks::nets
