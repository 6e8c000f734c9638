// Generated kernels of LocalNormalizedCrossCorrelationLoss: med.lncc_map, med.lncc_coefficients
// and med.lncc_grad compiled through the JIT and its disk cache, launched over runs of rows of
// each (item, channel) of a (B, C, *spatial) pair. The mean or sum over the channels' sums stays
// on the host (lib/losses/similarity.cpp); reduction "none" gets the map itself.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace med::kernels {

/// The loss's window and constants as MONAI forms them: the 1-D window's weights (float32
/// values), the window's volume (the sum of its n-fold product, float32), smooth_nr, smooth_dr.
struct LnccWindow {
  std::vector<double> weights;
  double volume = 0, smoothNr = 0, smoothDr = 0;
};

/// Per channel (b, c) the sum over its voxels of MONAI's local normalised cross-correlation of
/// `pred` and `target` (B, C, *spatial), 1..3 spatial axes, contiguous CPU float32/float64 of
/// one dtype and shape: a (B * C) float64 tensor. Each voxel's value is formed in the inputs'
/// dtype from its window sums (the window unrolled, zero padding), the sums in float64 over
/// fixed runs of rows added in order, so the result does not depend on `threads`.
///
///   at::Tensor s = med::kernels::lncc_sums(p, t, {{1, 1, 1}, 27, 0, 1e-5}, 1, "LNCC");
at::Tensor lncc_sums(const at::Tensor &pred, const at::Tensor &target, const LnccWindow &window,
                     int threads, const std::string &owner);

/// The gradient with respect to `pred` of sum over channels of coefficients[b C + c] times the
/// channel's summed correlation (`coefficients`: (B * C) float64); a new tensor like `pred`.
at::Tensor lncc_grad(const at::Tensor &pred, const at::Tensor &target,
                     const at::Tensor &coefficients, const LnccWindow &window, int threads,
                     const std::string &owner);

/// Reduction "none": MONAI's local normalised cross-correlation at every voxel (before its
/// sign change), a tensor like `pred`, each voxel as lncc_sums forms it.
at::Tensor lncc_map(const at::Tensor &pred, const at::Tensor &target, const LnccWindow &window,
                    int threads, const std::string &owner);

/// The gradient with respect to `pred` of sum over voxels of weights times lncc_map's value
/// (`weights`: pred's shape and dtype, contiguous, the incoming gradient of the map); a new
/// tensor like `pred`.
at::Tensor lncc_map_grad(const at::Tensor &pred, const at::Tensor &target,
                         const at::Tensor &weights, const LnccWindow &window, int threads,
                         const std::string &owner);

} // namespace med::kernels
