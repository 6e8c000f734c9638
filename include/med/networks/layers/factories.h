// Layer factories: build activation, normalisation, convolution, pooling and dropout layers from
// a name (+ keyword arguments) and the number of spatial dimensions, as MONAI's `Act`, `Norm`,
// `Conv`, `Pool`, `Dropout` factories and `get_*_layer` helpers do. Networks take their layer
// choices as such specs (e.g. UNet's `act=("PRELU", {...})`), so one network definition serves 1D,
// 2D and 3D and any activation or normalisation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/ivalue.h>
#include <torch/nn/modules/container/any.h>

namespace med::networks::layers {

/// Keyword arguments of a layer, as MONAI's args dict: bool, int, double, int list or string.
///
///   Args{{"inplace", true}, {"negative_slope", 0.1}, {"kernel_size", std::vector<int64_t>{3, 1}}}
using Args = std::map<std::string, c10::IValue>;

/// A layer choice: MONAI's `"NAME"` or `("NAME", {args})`. Names are case-insensitive.
///
///   LayerSpec("PRELU");  LayerSpec("LEAKYRELU", {{"negative_slope", 0.1}});
struct LayerSpec {
  LayerSpec(const char *name) : name(name) {}
  LayerSpec(std::string name, Args args = {}) : name(std::move(name)), args(std::move(args)) {}
  std::string name;
  Args args;
};

/// An activation: ELU, RELU, LEAKYRELU, PRELU, RELU6, SELU, CELU, GELU, SIGMOID, TANH, SOFTMAX,
/// LOGSOFTMAX, SWISH, MEMSWISH, MISH, GEGLU, IDENTITY. Arguments are those of the PyTorch / MONAI
/// class (`inplace`, `negative_slope`, `alpha`, `num_parameters`, `init`, `dim`, ...; SOFTMAX and
/// LOGSOFTMAX default to `dim` 1, the channel axis). Unknown names or arguments throw med::Error.
///
///   torch::nn::AnyModule a = act("PRELU");
///   torch::nn::AnyModule b = act({"SELU", {{"inplace", true}}});
torch::nn::AnyModule act(const LayerSpec &spec);

/// A normalisation over `channels` feature channels with `spatial_dims` spatial axes: INSTANCE,
/// BATCH (InstanceNorm/BatchNorm{1,2,3}d, `channels` as num_features), GROUP (GroupNorm, needs
/// `num_groups`, `channels` as num_channels), LAYER (needs `normalized_shape`), LOCALRESPONSE
/// (needs `size`). Other arguments: eps, momentum, affine, track_running_stats, alpha, beta, k.
///
///   norm("INSTANCE", 3, 16);  norm({"GROUP", {{"num_groups", 4}}}, 3, 16);
torch::nn::AnyModule norm(const LayerSpec &spec, int64_t spatial_dims, int64_t channels);

/// A convolution: CONV (Conv{1,2,3}d) or CONVTRANS (ConvTranspose{1,2,3}d). Needs `in_channels`,
/// `out_channels`, `kernel_size`; also stride, padding (ints, or "same"/"valid" for CONV),
/// output_padding (CONVTRANS), dilation, groups, bias, padding_mode.
///
///   conv({"CONV", {{"in_channels", 1}, {"out_channels", 8}, {"kernel_size", 3}}}, 3);
torch::nn::AnyModule conv(const LayerSpec &spec, int64_t spatial_dims);

/// A pooling layer: MAX, AVG (need `kernel_size`; stride, padding, dilation (MAX), ceil_mode,
/// count_include_pad (AVG)), ADAPTIVEMAX, ADAPTIVEAVG (need `output_size`).
///
///   pool({"MAX", {{"kernel_size", 2}}}, 2);
torch::nn::AnyModule pool(const LayerSpec &spec, int64_t spatial_dims);

/// A dropout: DROPOUT (Dropout, Dropout2d, Dropout3d for dropout_dim 1, 2, 3) or ALPHADROPOUT;
/// arguments `p` (default 0.5) and `inplace`.
///
///   dropout({"DROPOUT", {{"p", 0.2}}}, 3);
torch::nn::AnyModule dropout(const LayerSpec &spec, int64_t dropout_dim = 1);

/// MONAI's get_act_layer.
inline torch::nn::AnyModule get_act_layer(const LayerSpec &name) { return act(name); }
/// MONAI's get_norm_layer (an empty name gives Identity, as MONAI).
torch::nn::AnyModule get_norm_layer(const LayerSpec &name, int64_t spatial_dims = 1,
                                    int64_t channels = 1);
/// MONAI's get_pool_layer.
inline torch::nn::AnyModule get_pool_layer(const LayerSpec &name, int64_t spatial_dims = 1) {
  return pool(name, spatial_dims);
}
/// MONAI's get_dropout_layer.
inline torch::nn::AnyModule get_dropout_layer(const LayerSpec &name, int64_t dropout_dim = 1) {
  return dropout(name, dropout_dim);
}
/// MONAI's get_dropout_layer with a probability only: ("DROPOUT", {"p": p}).
torch::nn::AnyModule get_dropout_layer(double p, int64_t dropout_dim = 1);

} // namespace med::networks::layers
