// Segments, call plans and traced chains of a compiled Compose: how a pipeline's transforms
// split into traced runs and host steps, what the host computes for each call of a run, and
// the chains of med ops each run compiles to (internal to lib/transforms).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "med/frontends/Chain.h"
#include "med/runtime/rng.h"
#include "med/transforms/compose.h"
#include "med/transforms/transform.h"

namespace med::transforms::detail {

/// A transform and its position in the Compose (the transform index of its random stream).
struct Placed {
  const Transform *transform;
  uint32_t index;
};

/// The transforms of `steps` that apply to `key` (all of them for an array pipeline).
std::vector<Placed> transformsFor(const std::vector<Step> &steps, const std::string &key);

/// A run of traceable transforms (compiled together) or one host transform (run eagerly). A
/// StatsTransform starts a run, so its statistics are taken from a materialised input; a
/// channel-wise one is a run of its own, launched once per channel.
struct Segment {
  std::vector<Placed> traced;
  std::optional<Placed> host;
  bool perChannel = false;
};

/// `ts` cut into segments.
std::vector<Segment> segmentsOf(const std::vector<Placed> &ts);

/// Applies one transform eagerly; random ones draw from their (seed, epoch, sample, index)
/// stream.
MetaTensor applyEager(const Placed &p, const MetaTensor &img, const rt::RandomKey &key);

/// The generated reduction that a traced transform takes its statistics from, if any.
enum class Reduction { None, Extrema, Moments, MomentsNonzero };
Reduction reductionOf(const Transform *t);

/// The host's share of one call of a traced segment: the kernel parameters in trace order
/// (random draws, statistics of the segment's materialised input, resample plans), the spatial
/// shape after each resample, and the metadata the segment's transforms write.
struct CallPlan {
  std::vector<double> params;
  std::vector<std::vector<int64_t>> shapes;
  /// Per resample (as `shapes`): rows per output slice when its output should be computed in
  /// slice-blocked windows (rt::BufferRef::sliceRows), else 0. See sliceBlockedRows.
  std::vector<int64_t> sliceRows;
  /// Per resample (as `shapes`): its displacement (ResamplePlan::field, contiguous float32), or
  /// undefined.
  std::vector<at::Tensor> fields;
  /// Per resample (as `shapes`): the length of the rows its kernel writes when that is not the
  /// output's innermost extent (collapseInnerAxes), else 0.
  std::vector<int64_t> rowLengths;
  Meta meta;
};

/// Rows per output slice when a resample to spatial shape `out` with the row-major n x (n+1)
/// `matrix` (output index -> input position) should run in slice-blocked windows, else 0: for
/// three spatial axes, when one output row crosses at least
/// kBlockingSlicesCrossed input slices. Such a row reads a few voxels in each of many input
/// slices, and the next output slice reads the same input lines again a whole output slice
/// later, by then out of L2; rows that stay within a few input slices are best in plain order
/// (measured in docs/performance.md, "Slice-blocked gathers").
int64_t sliceBlockedRows(const std::vector<int64_t> &out, const double *matrix);
inline constexpr double kBlockingSlicesCrossed = 16.0;

/// Rewrites the resample operands at `map` (in shape, out shape, row-major n x (n+1) matrix, as
/// appendPlan lays them out) of a 3-D copy whose map leaves the two innermost axes as they are
/// (a flip or a crop along the first axis) into the same map over the images viewed as
/// (size 0, 1, size 1 x size 2), and returns the row length of that view; returns 0 and leaves
/// other maps alone. Each output voxel reads the same input voxel either way; the kernel's
/// per-row work (the row's position, the test for a contiguous run) then comes once per output
/// slice instead of once per row of the innermost axis: a fused RandAdjustContrast and
/// RandFlip(0) at 1x256x256x128 took 9.8 ms with rows of 128, 8.6 with whole slices, the
/// contrast alone 8.3. Only for copies: an interpolating kernel finds no interior run on an
/// axis of one voxel. Maps with bounds or a displacement are not passed here.
int64_t collapseInnerAxes(double *map);

/// The call plan of `seg` for one image. `input` is the segment's materialised input, or
/// channel `channel` of it. `composed[t]` says that traced transform t is a copy folded into
/// the previous resample (composedCopies).
CallPlan planCall(const Segment &seg, const rt::RandomKey &key, const at::Tensor &input,
                  int64_t channel, const Meta &meta, int threads,
                  const std::vector<bool> &composed);

/// Traced chains for one input type and spatial rank: one chain per kernel of a fused schedule
/// (the rules are at the definition and in docs/architecture.md), one per op otherwise.
/// *composedOut, when given, says which transforms are copies folded into a resample. Without
/// `microkernels` the chains' modules keep every op in generated code (Schedule::microkernels).
std::vector<frontend::ChainSpec> traceChains(const std::vector<Placed> &ts, rt::DType input,
                                             int rank, bool fuse, bool microkernels,
                                             std::vector<bool> *composedOut = nullptr);

/// The med IR of `chain`; throws med::Error naming the transform at fault.
std::string irOf(const frontend::ChainSpec &chain);

/// A rough relative cost of compiling `ir`, to start the costliest kernels first: LLVM's time
/// grows with the IR's size, and a gathering kernel's (scattered loads, 2^n corners, index
/// math in f64) about three times as fast as an elementwise one's (measured on the augmentation
/// chain's kernels: 30-40 us per byte of med IR for gathers, 10-20 for the others), and a
/// kernel with Gaussian noise (ten Philox rounds per block in the grouped loop and in the
/// partial groups; about 20 us per byte against the gather's 14 at the stop that grouped it)
/// about four times. A statistics kernel's one-line op lowers to more than its text suggests,
/// so it comes last, which suits it: it runs only once the segment before it has.
double compileCostEstimate(const std::string &ir);

} // namespace med::transforms::detail
