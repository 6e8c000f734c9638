// Generated kernels of the displacement-field regularisers (BendingEnergyLoss, DiffusionLoss):
// med.ddf_energy, med.ddf_energy_grad and med.ddf_energy_weighted_grad compiled through the JIT
// and its disk cache, launched over fixed runs of rows of each channel of a (B, n, *spatial)
// field. The mean or sum over the channels' energies stays on the host (lib/losses/ddf.cpp);
// reduction "none" gets the energy map itself.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace med::kernels {

/// Per channel (b, c) of `ddf` (B, n, *spatial), n = 1..3 spatial axes each larger than
/// 2 `order`, contiguous CPU float32/float64: the energy summed over the channel's interior
/// voxels, as a (B * n) float64 tensor. `order` 1 is DiffusionLoss's energy, 2
/// BendingEnergyLoss's; `normalize` as MONAI's. Each voxel's energy is formed in the field's
/// dtype (MONAI's formula and rounding), the sums in float64 over fixed runs of rows added in
/// order, so the result does not depend on `threads`.
///
///   at::Tensor e = med::kernels::ddf_energy(ddf, 2, false, 1, "BendingEnergyLoss");
at::Tensor ddf_energy(const at::Tensor &ddf, int64_t order, bool normalize, int threads,
                      const std::string &owner);

/// Reduction "none": the energy at every interior voxel of every channel, MONAI's map
/// (B, n, *interior) (each spatial size less 2 `order`) in the field's dtype, each voxel as
/// ddf_energy forms it.
at::Tensor ddf_energy_map(const at::Tensor &ddf, int64_t order, bool normalize, int threads,
                          const std::string &owner);

/// The gradient with respect to `ddf` of sum over the map's voxels of weights times
/// ddf_energy_map's entry (`weights`: the map's shape and the field's dtype, the incoming
/// gradient of reduction "none"); a new tensor like `ddf`.
at::Tensor ddf_energy_map_grad(const at::Tensor &ddf, const at::Tensor &weights, int64_t order,
                               bool normalize, int threads, const std::string &owner);

/// The gradient with respect to `ddf` of sum over channels of coefficients[b n + c] times the
/// channel's summed energy (`coefficients`: (B * n) float64); a new tensor like `ddf`.
at::Tensor ddf_energy_grad(const at::Tensor &ddf, const at::Tensor &coefficients, int64_t order,
                           bool normalize, int threads, const std::string &owner);

} // namespace med::kernels
