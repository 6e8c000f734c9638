// MONAI's AutoEncoder (strided encoder, optional intermediate units, transposed-conv decoder, no
// skips) and VarAutoEncoder (the same with a Gaussian latent: mu / logvar heads and a linear
// decoder input). Submodule names are MONAI's ("encode.encode_0", "decode.decode_0.conv",
// "mu", "logvar", "decodeL").
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of AutoEncoder, MONAI's arguments and defaults. One `strides` entry per `channels`
/// entry; the decoder mirrors the encoder (channels reversed, ending at out_channels).
/// `inter_channels` (with `inter_dilations`, default 1) adds stride-1 units at the bottleneck.
///
///   auto ae = AutoEncoder(AutoEncoderOptions(2, 1, 1, {4, 8, 16}, {2, 2, 2}));
struct AutoEncoderOptions {
  AutoEncoderOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
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
  TORCH_ARG(int64_t, num_res_units) = 0;
  TORCH_ARG(std::vector<int64_t>, inter_channels) = {};
  TORCH_ARG(std::vector<int64_t>, inter_dilations) = {};
  TORCH_ARG(int64_t, num_inter_units) = 2;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  /// Dropout probability; nullopt (MONAI's None) adds no dropout layer.
  TORCH_ARG(std::optional<double>, dropout) = std::nullopt;
  TORCH_ARG(bool, bias) = true;
  /// Convolution padding; nullopt is "same" padding.
  TORCH_ARG(std::optional<std::vector<int64_t>>, padding) = std::nullopt;
};

/// (B, in_channels, *spatial) -> (B, out_channels, *spatial) for sizes divisible by the
/// product of strides.
class AutoEncoderImpl : public torch::nn::Module {
public:
  explicit AutoEncoderImpl(AutoEncoderOptions options);
  at::Tensor forward(const at::Tensor &x);
  AutoEncoderOptions options;

protected:
  blocks::TensorSequential encode_{nullptr}, decode_{nullptr};
  torch::nn::AnyModule intermediate_;
  int64_t encoded_channels_ = 0;
};
TORCH_MODULE(AutoEncoder);

/// Options of VarAutoEncoder: `in_shape` is (channels, *spatial) of one input; `latent_size`
/// the size of the latent vector; `use_sigmoid` squashes the reconstruction.
///
///   auto vae = VarAutoEncoder(VarAutoEncoderOptions(2, {1, 32, 32}, 1, 8, {4, 8}, {2, 2}));
struct VarAutoEncoderOptions {
  VarAutoEncoderOptions(int64_t spatial_dims, std::vector<int64_t> in_shape, int64_t out_channels,
                        int64_t latent_size, std::vector<int64_t> channels,
                        std::vector<int64_t> strides)
      : spatial_dims_(spatial_dims), in_shape_(std::move(in_shape)), out_channels_(out_channels),
        latent_size_(latent_size), channels_(std::move(channels)), strides_(std::move(strides)) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(std::vector<int64_t>, in_shape);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, latent_size);
  TORCH_ARG(std::vector<int64_t>, channels);
  TORCH_ARG(std::vector<int64_t>, strides);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(std::vector<int64_t>, up_kernel_size) = {3};
  TORCH_ARG(int64_t, num_res_units) = 0;
  TORCH_ARG(std::vector<int64_t>, inter_channels) = {};
  TORCH_ARG(std::vector<int64_t>, inter_dilations) = {};
  TORCH_ARG(int64_t, num_inter_units) = 2;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  TORCH_ARG(std::optional<double>, dropout) = std::nullopt;
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(bool, use_sigmoid) = true;
};

/// forward(x) -> (reconstruction, mu, logvar, z); z = mu + exp(logvar/2) in eval mode (MONAI
/// skips only the noise), mu + eps * exp(logvar/2) in train mode.
class VarAutoEncoderImpl : public AutoEncoderImpl {
public:
  explicit VarAutoEncoderImpl(VarAutoEncoderOptions options);
  std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor &x);
  /// The encoder half: (mu, logvar).
  std::tuple<at::Tensor, at::Tensor> encode_forward(const at::Tensor &x);
  /// The decoder half from a latent vector.
  at::Tensor decode_forward(const at::Tensor &z, bool use_sigmoid = true);
  VarAutoEncoderOptions vae_options;

private:
  std::vector<int64_t> final_size_;
  torch::nn::Linear mu_{nullptr}, logvar_{nullptr}, decodeL_{nullptr};
};
TORCH_MODULE(VarAutoEncoder);

} // namespace med::networks::nets
