// Helpers shared by the med -> linalg lowering patterns.
#include "LoweringUtils.h"

#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

using namespace mlir;

namespace mlir::med::lowering {

// The dialect's arithmetic type: f64 when either side is f64, else f32.
FloatType computeType(Operation *op) {
  Builder b(op->getContext());
  Type in = cast<RankedTensorType>(op->getOperand(0).getType()).getElementType();
  Type out = cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
  if (in.isF64() || out.isF64())
    return b.getF64Type();
  return b.getF32Type();
}

// Storage element -> compute type. Unsigned integers are reinterpreted as signless first, since
// arith works on signless integers only.
Value toCompute(OpBuilder &b, Location loc, Value v, FloatType ct) {
  Type t = v.getType();
  if (t == ct)
    return v;
  if (auto ft = dyn_cast<FloatType>(t)) {
    if (ft.getWidth() < ct.getWidth())
      return b.create<arith::ExtFOp>(loc, ct, v);
    return b.create<arith::TruncFOp>(loc, ct, v);
  }
  auto it = cast<IntegerType>(t);
  Value s = v;
  if (!it.isSignless())
    s = b.create<UnrealizedConversionCastOp>(loc, b.getIntegerType(it.getWidth()), v).getResult(0);
  if (it.isUnsigned())
    return b.create<arith::UIToFPOp>(loc, ct, s);
  return b.create<arith::SIToFPOp>(loc, ct, s);
}

// Compute type -> storage element. Integers go through i64 and wrap, as Tensor.to() does on x86.
Value fromCompute(OpBuilder &b, Location loc, Value v, Type t) {
  if (v.getType() == t)
    return v;
  if (auto ft = dyn_cast<FloatType>(t)) {
    if (ft.getWidth() > cast<FloatType>(v.getType()).getWidth())
      return b.create<arith::ExtFOp>(loc, ft, v);
    return b.create<arith::TruncFOp>(loc, ft, v);
  }
  auto it = cast<IntegerType>(t);
  Value wide = b.create<arith::FPToSIOp>(loc, b.getI64Type(), v);
  Type signless = b.getIntegerType(it.getWidth());
  Value narrow = it.getWidth() == 64 ? wide : b.create<arith::TruncIOp>(loc, signless, wide);
  if (it.isSignless())
    return narrow;
  return b.create<UnrealizedConversionCastOp>(loc, t, narrow).getResult(0);
}

Value constant(OpBuilder &b, Location loc, FloatType ct, double value) {
  return b.create<arith::ConstantOp>(loc, ct, b.getFloatAttr(ct, value));
}

// Computes the op's value from the input element x (already in the compute type) and the
// reduced scalars (empty for elementwise ops).
using BodyFn = function_ref<Value(OpBuilder &, Location, Value x, ValueRange scalars)>;

// result = generic(input, scalars...) with `body` applied per element. Scalars are 0-d tensors
// broadcast to every element.
Value buildMap(OpBuilder &b, Location loc, Operation *op, ValueRange scalars, BodyFn body) {
  Value input = op->getOperand(0);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t rank = resultType.getRank();
  FloatType ct = computeType(op);
  Value init = b.create<tensor::EmptyOp>(loc, tensor::getMixedSizes(b, loc, input),
                                         resultType.getElementType());
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
  for (size_t i = 0; i < scalars.size(); ++i)
    maps.push_back(AffineMap::get(rank, 0, {}, b.getContext()));
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<Value> inputs{input};
  inputs.append(scalars.begin(), scalars.end());
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultType, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value x = toCompute(nb, nloc, args[0], ct);
        Value y = body(nb, nloc, x, args.slice(1, scalars.size()));
        nb.create<linalg::YieldOp>(nloc, fromCompute(nb, nloc, y, resultType.getElementType()));
      });
  return generic.getResult(0);
}

