// MONAI's VNet (Milletari et al. 2016): a 2D/3D encoder-decoder of residual stages built from
// 5^d convolutions, with strided 2^d convs to go down, transposed convs to go up, channel
// concatenation of the skips and dropout in the deep stages. Submodule names are MONAI's
// ("in_tr.conv_block.conv", "down_tr32.down_conv", "up_tr256.ops.0.conv_block",
// "out_tr.conv2"), so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// VNet's up-stage dropout probabilities: (before the up-conv or None, on the skip).
using VNetUpDropout = std::pair<std::optional<double>, double>;

/// The first stage: act(conv5(x) + x repeated to out_channels channels); out_channels must be
/// a multiple of in_channels.
class VNetInputTransitionImpl : public torch::nn::Module {
public:
  VNetInputTransitionImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                          const LayerSpec &act, bool bias);
  at::Tensor forward(const at::Tensor &x);

private:
  int64_t in_channels_, out_channels_;
  torch::nn::AnyModule act_function_;
  blocks::Convolution conv_block_{nullptr};
};
TORCH_MODULE(VNetInputTransition);

/// down = act(norm(conv2 stride 2 (x))) doubling channels; act(nconvs 5^d convs(dropout(down))
/// + down).
class VNetDownTransitionImpl : public torch::nn::Module {
public:
  VNetDownTransitionImpl(int64_t spatial_dims, int64_t in_channels, int64_t nconvs,
                         const LayerSpec &act, std::optional<double> dropout_prob,
                         int64_t dropout_dim, bool bias);
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule down_conv_, bn1_, act_function1_, act_function2_, dropout_;
  blocks::TensorSequential ops_{nullptr};
};
TORCH_MODULE(VNetDownTransition);

/// up = act(norm(transposed conv2 stride 2 (dropout(x)))) to out_channels / 2 channels,
/// cat = [up, dropout2(skip)], act(nconvs 5^d convs(cat) + cat).
class VNetUpTransitionImpl : public torch::nn::Module {
public:
  VNetUpTransitionImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                       int64_t nconvs, const LayerSpec &act, VNetUpDropout dropout_prob,
                       int64_t dropout_dim);
  at::Tensor forward(const at::Tensor &x, const at::Tensor &skip);

private:
  torch::nn::AnyModule up_conv_, bn1_, dropout_, dropout2_, act_function1_, act_function2_;
  blocks::TensorSequential ops_{nullptr};
};
TORCH_MODULE(VNetUpTransition);

/// conv5 + norm, act, then a 1x1 conv (with bias) to the output channels.
class VNetOutputTransitionImpl : public torch::nn::Module {
public:
  VNetOutputTransitionImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                           const LayerSpec &act, bool bias);
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule act_function1_, conv2_;
  blocks::Convolution conv_block_{nullptr};
};
TORCH_MODULE(VNetOutputTransition);

/// Options of VNet, MONAI's arguments and defaults. `act` "prelu" gets one parameter per
/// channel, as MONAI. `dropout_prob_down` applies in the two deepest down stages,
/// `dropout_prob_up` = (before the up-conv, on the skip) in the two deepest up stages (the two
/// upper ones drop only the skip, with 0.5). MONAI's deprecated `dropout_prob` is
/// `dropout_prob_down`.
///
///   auto net = VNet(VNetOptions().in_channels(1).out_channels(2));
struct VNetOptions {
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, out_channels) = 1;
  TORCH_ARG(LayerSpec, act) = LayerSpec("elu", {{"inplace", true}});
  TORCH_ARG(std::optional<double>, dropout_prob_down) = 0.5;
  TORCH_ARG(VNetUpDropout, dropout_prob_up) = {0.5, 0.5};
  TORCH_ARG(int64_t, dropout_dim) = 3;
  TORCH_ARG(bool, bias) = false;
};

/// (B, in_channels, *S) -> (B, out_channels, *S); every spatial size must be divisible by 16.
class VNetImpl : public torch::nn::Module {
public:
  explicit VNetImpl(VNetOptions options = {});
  at::Tensor forward(const at::Tensor &x);
  VNetOptions options;

private:
  VNetInputTransition in_tr_{nullptr};
  VNetDownTransition down_tr32_{nullptr}, down_tr64_{nullptr}, down_tr128_{nullptr},
      down_tr256_{nullptr};
  VNetUpTransition up_tr256_{nullptr}, up_tr128_{nullptr}, up_tr64_{nullptr}, up_tr32_{nullptr};
  VNetOutputTransition out_tr_{nullptr};
};
TORCH_MODULE(VNet);

} // namespace med::networks::nets
