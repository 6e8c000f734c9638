// FocalLoss (Lin et al. 2017) with MONAI 1.4.0's names, defaults and quirks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace med::losses {

/// FocalLoss's parameters. `alpha`: nullopt for None; `weight`: empty for None, one value for a
/// scalar, else one per (kept) class.
struct FocalLossOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(double, gamma) = 2.0;
  TORCH_ARG(std::optional<double>, alpha) = std::nullopt;
  TORCH_ARG(std::vector<double>, weight) = {};
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, use_softmax) = false;
};

/// Down-weights well-classified voxels by (1 - p_t)^gamma. Sigmoid form (default) on logits:
/// binary cross-entropy per channel; softmax form (`use_softmax`): -(1 - p)^gamma log p over the
/// classes. Computed in float32 whatever the input dtype (as MONAI does, so a float64 input gives
/// a float32 loss). MONAI quirk kept: reduction "sum" sums over batch and classes the *spatial
/// mean*, not the plain sum. With reduction "mean" or "sum" on CPU float inputs the voxel work
/// runs on generated kernels (docs/losses.md); otherwise on forward_eager.
///
///   med::losses::FocalLoss loss(med::losses::FocalLossOptions().to_onehot_y(true).gamma(2));
class FocalLossImpl : public torch::nn::Module {
public:
  explicit FocalLossImpl(FocalLossOptions options = {});
  /// The loss: through the generated kernels where they apply, else forward_eager.
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  /// MONAI's formulation op by op in ATen (backward by autograd): the fallback path, and what
  /// benchmarks compare the generated path with.
  at::Tensor forward_eager(const at::Tensor &input, const at::Tensor &target);
  FocalLossOptions options;
};
TORCH_MODULE(FocalLoss);

} // namespace med::losses
