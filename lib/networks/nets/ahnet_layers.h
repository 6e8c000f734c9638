// The layer constructors AHNet's pieces share (internal to ahnet*.cpp): dimension-generic
// convolutions with MONAI's AHNet initialisation, batch norms, max pools, ReLUs, up-sampling and
// the nn.Sequential-style blocks (UpTransition, Projection, Final, DenseBlock).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>

namespace med::networks::nets::ahnet_detail {

using Dims = std::vector<int64_t>;

/// MONAI's `(a, b, c)[-spatial_dims:]`: the last d entries of a 3-tuple.
Dims tail(const Dims &three, int64_t d);
/// MONAI's `(a, b, c)[:spatial_dims]`: the first d entries of a 3-tuple.
Dims head(const Dims &three, int64_t d);

/// A d-D convolution (one-entry sizes repeat over the axes); weights ~ N(0, 2 / (k0 * k1 *
/// out_channels)), AHNet's initialisation.
torch::nn::AnyModule conv(int64_t d, int64_t in, int64_t out, Dims k, Dims s = {1}, Dims p = {0},
                          bool bias = false);
/// The transposed counterpart of conv(), with the same initialisation.
torch::nn::AnyModule convTranspose(int64_t d, int64_t in, int64_t out, Dims k, Dims s, Dims p = {0},
                                   bool bias = false);
torch::nn::AnyModule batchNorm(int64_t d, int64_t channels);
torch::nn::AnyModule maxPool(int64_t d, Dims k, Dims s, Dims p = {0});
/// MONAI's ReLU(inplace=True).
torch::nn::AnyModule relu();

/// Whether `mode` is one AHNet accepts for `d` dimensions; fills `why` otherwise.
bool validUpsampleMode(const std::string &mode, int64_t d, std::string &why);

/// norm-relu-1x1 conv (in -> out) then x2 up-sampling ("up"): a transposed 2^d conv or nn.Upsample.
torch::nn::Sequential upTransition(int64_t d, int64_t in, int64_t out, const std::string &mode);
/// norm-relu-1x1 conv (in -> out), no resampling.
torch::nn::Sequential projection(int64_t d, int64_t in, int64_t out);
/// norm-relu-3x3x1 conv (in -> out) then x2 up-sampling, the network's output layer.
torch::nn::Sequential finalBlock(int64_t d, int64_t in, int64_t out, const std::string &mode);
/// `num_layers` Pseudo3DLayers ("denselayer1", ...), each adding growth_rate channels.
torch::nn::Sequential denseBlock(int64_t d, int64_t num_layers, int64_t in, int64_t bn_size,
                                 int64_t growth_rate, double dropout_prob);

} // namespace med::networks::nets::ahnet_detail
