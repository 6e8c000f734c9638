// FocalLoss on the generated kernels med.focal_sums / med.focal_grad and their softmax forms
// (internal to lib/losses; docs/losses.md, "FocalLoss on generated kernels").
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "med/losses/focal.h"

namespace med::losses::detail {

/// FocalLoss's class weights for `classes` (kept) classes: empty for none (no weight, or one
/// class, where MONAI's weighting does not apply), else one per class (a single value
/// repeated). Throws med::Error naming FocalLoss.weight when the count does not match.
std::vector<double> focal_class_weights(const std::vector<double> &weight, int64_t classes);

/// FocalLoss(options) with the given effective alpha (none once the softmax form without the
/// background has dropped it) through the generated kernels: the per-(item, class) sums of the
/// focal term from med.focal_sums (med.softmax_focal_sums), the class weights, alpha's class
/// factors and the reduction over those sums on the host, and the backward through
/// med.focal_grad (med.softmax_focal_grad) in one torch::autograd::Function; with reduction
/// "none" the map itself from med.focal_terms (med.softmax_focal_terms) and its backward from
/// the map's incoming gradient (the `_terms_grad` ops). Returns an undefined tensor where the
/// kernels do not apply: inputs not on the CPU, integer inputs, a target that needs a gradient,
/// empty inputs, the softmax form with one channel. A backward with create_graph
/// differentiates the same loss formed in ATen instead, so double backward works.
at::Tensor focal_loss_generated(const FocalLossOptions &options, std::optional<double> alpha,
                                const at::Tensor &input, const at::Tensor &target);

} // namespace med::losses::detail
