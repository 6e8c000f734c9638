// Generated kernels of GlobalMutualInformationLoss's Parzen windows, Gaussian (med.parzen_sums,
// med.parzen_window, med.parzen_window_grad) and b-spline (med.bspline_*): the joint histogram
// of two images without the (voxels x bins) weight tensors MONAI forms, and its gradient by
// the first image. Used by
// lib/losses/mutual_information.cpp; compiled through the JIT and its disk cache.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace med::kernels {

/// Bin counts up to this run on the kernels (each voxel's gradient unrolls bins^2 products);
/// the loss takes ATen's formulation past it.
constexpr int64_t kParzenMaxBins = 32;

/// The joint Parzen histogram of `a` and `b` (B, *), contiguous CPU float32/float64 of one dtype
/// and shape, per item over its N = numel / B values: (1 / N) sum_v w_i(a_v) w_j(b_v) with w the
/// normalised Gaussian weights on `centres` (exp(-preterm (x - c)^2) of x clamped to [0, 1]).
/// A (B, bins, bins) float64 tensor. Blocks of voxels are weighed by the kernel, their weight
/// rows multiplied into float64 partials per block (lane sums in the inputs' dtype over up to
/// 2048 voxels) and the partials added in block order, so the result does not depend on
/// `threads`.
///
///   at::Tensor pab = med::kernels::parzen_joint(pred, target, centres, 1.0 / (2 * s * s), 1, "L");
at::Tensor parzen_joint(const at::Tensor &a, const at::Tensor &b,
                        const std::vector<double> &centres, double preterm, int threads,
                        const std::string &owner);

/// The gradient by `a` of sum over items and (i, j) of g[item][i][j] times parzen_joint's
/// entry, `g` (B, bins, bins) float64: a tensor like `a`, per voxel from its own and `b`'s
/// weights (the clamp passes the gradient only for 0 <= a <= 1, as ATen's).
at::Tensor parzen_joint_grad(const at::Tensor &a, const at::Tensor &b,
                             const std::vector<double> &centres, double preterm,
                             const at::Tensor &g, int threads, const std::string &owner);

/// An image's b-spline scale, as MONAI forms it in the image's dtype from the extrema of the
/// whole (batch of) images: bin size s = (max - min) / (bins - 4) and normalised minimum
/// m = min / s - 2, so a voxel x lies at bin coordinate clamp(x / s - m, 2, bins - 3).
struct BsplineScale {
  double size = 1, min = 0;
};

/// The joint histogram of MONAI's b-spline windows, cubic on `a` and a box (1/2 at a tie) on
/// `b`, each normalised over the bins, per item over its N voxels: (1 / N) sum_v w_i(a_v)
/// u_j(b_v), 5 <= bins <= kParzenMaxBins. The same inputs, blocks and float64 partials as
/// parzen_joint, so also independent of `threads`.
///
///   at::Tensor pab = med::kernels::bspline_joint(pred, target, 16, {sp, mp}, {st, mt}, 1, "L");
at::Tensor bspline_joint(const at::Tensor &a, const at::Tensor &b, int64_t bins,
                         const BsplineScale &scaleA, const BsplineScale &scaleB, int threads,
                         const std::string &owner);

/// The gradient by `a` of sum over items and (i, j) of g[item][i][j] times bspline_joint's
/// entry with both scales held (their share, through the extrema, is the caller's), `g`
/// (B, bins, bins) float64: a tensor like `a`, zero where the clamp to [2, bins - 3] holds the
/// bin coordinate (as ATen's clamp).
at::Tensor bspline_joint_grad(const at::Tensor &a, const at::Tensor &b, int64_t bins,
                              const BsplineScale &scaleA, const BsplineScale &scaleB,
                              const at::Tensor &g, int threads, const std::string &owner);

} // namespace med::kernels
