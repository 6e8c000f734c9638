// Helpers the network tests share.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>

namespace med::networks::testing {

/// Number of trainable values of `m` (what MONAI's tests and papers quote as the model size).
inline int64_t countParams(torch::nn::Module &m) {
  int64_t n = 0;
  for (const auto &p : m.parameters())
    n += p.numel();
  return n;
}

} // namespace med::networks::testing