Value buildMapWhen(OpBuilder &b, Location loc, Operation *op, Value on, BodyFn body) {
  Value input = op->getOperand(0);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  const int64_t rank = resultType.getRank();
  FloatType ct = computeType(op);
  Value init = b.create<tensor::EmptyOp>(loc, tensor::getMixedSizes(b, loc, input),
                                         resultType.getElementType());
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultType, ValueRange{input}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Type out = resultType.getElementType();
        Value x = toCompute(nb, nloc, args[0], ct);
        Value y = fromCompute(nb, nloc, body(nb, nloc, x, {}), out);
        Value kept = args[0].getType() == out ? args[0] : fromCompute(nb, nloc, x, out);
        nb.create<linalg::YieldOp>(nloc, nb.create<arith::SelectOp>(nloc, on, y, kept).getResult());
      });
  return generic.getResult(0);
}

// (min, max) of the op's input over all elements, as two 0-d tensors of the compute type. NaN
// propagates (minimumf/maximumf), as torch.min/max do.
SmallVector<Value> voxelCoordinates(OpBuilder &b, Location l, Value global, ValueRange size,
                                    ValueRange inv) {
  FloatType f64 = b.getF64Type();
  Value rest =
      b.create<arith::UIToFPOp>(l, f64, b.create<arith::IndexCastUIOp>(l, b.getI64Type(), global));
  const int64_t n = static_cast<int64_t>(size.size());
  SmallVector<Value> o(n);
  for (int64_t d = n - 1; d >= 0; --d) {
    Value q = b.create<math::FloorOp>(
        l, b.create<arith::MulFOp>(l, b.create<arith::AddFOp>(l, rest, constant(b, l, f64, 0.5)),
                                   inv[d]));
    o[d] = b.create<arith::SubFOp>(l, rest, b.create<arith::MulFOp>(l, q, size[d]));
    rest = q;
  }
  return o;
}

VoxelIndex::VoxelIndex(OpBuilder &b, Location l, Value input, Value base) : base(base) {
  if (cast<RankedTensorType>(input.getType()).getRank() == 2)
    rowLength = b.create<tensor::DimOp>(l, input, 1);
}

Value VoxelIndex::at(OpBuilder &b, Location l) const {
  Value local = b.create<linalg::IndexOp>(l, 0);
  if (rowLength)
    local = b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, local, rowLength),
                                    b.create<linalg::IndexOp>(l, 1));
  return b.create<arith::AddIOp>(l, local, base);
}

std::pair<Value, Value> buildMinMax(OpBuilder &b, Location loc, Operation *op) {
  Value input = op->getOperand(0);
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  FloatType ct = computeType(op);
  auto scalarType = RankedTensorType::get({}, ct);
  auto filled = [&](double v) {
    Value empty = b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{}, ct);
    return b.create<linalg::FillOp>(loc, constant(b, loc, ct, v), empty).getResult(0);
  };
  double inf = std::numeric_limits<double>::infinity();
  Value lo = filled(inf), hi = filled(-inf);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, {}, b.getContext()),
                              AffineMap::get(rank, 0, {}, b.getContext())};
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{scalarType, scalarType}, ValueRange{input}, ValueRange{lo, hi}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value x = toCompute(nb, nloc, args[0], ct);
        Value mn = nb.create<arith::MinimumFOp>(nloc, args[1], x);
        Value mx = nb.create<arith::MaximumFOp>(nloc, args[2], x);
        nb.create<linalg::YieldOp>(nloc, ValueRange{mn, mx});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

double value(FloatAttr a) { return a.getValueAsDouble(); }

// An f64 operand in the compute type (converted once, outside the loop).
Value scalarIn(OpBuilder &b, Location loc, Value v, FloatType ct) {
  return ct.isF64() ? v : b.create<arith::TruncFOp>(loc, ct, v).getResult();
}

// i1 "the transform fired": apply != 0.
Value applied(OpBuilder &b, Location loc, Value apply) {
  Value zero = b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(0.0));
  return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, apply, zero);
}

