// Composing runs of copies into one resample, the exact part of composing spatial ops (internal
// to lib/transforms; docs/architecture.md, "Spatial transforms").
#pragma once

#include <cstddef>
#include <vector>

#include "med/frontends/Chain.h"
#include "med/transforms/transform.h"

namespace med::transforms::detail {

/// Whether `t` compiles to a copy whose every output voxel reads one voxel inside its input: a
/// signed permutation (Flip, Rotate90, Orientation and their random forms) or a crop
/// (SpatialCrop, CenterSpatialCrop, RandSpatialCrop). Pads can read outside; interpolating
/// resamples are not integer maps.
bool copiesInside(const Transform *t);

/// Which of `ts`, traced in order into `whole` (transform t emitted ops [first[t], first[t + 1])),
/// join the resample of an earlier copy instead of starting a kernel of their own: a copy that
/// reads inside, after another such copy (or a run of them), with only elementwise ops that do
/// not read the voxel index between them. Integer maps compose exactly in f64, and moving voxels
/// commutes with ops that see neither neighbours nor positions, so the composed kernel computes
/// what separate kernels do, bit for bit.
std::vector<bool> composedCopies(const std::vector<const Transform *> &ts,
                                 const frontend::ChainSpec &whole,
                                 const std::vector<size_t> &first);

/// Folds `plan`, a copy applied to the output of the resample whose parameters (input shape,
/// output shape, map M, as appendPlan wrote them) start at params[at], into that resample: its
/// output shape becomes plan's and its map M o plan.matrix.
void composeInto(std::vector<double> &params, size_t at, const ResamplePlan &plan);

} // namespace med::transforms::detail
