// Helpers shared by the loss kernels' lowerings (MedToLinalgLoss.cpp, MedToLinalgFocal.cpp,
// MedToLinalgWasserstein.cpp, MedToLinalgHausdorff.cpp; internal to lib/compiler).
#pragma once

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

namespace mlir::med::lowering {

/// sigmoid(x) = 1 / (1 + exp(-x)) in x's type (0 for x far below zero, 1 far above).
Value sigmoid(OpBuilder &b, Location l, Value x);

/// q^e for q >= 0 as exp(e log q): libmvec's vector logf and expf cost a fraction of its powf,
/// and the error stays a few ulp of |e log q| (as for RandAdjustContrast's power). q = 0 gives
/// 0 for e > 0 and inf for e < 0, as pow; `isZero` (e == 0, decided once per call) gives 1
/// whatever q, also 0 and NaN, as pow does.
Value powNonNegative(OpBuilder &b, Location l, Value q, Value e, Value isZero);

/// Whether an f64 operand is 0, as an i1 computed once outside the loops.
Value isZeroF64(OpBuilder &b, Location l, Value v);

/// The terms a sums kernel adds up for one element (or voxel) of its inputs, in the input type.
using TermsFn = function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange in)>;

/// Sums `kinds` terms over flat inputs of one length, as f64: whole groups of 64 x 16 elements
/// folded per group and lane in the input type (a loop LLVM vectorises at full width), then the
/// group partials and the elements after the last whole group through 16-lane f64 folds.
SmallVector<Value> sumInGroups(OpBuilder &rw, Location loc, ValueRange rows, int64_t kinds,
                               TermsFn terms);

/// Replaces a sums op (one result, a tensor of `kinds` f64) by sumInGroups over `rows`.
void replaceBySums(PatternRewriter &rw, Operation *op, ValueRange rows, int64_t kinds,
                   TermsFn terms);

/// The C rows of a (C x n) tensor as flat tensors (views of it once bufferized); a flat tensor
/// is its own single row.
SmallVector<Value> rowsOf(OpBuilder &b, Location l, Value t);

/// The one-hot entry of class `c` for a float label `v`, as MONAI's one_hot reads a float label
/// map (class trunc(v)): 1 when -1 < v < 1 for c = 0, when c <= v < c + 1 for c > 0, else 0
/// (NaN compares false: no class). In v's type.
Value oneHotEntry(OpBuilder &b, Location l, Value v, int64_t c);

/// One voxel's softmax over its C logits `x` (exp of each less their largest, over their sum,
/// as ATen's softmax) and its C targets: the target values themselves, or from a label v the
/// one-hot entries of oneHotEntry.
struct VoxelSoftmax {
  SmallVector<Value> p, t;
};
VoxelSoftmax softmaxAt(OpBuilder &b, Location l, ValueRange x, ValueRange target);

/// The n entries of a tensor<nxf64> operand, each rounded to `ft` once (outside the loops).
SmallVector<Value> entriesIn(OpBuilder &b, Location l, Value vector, int64_t n, FloatType ft);

/// One element's value from the elements of a map's inputs at its place.
using ElementMapFn = function_ref<Value(OpBuilder &, Location, ValueRange in)>;

/// The elementwise map `f` over inputs of one shape, as a linalg.generic whose result has the
/// first input's type.
Value mapElements(OpBuilder &rw, Location loc, ValueRange inputs, ElementMapFn f);

/// One element's gradient from the input element `x` and the target element `t`.
using PairMapFn = function_ref<Value(OpBuilder &, Location, Value x, Value t)>;

/// The elementwise map `f` over an input and a target of the same shape, as a linalg.generic
/// whose result has the input's type: the gradient kernels of the flat (sigmoid) losses.
Value mapPairs(OpBuilder &rw, Location loc, Value input, Value target, PairMapFn f);

/// One voxel's values from its C logits `x` and its targets `t` (C per-class values, or the one
/// label): C results in the input type.
using VoxelMapFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange x, ValueRange t)>;

/// A (C x n) tensor of `input`'s type built voxel by voxel, as the softmax gradient kernels
/// write theirs: a loop over the n voxels carrying the result, each step reading the voxel's C
/// logits from `input` (C x n) and its targets from `target` (C x n, or a label map of n) and
/// inserting the C values `f` gives. (A linalg.generic with one output per row would make the
/// rows slices of one tensor, and bufferization copies all but one of them; the loop's inserts
/// bufferize in place, into the kernel's output once the empty tensor is eliminated.)
Value mapVoxels(OpBuilder &rw, Location loc, Value input, Value target, VoxelMapFn f);

/// mapVoxels that also reads the voxel's C values of `upstream`, a block like `input` (an
/// incoming gradient per voxel and channel).
using UpstreamVoxelMapFn = function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange x,
                                                           ValueRange t, ValueRange upstream)>;
Value mapVoxels(OpBuilder &rw, Location loc, Value input, Value target, Value upstream,
                UpstreamVoxelMapFn f);

} // namespace mlir::med::lowering
