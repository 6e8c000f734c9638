// Helpers shared by the med -> linalg lowering patterns (internal to lib/compiler).
#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::med::lowering {

/// The dialect's arithmetic type: f64 when the op's operand or result is f64, else f32.
FloatType computeType(Operation *op);
/// Storage element -> compute type (unsigned integers reinterpreted as signless first).
Value toCompute(OpBuilder &b, Location loc, Value v, FloatType ct);
/// Compute type -> storage element; integers go through i64 and wrap, as Tensor.to() does.
Value fromCompute(OpBuilder &b, Location loc, Value v, Type t);
Value constant(OpBuilder &b, Location loc, FloatType ct, double value);
double value(FloatAttr a);

/// Computes the op's value from the input element x (in the compute type) and the reduced
/// scalars (empty for elementwise ops).
using BodyFn = function_ref<Value(OpBuilder &, Location, Value x, ValueRange scalars)>;
/// result = generic(input, scalars...) with `body` per element; scalars are 0-d tensors.
Value buildMap(OpBuilder &b, Location loc, Operation *op, ValueRange scalars, BodyFn body);
/// As buildMap for elementwise ops, but where `on` (i1, one per call) is false each element is
/// copied as stored rather than through the compute type: exact for integers f32 cannot hold.
Value buildMapWhen(OpBuilder &b, Location loc, Operation *op, Value on, BodyFn body);
/// The spatial coordinates (f64, axis 0 first) of the element at global flat index `global`
/// (index) of a channel-first image of spatial sizes `size` (f64 values, `inv` their
/// reciprocals): reciprocal-and-floor steps, innermost axis first, exact on integers below 2^40.
SmallVector<Value> voxelCoordinates(OpBuilder &b, Location l, Value global, ValueRange size,
                                    ValueRange inv);
/// The global flat index (index) of a map's element, for ops that depend on where a voxel is
/// (a random stream keyed by it, its coordinates): the op's `base` plus the position, which in
/// a window of rows (rank 2) is row * row length + column. Built before the map, used inside
/// its body.
struct VoxelIndex {
  VoxelIndex(OpBuilder &b, Location l, Value input, Value base);
  Value at(OpBuilder &b, Location l) const;
  Value base, rowLength;
};
/// (min, max) of the op's input as two 0-d tensors of the compute type; NaN propagates.
std::pair<Value, Value> buildMinMax(OpBuilder &b, Location loc, Operation *op);
/// An f64 operand in the compute type, converted once outside the loop.
Value scalarIn(OpBuilder &b, Location loc, Value v, FloatType ct);
/// i1 "the transform fired": apply != 0.
Value applied(OpBuilder &b, Location loc, Value apply);

/// (rows x lanes view of the first floor(n / lanes) * lanes elements, the other n % lanes) of
/// a flat tensor: reductions fold the rows into `lanes` accumulators, which LLVM vectorises.
std::pair<Value, Value> splitIntoLanes(OpBuilder &b, Location loc, Value flat, int64_t lanes);

/// Folds the elements of flat tensors of one length (taken together, position by position)
/// into accumulators of `laneTypes`, all starting at zero: `step(b, l, elements, acc)` gives the
/// next accumulator values. The bulk is folded as rows into `lanes` accumulators of each kind (a
/// loop LLVM vectorises), the rest into 0-d accumulators of `totalTypes`, and then each kind's
/// lanes into those by `merge(b, l, laneValues, totals)`. Returns the totals' values.
using LaneStepFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange elements, ValueRange acc)>;
using LaneMergeFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange lane, ValueRange total)>;
SmallVector<Value> reduceThroughLanes(OpBuilder &b, Location loc, ValueRange inputs, int64_t lanes,
                                      ArrayRef<Type> laneTypes, ArrayRef<Type> totalTypes,
                                      LaneStepFn step, LaneMergeFn merge);

/// The usual LaneMergeFn for float sums: total + lane, kind by kind.
SmallVector<Value> addLanes(OpBuilder &b, Location l, ValueRange lane, ValueRange total);

/// Patterns for the ops with runtime operands (random parameters, statistics).
void populateDynamicLoweringPatterns(RewritePatternSet &patterns);
/// The pattern for med.gaussian_noise: per-voxel Philox and Box-Muller (MedToLinalgNoise.cpp).
void populateNoiseLoweringPatterns(RewritePatternSet &patterns);
/// The pattern for med.resample: a gather over the output window (MedToLinalgResample.cpp).
void populateResampleLoweringPatterns(RewritePatternSet &patterns);
/// med.filter_axis (MedToLinalgFilter.cpp).
void populateFilterLoweringPatterns(RewritePatternSet &patterns);
/// med.bias_field (MedToLinalgBias.cpp).
void populateBiasFieldLoweringPatterns(RewritePatternSet &patterns);
/// med.coarse_dropout (MedToLinalgDropout.cpp).
void populateDropoutLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the reduction kernels, med.extrema, med.overlap_counts and med.error_sums
/// (MedToLinalgReduce.cpp).
void populateReductionLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the loss kernels, med.dice_sums, med.dice_grad and their softmax forms
/// (MedToLinalgLoss.cpp).
void populateLossLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the focal loss kernels, med.focal_sums, med.focal_grad and their softmax
/// forms (MedToLinalgFocal.cpp).
void populateFocalLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the Wasserstein Dice kernels, med.wasserstein_sums and
/// med.wasserstein_grad (MedToLinalgWasserstein.cpp).
void populateWassersteinLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the HausdorffDTLoss kernels, med.hausdorff_dt_sums and
/// med.hausdorff_dt_grad (MedToLinalgHausdorff.cpp).
void populateHausdorffLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the displacement-field regularisers' kernels, med.ddf_energy and
/// med.ddf_energy_grad (MedToLinalgDdf.cpp).
void populateDdfLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the local normalised cross-correlation kernels, med.lncc_map,
/// med.lncc_coefficients and med.lncc_grad (MedToLinalgLncc.cpp).
void populateLnccLoweringPatterns(RewritePatternSet &patterns);
/// The pattern for SSIM's window passes, med.ssim_pass (MedToLinalgSsim.cpp).
void populateSsimLoweringPatterns(RewritePatternSet &patterns);

/// The patterns for the Parzen-window kernels, med.parzen_window and med.parzen_window_grad
/// (MedToLinalgParzen.cpp).
void populateParzenLoweringPatterns(RewritePatternSet &patterns);
/// The patterns for the b-spline Parzen-window kernels, med.bspline_sums, med.bspline_window
/// and med.bspline_window_grad (MedToLinalgBspline.cpp).
void populateBsplineLoweringPatterns(RewritePatternSet &patterns);

} // namespace mlir::med::lowering
