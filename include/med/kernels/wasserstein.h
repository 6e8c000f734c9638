// Generated kernels of GeneralizedWassersteinDiceLoss: med.wasserstein_sums (forward) and
// med.wasserstein_grad (backward), launched over fixed blocks of each item as the softmax Dice
// kernels are (med/kernels/losses.h). The loss over the sums stays on the host (lib/losses).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace med::kernels {

/// Per item of `logits` (B, C, *spatial), C >= 2, and its label map `labels` (B, 1, *spatial) of
/// the logits' dtype (a value v names class trunc(v); outside (-1, C), or NaN, no class): a
/// (B, 2, C) float64 tensor holding per class the voxels labelled with it and the sum of their
/// Wasserstein distances w = sum_c matrix[k][c] p_c (p the softmax over the channels, k the
/// voxel's class). `matrix`: (C, C) float64. The counts add up to the voxel count exactly when
/// every label names a class. Sums fold in block order, so they do not depend on `threads`.
///
///   at::Tensor s = med::kernels::wasserstein_sums(logits, labels, m, 1, "GWDL");
at::Tensor wasserstein_sums(const at::Tensor &logits, const at::Tensor &labels,
                            const at::Tensor &matrix, int threads, const std::string &owner);

/// The gradient with respect to the logits of a loss over those sums: `coefficients` is
/// (B, C, C) float64, per item the loss's derivative with respect to class k's summed distance
/// times matrix[k][c]. Same operands as wasserstein_sums; a new contiguous tensor like the logits.
at::Tensor wasserstein_grad(const at::Tensor &logits, const at::Tensor &labels,
                            const at::Tensor &coefficients, int threads, const std::string &owner);

} // namespace med::kernels
