// Shared helpers of the engine tests: a tiny separable segmentation problem and small networks.
#pragma once

#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/modules/conv.h>

#include "med/core/dict.h"

namespace med::engines::test {

/// `n` batches of `b` items: image (b, 1, 4, 4) ~ N(0, 1), label (b, 1, 4, 4) = image > 0.
inline std::vector<med::Data> separable_batches(int n, int b, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<med::Data> out;
  for (int i = 0; i < n; ++i) {
    at::Tensor img = at::randn({b, 1, 4, 4}, gen, at::kFloat);
    out.push_back({{"image", MetaTensor(img)}, {"label", MetaTensor((img > 0).to(at::kFloat))}});
  }
  return out;
}

/// A 1x1 convolution 1 -> 2 channels: enough to separate the classes above.
inline torch::nn::Conv2d tiny_net() { return torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 2, 1)); }

/// An independent deep copy of `net`'s parameters.
inline torch::nn::Conv2d copy_of(const torch::nn::Conv2d &net) {
  return torch::nn::Conv2d(std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(net->clone()));
}

} // namespace med::engines::test
