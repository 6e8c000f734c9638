// GeneralizedWassersteinDiceLoss (Fidon et al. 2017): Dice where a mistake between two classes
// costs their distance in a user-given class-distance matrix.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace med::losses {

/// GeneralizedWassersteinDiceLoss's parameters. `dist_matrix` (C, C) is required; it is scaled
/// so that its maximum is 1. weighting_mode: "default" (paper: weight 0 for the background, 1
/// otherwise) or "GDL" (1 / (class volume + 1), also in the error term).
struct GeneralizedWassersteinDiceLossOptions {
  explicit GeneralizedWassersteinDiceLossOptions(at::Tensor dist_matrix)
      : dist_matrix_(std::move(dist_matrix)) {}
  TORCH_ARG(at::Tensor, dist_matrix);
  TORCH_ARG(std::string, weighting_mode) = "default";
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-5;
  TORCH_ARG(double, smooth_dr) = 1e-5;
};

/// Input: logits (B, C, *spatial) (softmax is applied inside, as in MONAI); target: labels
/// (B, *spatial) or (B, 1, *spatial). One value per sample before the reduction. Computed per
/// sample (for batch size 1 this is MONAI's formula exactly; see docs/losses.md for B > 1).
///
///   at::Tensor m = at::tensor({0., 1., 1., 1., 0., .5, 1., .5, 0.}).view({3, 3});
///   med::losses::GeneralizedWassersteinDiceLoss gwdl(
///       med::losses::GeneralizedWassersteinDiceLossOptions(m));
class GeneralizedWassersteinDiceLossImpl : public torch::nn::Module {
public:
  explicit GeneralizedWassersteinDiceLossImpl(GeneralizedWassersteinDiceLossOptions options);
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  GeneralizedWassersteinDiceLossOptions options;

private:
  at::Tensor m_; // normalised distance matrix, float32 (C, C)
};
TORCH_MODULE(GeneralizedWassersteinDiceLoss);

} // namespace med::losses
