// Helpers for the stencil kernels' lowerings (MedToLinalgDdf.cpp, MedToLinalgLncc.cpp; internal to
// lib/compiler): a kernel over one channel of an image computes a window of whole rows as one
// linalg.generic, like med.resample. A row's outer voxel indices come from its row number once
// (f64 reciprocal and floor); every read is at row base + column + a neighbour's offset, the base
// and the offsets loop-invariant indices, so LLVM sees consecutive loads along the row and
// vectorises them as plain vector loads. Neighbours are keyed by their displacement, known while
// lowering, so each distinct one is read once per voxel.
#pragma once

#include <array>
#include <map>

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

namespace mlir::med::lowering {

/// A displacement in voxels per axis (unused axes 0).
using Shift = std::array<int64_t, 3>;

/// The loop invariants of a channel of sizes S_0 .. S_(n-1) (f64 values) and its strides.
struct Window {
  int64_t n;
  SmallVector<Value> size, stride;
  /// A window over the n sizes `sizes` (f64 operands).
  static Window of(OpBuilder &b, Location l, ValueRange sizes);
  /// An index as an exact f64.
  static Value f64Of(OpBuilder &b, Location l, Value index);
  /// An exact f64 integer as an index.
  static Value indexOf(OpBuilder &b, Location l, Value exact);
  /// The flat offset of a shift, as a loop-invariant index.
  Value offsetOf(OpBuilder &b, Location l, const Shift &s) const;
  /// The row base of a voxel: `pad` + sum over the outer axes of idx * stride + `lead`.
  Value rowBase(OpBuilder &b, Location l, ValueRange idx, Value pad, double lead) const;
};

/// A window's body: (the voxel's n indices as f64, the innermost one the column's; the column as
/// an index) -> the values of each result.
using WindowBody =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange idx, Value column)>;

/// One generic with `results` outputs of `elem` over `rows` x `length` from row `offset` of a
/// grid whose outer axes have the `outer` sizes (f64), each index (the column's too) plus `lead`.
SmallVector<Value> buildWindow(OpBuilder &rw, Location loc, const Window &w, Type elem,
                               int64_t results, Value offset, Value rows, Value length,
                               ArrayRef<Value> outer, double lead, WindowBody body);

/// The voxel's neighbours, each read once: x(s) is the input at base + the offset of shift s.
struct Neighbours {
  OpBuilder &b;
  Location l;
  Value input, base;
  const std::map<Shift, Value> &offsets;
  std::map<Shift, Value> read = {};
  Value operator()(const Shift &s);
};

/// Whether voxel idx + s lies within [lo_d, hi_d] on every axis (f64 bounds per axis), each
/// axis's test formed once per (axis, shift) and kept in `memo`.
struct Bounds {
  SmallVector<Value> lo, hi;
  std::map<std::pair<int64_t, int64_t>, Value> memo = {};
  Value inside(OpBuilder &b, Location l, ValueRange idx, const Shift &s);
};

} // namespace mlir::med::lowering
