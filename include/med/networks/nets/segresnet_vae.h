// MONAI's SegResNetVAE (Myronenko 2018 with the VAE branch): SegResNet plus a variational
// auto-encoder that reconstructs the input from the deepest encoder features, used as a
// regulariser during training. The VAE decoder shares SegResNet's up_samples / up_layers (without
// skips). State-dict keys are MONAI's: SegResNet's, then "vae_down.*", "vae_fc1..3.*",
// "vae_fc_up_sample.*" and "vae_conv_final.*".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/nets/segresnet.h"

namespace med::networks::nets {

/// Options of SegResNetVAE, MONAI's arguments and defaults. `input_image_size` (one size per
/// spatial axis) fixes the VAE's fully connected layers, so the network only accepts inputs of
/// exactly that size; each size must be divisible by 2^len(blocks_down). Without
/// `vae_estimate_std` the latent noise is scaled by `vae_default_std` and `vae_fc2` is unused
/// (MONAI still creates it). `vae_nz` is the latent size.
///
///   auto net = SegResNetVAE(SegResNetVAEOptions({128, 128, 128}).in_channels(4).out_channels(3));
///   auto [seg, vae_loss] = net->forward(x);          // train mode: loss = seg_loss + 0.1 *
///   vae_loss
struct SegResNetVAEOptions {
  explicit SegResNetVAEOptions(std::vector<int64_t> input_image_size)
      : input_image_size_(std::move(input_image_size)) {}
  TORCH_ARG(std::vector<int64_t>, input_image_size);
  TORCH_ARG(bool, vae_estimate_std) = false;
  TORCH_ARG(double, vae_default_std) = 0.3;
  TORCH_ARG(int64_t, vae_nz) = 256;
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, init_filters) = 8;
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, out_channels) = 2;
  TORCH_ARG(std::optional<double>, dropout_prob) = std::nullopt;
  TORCH_ARG(LayerSpec, act) = LayerSpec("RELU", {{"inplace", true}});
  TORCH_ARG(LayerSpec, norm) = LayerSpec("GROUP", {{"num_groups", 8}});
  TORCH_ARG(bool, use_conv_final) = true;
  TORCH_ARG(std::vector<int64_t>, blocks_down) = {1, 2, 2, 4};
  TORCH_ARG(std::vector<int64_t>, blocks_up) = {1, 1, 1};
  TORCH_ARG(std::string, upsample_mode) = "nontrainable";
};

/// (B, in_channels, *input_image_size) -> (segmentation, vae_loss). As MONAI, the VAE loss is
/// computed only in train mode (it draws fresh latent noise with at::randn_like on every call);
/// in eval mode the second element is an undefined tensor (MONAI's None). vae_loss() computes it
/// on demand, e.g. for validation.
class SegResNetVAEImpl : public SegResNetImpl {
public:
  explicit SegResNetVAEImpl(SegResNetVAEOptions options);
  std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor &x);
  /// MONAI's encode: the deepest features (the VAE's input) and every level's output, shallow
  /// to deep.
  std::pair<at::Tensor, std::vector<at::Tensor>> encode(const at::Tensor &x);
  /// MONAI's _get_vae_loss: regularisation (mean z_mean^2, or the KL term when estimating the
  /// std) plus the MSE between `net_input` and its reconstruction from `vae_input` (encode's
  /// first result).
  at::Tensor vae_loss(const at::Tensor &net_input, const at::Tensor &vae_input);
  /// The VAE network's options (SegResNetImpl::options holds the derived SegResNet ones).
  SegResNetVAEOptions options;

private:
  void checkInput(const at::Tensor &x) const;
  std::vector<int64_t> fc_insize_;
  int64_t total_elements_ = 0;
  blocks::TensorSequential vae_down_{nullptr}, vae_fc_up_sample_{nullptr}, vae_conv_final_{nullptr};
  torch::nn::Linear vae_fc1_{nullptr}, vae_fc2_{nullptr}, vae_fc3_{nullptr};
  torch::nn::AnyModule act_;
};
TORCH_MODULE(SegResNetVAE);

} // namespace med::networks::nets
