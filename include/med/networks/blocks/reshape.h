// MONAI's Reshape layer: keeps the batch axis and reshapes the rest, so a Sequential can turn a
// flat Linear output into an image (Generator) or a vector into the requested output shape
// (Regressor).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace med::networks::blocks {

/// x (B, ...) -> x.reshape(B, shape...).
///
///   Reshape(std::vector<int64_t>{8, 4, 4, 4})   // (B, 512) -> (B, 8, 4, 4, 4)
class ReshapeImpl : public torch::nn::Module {
public:
  explicit ReshapeImpl(std::vector<int64_t> shape) : shape_(std::move(shape)) {}
  at::Tensor forward(const at::Tensor &x) {
    std::vector<int64_t> s{x.size(0)};
    s.insert(s.end(), shape_.begin(), shape_.end());
    return x.reshape(s);
  }

private:
  std::vector<int64_t> shape_;
};
TORCH_MODULE(Reshape);

} // namespace med::networks::blocks