// The bulk as rows x lanes and the rest.
std::pair<Value, Value> splitIntoLanes(OpBuilder &b, Location loc, Value flat, int64_t lanes) {
  auto type = cast<RankedTensorType>(flat.getType());
  Value n = b.create<tensor::DimOp>(loc, flat, 0);
  Value width = b.create<arith::ConstantIndexOp>(loc, lanes);
  Value rows = b.create<arith::DivUIOp>(loc, n, width);
  Value bulk = b.create<arith::MulIOp>(loc, rows, width);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  Value head =
      b.create<tensor::ExtractSliceOp>(loc, flat, ArrayRef<OpFoldResult>{zero},
                                       ArrayRef<OpFoldResult>{bulk}, ArrayRef<OpFoldResult>{one});
  auto rowsType = RankedTensorType::get({ShapedType::kDynamic, lanes}, type.getElementType());
  Value grid =
      b.create<tensor::ExpandShapeOp>(loc, rowsType, head, ArrayRef<ReassociationIndices>{{0, 1}},
                                      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(lanes)});
  Value rest = b.create<arith::SubIOp>(loc, n, bulk);
  Value tail =
      b.create<tensor::ExtractSliceOp>(loc, flat, ArrayRef<OpFoldResult>{bulk},
                                       ArrayRef<OpFoldResult>{rest}, ArrayRef<OpFoldResult>{one});
  return {grid, tail};
}

SmallVector<Value> addLanes(OpBuilder &b, Location l, ValueRange lane, ValueRange total) {
  SmallVector<Value> next;
  for (size_t k = 0; k < lane.size(); ++k)
    next.push_back(b.create<arith::AddFOp>(l, total[k], lane[k]));
  return next;
}

SmallVector<Value> reduceThroughLanes(OpBuilder &b, Location loc, ValueRange inputs, int64_t lanes,
                                      ArrayRef<Type> laneTypes, ArrayRef<Type> totalTypes,
                                      LaneStepFn step, LaneMergeFn merge) {
  MLIRContext *ctx = b.getContext();
  auto red = utils::IteratorType::reduction, par = utils::IteratorType::parallel;
  const size_t kinds = laneTypes.size(), n = inputs.size();
  auto zeros = [&](ArrayRef<int64_t> shape, ArrayRef<Type> types) {
    SmallVector<Value> acc;
    for (Type t : types) {
      Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(t));
      Value empty = b.create<tensor::EmptyOp>(loc, shape, t);
      acc.push_back(b.create<linalg::FillOp>(loc, zero, empty).getResult(0));
    }
    return acc;
  };
  auto fold = [&](ValueRange in, ValueRange acc, ArrayRef<AffineMap> maps,
                  ArrayRef<utils::IteratorType> iterators) {
    auto g = b.create<linalg::GenericOp>(
        loc, acc.getTypes(), in, acc, maps, iterators,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          nb.create<linalg::YieldOp>(l, step(nb, l, args.take_front(n), args.drop_front(n)));
        });
    return SmallVector<Value>(g.getResults());
  };
  SmallVector<Value> grids, tails;
  for (Value in : inputs) {
    auto [grid, tail] = splitIntoLanes(b, loc, in, lanes);
    grids.push_back(grid);
    tails.push_back(tail);
  }
  AffineMap grid = b.getMultiDimIdentityMap(2), id = b.getMultiDimIdentityMap(1);
  AffineMap lane = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
  AffineMap scalar = AffineMap::get(1, 0, {}, ctx);
  SmallVector<AffineMap> gridMaps(n, grid), tailMaps(n, id), laneMaps(kinds, id);
  gridMaps.append(kinds, lane);
  tailMaps.append(kinds, scalar);
  laneMaps.append(kinds, scalar);
  SmallVector<Value> perLane = fold(grids, zeros({lanes}, laneTypes), gridMaps, {red, par});
  SmallVector<Value> total = fold(tails, zeros({}, totalTypes), tailMaps, {red});
  auto merged = b.create<linalg::GenericOp>(
      loc, ValueRange(total).getTypes(), perLane, total, laneMaps, ArrayRef{red},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        nb.create<linalg::YieldOp>(l, merge(nb, l, args.take_front(kinds), args.drop_front(kinds)));
      });
  SmallVector<Value> values;
  for (Value t : merged.getResults())
    values.push_back(b.create<tensor::ExtractOp>(loc, t, ValueRange{}));
  return values;
}

} // namespace mlir::med::lowering
