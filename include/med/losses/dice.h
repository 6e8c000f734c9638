// Overlap losses on soft segmentations: DiceLoss, MaskedDiceLoss and GeneralizedDiceLoss, with
// MONAI 1.4.0's names, defaults and reductions. DiceLoss's voxel sums and gradient run on
// generated kernels; the rest is ATen with autograd.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/losses/reduction.h"

namespace med::losses {

namespace detail {
struct OverlapInputs;
} // namespace detail

/// DiceLoss's parameters (MONAI names and defaults). `weight` is MONAI's class weight: empty for
/// None, one value for a scalar applied to every class, else one value per (kept) class.
struct DiceLossOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(Activation, other_act) = nullptr;
  TORCH_ARG(bool, squared_pred) = false;
  TORCH_ARG(bool, jaccard) = false;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-5;
  TORCH_ARG(double, smooth_dr) = 1e-5;
  TORCH_ARG(bool, batch) = false;
  TORCH_ARG(std::vector<double>, weight) = {};
};

/// 1 - (2 |X.Y| + smooth_nr) / (|X| + |Y| + smooth_dr) per (sample, class), or per class when
/// `batch` is set; the Jaccard form when `jaccard`. Input (B, C, *spatial) logits or
/// probabilities, target (B, C, ...) or (B, 1, ...) labels with to_onehot_y. Reduction "none"
/// returns (B, C, 1, ..., 1) as MONAI does.
///
///   med::losses::DiceLoss loss(med::losses::DiceLossOptions().softmax(true).to_onehot_y(true));
///   at::Tensor l = loss(logits, labels); l.backward();
class DiceLossImpl : public torch::nn::Module {
public:
  explicit DiceLossImpl(DiceLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  /// The per-(sample, class) loss before class weights and reduction, from prepared inputs
  /// (MaskedDiceLoss and the combined losses reuse it). CPU float inputs run on the generated
  /// kernels med.dice_sums / med.dice_grad (docs/architecture.md); others on dice_terms_eager.
  /// forward() hands a softmax to the kernels too (med.softmax_dice_sums / _grad).
  at::Tensor dice_terms(const at::Tensor &input, const at::Tensor &target) const;
  /// dice_terms in plain ATen (sums by tensor reductions, backward by autograd): the reference
  /// the generated kernels are tested against.
  at::Tensor dice_terms_eager(const at::Tensor &input, const at::Tensor &target) const;
  /// The loss formula over the reduced sums |X.Y|, |Y| (or |Y^2|) and |X| (or |X^2|).
  at::Tensor terms_from_sums(const at::Tensor &inter, const at::Tensor &ground,
                             const at::Tensor &pred) const;
  /// Applies the class weights and the reduction to dice_terms' result.
  at::Tensor finish(at::Tensor f, int64_t spatial_dims) const;
  DiceLossOptions options;

protected:
  /// dice_terms on the generated kernels, from inputs prepared for them (logits when the
  /// kernels apply the activation).
  at::Tensor generated_terms(const detail::OverlapInputs &in) const;
  std::string owner_ = "DiceLoss";
};
TORCH_MODULE(DiceLoss);

/// DiceLoss restricted to a spatial mask: input and target are multiplied by `mask` (B, 1,
/// *spatial) before the Dice formula, so voxels outside the mask do not count (MONAI's
/// MaskedDiceLoss). Without a mask it equals DiceLoss.
///
///   med::losses::MaskedDiceLoss loss(med::losses::DiceLossOptions().sigmoid(true));
///   at::Tensor l = loss(logits, target, roi);
class MaskedDiceLossImpl : public DiceLossImpl {
public:
  explicit MaskedDiceLossImpl(DiceLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target,
                     const at::Tensor &mask = {});
};
TORCH_MODULE(MaskedDiceLoss);

/// GeneralizedDiceLoss's parameters. w_type: "square" (1/|Y|^2), "simple" (1/|Y|) or "uniform".
struct GeneralizedDiceLossOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(Activation, other_act) = nullptr;
  TORCH_ARG(std::string, w_type) = "square";
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-5;
  TORCH_ARG(double, smooth_dr) = 1e-5;
  TORCH_ARG(bool, batch) = false;
};

/// Generalised Dice (Sudre et al. 2017): classes are weighted by the inverse (squared) volume of
/// the ground truth, so small structures count as much as large ones; a class absent from the
/// ground truth gets the largest finite weight (MONAI's rule). One value per sample (or one for
/// the batch when `batch`); the weights are computed in float32 as MONAI does.
///
///   med::losses::GeneralizedDiceLoss loss(
///       med::losses::GeneralizedDiceLossOptions().softmax(true).to_onehot_y(true));
class GeneralizedDiceLossImpl : public torch::nn::Module {
public:
  explicit GeneralizedDiceLossImpl(GeneralizedDiceLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  GeneralizedDiceLossOptions options;
};
TORCH_MODULE(GeneralizedDiceLoss);

/// MONAI's "none" reduction shape for Dice-type losses: the first two dimensions of `f` followed
/// by one singleton per spatial axis.
at::Tensor broadcast_none(const at::Tensor &f, int64_t spatial_dims);

} // namespace med::losses
