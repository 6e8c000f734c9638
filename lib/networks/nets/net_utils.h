// Pieces several architectures share (internal to lib/networks/nets).
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>

namespace med::networks::nets::detail {

/// A bias-free convolution with padding kernel / 2 (MONAI's ResNet and SENet convolutions).
torch::nn::AnyModule biasFreeConv(int64_t dims, int64_t in, int64_t out, int64_t kernel,
                                  int64_t stride);

/// MONAI's initialisation of its ImageNet-style classifiers (DenseNet, SENet): Kaiming-normal
/// convolution weights, batch norms at weight 1 and bias 0, linear biases 0.
void initClassifierWeights(torch::nn::Module &net);

} // namespace med::networks::nets::detail
