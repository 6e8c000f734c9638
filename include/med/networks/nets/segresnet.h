// MONAI's SegResNet (Myronenko 2018, without the VAE branch): pre-activation residual blocks
// (norm -> act -> conv, twice, plus identity) in an encoder of strided convs, a decoder of
// 1x1 conv + up-sampling whose output is added (not concatenated) to the encoder skip.
// Submodule names are MONAI's ("convInit.conv", "down_layers.1.0", "up_samples.0.1",
// "conv_final.2.conv").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of SegResNet, MONAI's arguments and defaults. Level i of the encoder has
/// init_filters * 2^i channels and blocks_down[i] ResBlocks; the decoder has blocks_up[j]
/// ResBlocks per level. `norm_name` "group" (with `num_groups`) overrides `norm`.
/// `upsample_mode` is "nontrainable" (trilinear / bilinear, align_corners false) or "deconv".
///
///   auto net = SegResNet(SegResNetOptions().init_filters(16).in_channels(4).out_channels(3));
struct SegResNetOptions {
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, init_filters) = 8;
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, out_channels) = 2;
  TORCH_ARG(std::optional<double>, dropout_prob) = std::nullopt;
  TORCH_ARG(LayerSpec, act) = LayerSpec("RELU", {{"inplace", true}});
  TORCH_ARG(LayerSpec, norm) = LayerSpec("GROUP", {{"num_groups", 8}});
  TORCH_ARG(std::string, norm_name) = "";
  TORCH_ARG(int64_t, num_groups) = 8;
  TORCH_ARG(bool, use_conv_final) = true;
  TORCH_ARG(std::vector<int64_t>, blocks_down) = {1, 2, 2, 4};
  TORCH_ARG(std::vector<int64_t>, blocks_up) = {1, 1, 1};
  TORCH_ARG(std::string, upsample_mode) = "nontrainable";
};

/// (B, in_channels, *S) -> (B, out_channels, *S) (init_filters channels without the final
/// conv); every spatial size must be divisible by 2^(len(blocks_down) - 1).
class SegResNetImpl : public torch::nn::Module {
public:
  explicit SegResNetImpl(SegResNetOptions options = {});
  at::Tensor forward(const at::Tensor &x);
  SegResNetOptions options;

protected:
  // Protected so that SegResNetVAE (segresnet_vae.h) can run the encoder and reuse the decoder.
  /// MONAI's encode without the input checks: the deepest features and every level's output,
  /// shallow to deep.
  std::pair<at::Tensor, std::vector<at::Tensor>> runEncoder(const at::Tensor &x);
  blocks::Convolution convInit_{nullptr};
  std::vector<blocks::TensorSequential> down_, up_layers_, up_samples_;
  blocks::TensorSequential conv_final_{nullptr};
  torch::nn::AnyModule dropout_;
};
TORCH_MODULE(SegResNet);

namespace detail {
/// MONAI's segresnet get_conv_layer: a conv with "same" padding, no ADN, bias-free by default.
blocks::Convolution segresnetConv(int64_t d, int64_t in, int64_t out, int64_t k = 3,
                                  int64_t stride = 1, bool bias = false);
/// MONAI's get_upsample_layer (x2, channels kept) as SegResNet registers it: a wrapper whose one
/// child is "deconv" or "upsample_non_trainable". Throws med::Error(`owner` + ".upsample_mode")
/// for another mode.
blocks::TensorSequential segresnetUpsample(int64_t d, int64_t ch, const std::string &mode,
                                           const std::string &owner);
} // namespace detail

} // namespace med::networks::nets
