// ContrastiveLoss (NT-Xent, Chen et al. 2020, SimCLR) and MultiScaleLoss (a loss evaluated on
// several Gaussian- or Cauchy-smoothed copies of its inputs), MONAI 1.4.0 semantics.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace med::losses {

/// ContrastiveLoss's parameters (MONAI's deprecated batch_size is not carried).
struct ContrastiveLossOptions {
  TORCH_ARG(double, temperature) = 0.5;
};

/// Normalised temperature-scaled cross-entropy between two views (B, F) of the same B samples:
/// row i of input and row i of target are a positive pair, every other row a negative. The
/// (2B, 2B) cosine similarities are one matrix product of the unit-length rows (BLAS, with
/// autograd), not MONAI's (2B, 2B, F) broadcast; the rest is MONAI's formula (docs/losses.md).
///
///   med::losses::ContrastiveLoss nt(med::losses::ContrastiveLossOptions().temperature(0.1));
///   at::Tensor l = nt(view1_features, view2_features);
class ContrastiveLossImpl : public torch::nn::Module {
public:
  explicit ContrastiveLossImpl(ContrastiveLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  /// The same loss by MONAI's formulation: cosine_similarity over the broadcast (2B, 2B, F)
  /// pairs. The tests' and the benchmark's reference.
  at::Tensor forward_eager(const at::Tensor &input, const at::Tensor &target);
  ContrastiveLossOptions options;

private:
  void check(const at::Tensor &input, const at::Tensor &target) const;
};
TORCH_MODULE(ContrastiveLoss);

/// A two-argument loss, called as loss(pred, target).
using PairLoss = std::function<at::Tensor(const at::Tensor &, const at::Tensor &)>;

/// MultiScaleLoss's parameters. `scales` are kernel sigmas (0 = unsmoothed); empty means one
/// unsmoothed evaluation. kernel: "gaussian" or "cauchy".
struct MultiScaleLossOptions {
  explicit MultiScaleLossOptions(PairLoss loss) : loss_(std::move(loss)) {}
  TORCH_ARG(PairLoss, loss);
  TORCH_ARG(std::vector<double>, scales) = {};
  TORCH_ARG(std::string, kernel) = "gaussian";
  TORCH_ARG(std::string, reduction) = "mean";
};

/// Evaluates `loss` on copies of (y_pred, y_true) smoothed by a separable kernel of each scale and
/// reduces the stacked values. Called as forward(y_true, y_pred), MONAI's argument order.
///
///   med::losses::LocalNormalizedCrossCorrelationLoss lncc;
///   med::losses::MultiScaleLoss ms(med::losses::MultiScaleLossOptions(
///       [&](const at::Tensor &p, const at::Tensor &t) { return lncc(p, t); }).scales({0, 1, 2}));
class MultiScaleLossImpl : public torch::nn::Module {
public:
  explicit MultiScaleLossImpl(MultiScaleLossOptions options);
  at::Tensor forward(const at::Tensor &y_true, const at::Tensor &y_pred);
  MultiScaleLossOptions options;
};
TORCH_MODULE(MultiScaleLoss);

/// The 1-D smoothing kernel MultiScaleLoss uses for `sigma` (> 0): a sampled Gaussian on
/// [-int(3 sigma + 0.5), ...] or a Cauchy kernel on [-int(5 sigma), ...], normalised to sum 1.
at::Tensor multi_scale_kernel(const std::string &kernel, double sigma);

} // namespace med::losses
