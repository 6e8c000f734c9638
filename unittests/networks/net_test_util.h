// Helpers the network tests share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "error_where.h"
#include "med/core/error.h"

namespace med::networks::testing {

/// Number of trainable values of `m` (what MONAI's tests and papers quote as the model size).
inline int64_t countParams(torch::nn::Module &m) {
  int64_t n = 0;
  for (const auto &p : m.parameters())
    n += p.numel();
  return n;
}

/// Fills every batch norm's running_mean with U(-0.3, 0.3) from LibTorch's global generator, so
/// that an eval-mode comparison with plain ATen exercises the running statistics (fresh ones
/// make batch norm the identity).
inline void randomizeRunningMeans(torch::nn::Module &m) {
  for (auto &b : m.named_buffers())
    if (b.key().find("running_mean") != std::string::npos)
      b.value().uniform_(-0.3, 0.3);
}

/// State-dict keys in PyTorch's order: modules in pre-order, each one's parameters then buffers
/// (LibTorch's named_parameters() lists every parameter before any buffer).
inline std::vector<std::string> stateDictKeys(torch::nn::Module &m) {
  std::vector<std::string> keys;
  for (const auto &item : m.named_modules("", /*include_self=*/true)) {
    std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto &p : item.value()->named_parameters(false))
      keys.push_back(prefix + p.key());
    for (const auto &b : item.value()->named_buffers(false))
      keys.push_back(prefix + b.key());
  }
  return keys;
}

using med::testing::errorWhere;

} // namespace med::networks::testing
