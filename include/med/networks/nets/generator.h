// MONAI's Generator: a latent vector -> Linear -> Reshape to `start_shape` -> a stack of
// transposed convolutions (each followed by a ResidualUnit when num_res_units > 0) that
// up-samples to the output image, e.g. the generator half of a GAN. Names are MONAI's
// ("linear", "conv.layer_0.0", "conv.layer_0.1.conv.unit0").
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of Generator. `latent_shape` is the shape of one latent input (without batch),
/// `start_shape` (channels, *spatial) the image the Linear output is reshaped to; one `strides`
/// entry per `channels` entry (the last channels entry is the output channel count).
///
///   auto g = Generator(GeneratorOptions({16}, {8, 4, 4, 4}, {8, 4, 1}, {2, 2, 2}));
struct GeneratorOptions {
  GeneratorOptions(std::vector<int64_t> latent_shape, std::vector<int64_t> start_shape,
                   std::vector<int64_t> channels, std::vector<int64_t> strides)
      : latent_shape_(std::move(latent_shape)), start_shape_(std::move(start_shape)),
        channels_(std::move(channels)), strides_(std::move(strides)) {}
  TORCH_ARG(std::vector<int64_t>, latent_shape);
  TORCH_ARG(std::vector<int64_t>, start_shape);
  TORCH_ARG(std::vector<int64_t>, channels);
  TORCH_ARG(std::vector<int64_t>, strides);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(int64_t, num_res_units) = 2;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  /// Dropout probability; nullopt (MONAI's None) adds no dropout layer.
  TORCH_ARG(std::optional<double>, dropout) = std::nullopt;
  TORCH_ARG(bool, bias) = true;
};

/// (B, *latent_shape) -> (B, channels.back(), start spatial sizes * product of strides).
class GeneratorImpl : public torch::nn::Module {
public:
  explicit GeneratorImpl(GeneratorOptions options);
  at::Tensor forward(const at::Tensor &x);
  GeneratorOptions options;

private:
  torch::nn::Linear linear_{nullptr};
  blocks::TensorSequential conv_{nullptr};
};
TORCH_MODULE(Generator);

} // namespace med::networks::nets
