// MONAI's HighResNet (Li et al. 2017): a full-resolution segmentation network (no down-sampling)
// of pre-activation residual blocks whose dilation doubles from one group to the next, between an
// initial conv and two 1x1 output convs. Submodule names are MONAI's ("blocks.0.conv",
// "blocks.1.layers.0.N", "blocks.1.layers.1.conv", "blocks.1.chn_pad"), so state_dict keys
// match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// MONAI's ChannelPad: matches a residual's channel count to a block's output, by zero channels
/// split around the input ("pad"; fewer channels crop, as torch's pad with negative sizes) or
/// by a 1x1 conv with bias ("project", registered as "project"). Identity when counts agree.
///
///   ChannelPad pad(3, 16, 32, "pad");
class ChannelPadImpl : public torch::nn::Module {
public:
  ChannelPadImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                 const std::string &mode = "pad");
  at::Tensor forward(const at::Tensor &x);

private:
  int64_t pad1_ = 0, pad2_ = 0;
  torch::nn::AnyModule project_;
};
TORCH_MODULE(ChannelPad);

/// MONAI's HighResBlock: for each kernel, norm -> act -> dilated conv (no bias by default),
/// plus the channel-matched input.
class HighResBlockImpl : public torch::nn::Module {
public:
  HighResBlockImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                   const std::vector<int64_t> &kernels, int64_t dilation,
                   const LayerSpec &norm_type, const LayerSpec &acti_type, bool bias,
                   const std::string &channel_matching);
  at::Tensor forward(const at::Tensor &x);

private:
  ChannelPad chn_pad_{nullptr};
  blocks::TensorSequential layers_{nullptr};
};
TORCH_MODULE(HighResBlock);

/// One entry of HighResNet's layer_params (MONAI's dicts). The first entry is the initial conv
/// (n_features, kernel_size); the middle ones are residual groups (n_features, kernels, repeat;
/// group i has dilation 2^i); the last two are the output convs (the very last one's
/// n_features is ignored: out_channels is used).
struct HighResNetLayer {
  std::string name;
  int64_t n_features = 0;
  int64_t kernel_size = 1;
  std::vector<int64_t> kernels;
  int64_t repeat = 1;
};

/// MONAI's DEFAULT_LAYER_PARAMS_3D: conv_0 (16, k3), res_1..3 (16/32/64 features, kernels
/// {3, 3}, 3 repeats), conv_1 (80, k1), conv_2 (k1).
std::vector<HighResNetLayer> highResNetDefaultLayers();

/// Options of HighResNet, MONAI's arguments and defaults. `dropout_prob` is the dropout after
/// each of the two output convs' norm and act (a p = 0 layer is still created, as MONAI).
/// `channel_matching` is "pad" or "project".
///
///   auto net = HighResNet(HighResNetOptions().in_channels(1).out_channels(4));
struct HighResNetOptions {
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, out_channels) = 1;
  TORCH_ARG(LayerSpec, norm_type) = LayerSpec("batch", {{"affine", true}});
  TORCH_ARG(LayerSpec, acti_type) = LayerSpec("relu", {{"inplace", true}});
  TORCH_ARG(double, dropout_prob) = 0.0;
  TORCH_ARG(bool, bias) = false;
  TORCH_ARG(std::vector<HighResNetLayer>, layer_params) = highResNetDefaultLayers();
  TORCH_ARG(std::string, channel_matching) = "pad";
};

/// (B, in_channels, *S) -> (B, out_channels, *S), any spatial size.
class HighResNetImpl : public torch::nn::Module {
public:
  explicit HighResNetImpl(HighResNetOptions options = {});
  at::Tensor forward(const at::Tensor &x);
  HighResNetOptions options;

private:
  blocks::TensorSequential blocks_{nullptr};
};
TORCH_MODULE(HighResNet);

} // namespace med::networks::nets
