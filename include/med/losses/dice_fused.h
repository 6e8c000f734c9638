// A hand-fused DiceLoss(softmax=true, to_onehot_y=true) forward + backward: two passes over the
// voxels instead of the dozen tensor operations autograd replays. For training loops that only
// need the loss value and d loss / d logits, and as the benchmark's "fused" variant.
#pragma once

#include <ATen/core/Tensor.h>

namespace med::losses {

/// The loss (0-d) and its gradient with respect to the logits.
struct FusedDiceResult {
  at::Tensor loss;
  at::Tensor grad;
};

/// DiceLoss(softmax=true, to_onehot_y=true, reduction="mean", batch=false, no weights) on logits
/// (B, C, *spatial) and a label map (B, 1, *spatial), float32 or float64. Pass 1 computes the
/// softmax per voxel into the gradient buffer and accumulates per-(sample, class) sums of p*t, p
/// and t (in double, per fixed chunk, so the result does not depend on the thread count); pass
/// 2 turns the stored softmax into the gradient in place. float32 runs eight voxels per
/// instruction (AVX2 when the CPU has it) with a polynomial exp within 2 ulp of expf. Parallel
/// over voxel chunks with at::parallel_for. Equals DiceLoss's value and autograd gradient up to
/// rounding; throws med::Error for C < 2, label shape mismatch or labels outside [0, C) (NaN
/// included).
///
///   auto r = med::losses::dice_softmax_fused(logits, labels);
///   logits.mutable_grad() = r.grad; // or feed r.grad to an optimizer step
FusedDiceResult dice_softmax_fused(const at::Tensor &logits, const at::Tensor &labels,
                                   bool include_background = true, double smooth_nr = 1e-5,
                                   double smooth_dr = 1e-5);

/// The same loss as a differentiable 0-d tensor: forward runs both passes and keeps the
/// gradient; backward returns it scaled by the incoming gradient. Drops into a LibTorch loop in
/// place of DiceLoss(softmax=true, to_onehot_y=true).
///
///   at::Tensor loss = med::losses::dice_softmax_fused_loss(logits, labels);
///   loss.backward(); // logits.grad() as DiceLoss's autograd would give
at::Tensor dice_softmax_fused_loss(const at::Tensor &logits, const at::Tensor &labels,
                                   bool include_background = true, double smooth_nr = 1e-5,
                                   double smooth_dr = 1e-5);

} // namespace med::losses
