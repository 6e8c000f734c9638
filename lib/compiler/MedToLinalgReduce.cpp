// convert-med-to-linalg, the reduction kernels (med.extrema, med.moments, med.overlap_counts,
// med.error_sums): ops whose result is a handful of f64 statistics of whole (flat) inputs. The
// launcher runs such a kernel over fixed blocks and combines the blocks' results on the host. Each
// lowering views the bulk of its inputs as rows of kLanes elements folded into kLanes accumulators
// of each kind, an elementwise inner loop that LLVM vectorises, then folds in the last n % kLanes
// elements and the lanes.
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>
#include <utility>

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

Value cmpF(OpBuilder &b, Location l, arith::CmpFPredicate p, Value x, Value y) {
  return b.create<arith::CmpFOp>(l, p, x, y);
}

// [min, max] as a tensor<2xf64>, compared in the input's compute type; NaN propagates (as
// torch.min / torch.max). Three accumulators run together: a running min and max (x < lo ? x :
// lo, which skips NaN as minnum does and is one vminps, where minnum also fixes up a NaN lo:
// 1.13 -> 0.87 ms over 1x256x256x128) and a NaN flag (1 once a NaN was seen, in the compute
// type so it shares the loop's vector width); a raised flag turns both results into NaN at the
// end. Sixteen lanes: with 32 or 64 the accumulators left the registers (1.2-1.3 ms). The bulk of
// the input is viewed as rows of kLanes elements folded into kLanes accumulators of each kind, an
// elementwise inner loop that LLVM vectorises (a scalar min reduction, NaN-propagating as
// buildMinMax's, stays scalar in LLVM 19); the last n % kLanes elements and then the lanes are
// folded in after. buildMinMax keeps the scalar form: its input is often a fused producer, which
// folds into a plain reduction but would be materialised before the slice and reshape this form
// needs.
struct ExtremaLowering : OpRewritePattern<ExtremaOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kLanes = 16;

  LogicalResult matchAndRewrite(ExtremaOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    if (inType.getRank() != 1)
      return rw.notifyMatchFailure(op, "expects a flat image");
    FloatType ct = inType.getElementType().isF64() ? rw.getF64Type() : rw.getF32Type();
    MLIRContext *ctx = rw.getContext();
    auto red = utils::IteratorType::reduction, par = utils::IteratorType::parallel;
    double inf = std::numeric_limits<double>::infinity();
    auto filled = [&](ArrayRef<int64_t> shape, double v) {
      Value empty = rw.create<tensor::EmptyOp>(loc, shape, ct);
      return rw.create<linalg::FillOp>(loc, constant(rw, loc, ct, v), empty).getResult(0);
    };
    auto initial = [&](ArrayRef<int64_t> shape) {
      return SmallVector<Value>{filled(shape, inf), filled(shape, -inf), filled(shape, 0.0)};
    };
    // Folds `in` into (lo, hi, flag) through `maps` (input map first). `kind` says what `in`
    // holds: 0 image values, 1 lane minima, 2 lane maxima, 3 lane NaN flags.
    auto fold = [&](Value in, ArrayRef<Value> acc, ArrayRef<AffineMap> maps,
                    ArrayRef<utils::IteratorType> iterators, int kind) {
      SmallVector<Type> types{acc[0].getType(), acc[1].getType(), acc[2].getType()};
      auto g = rw.create<linalg::GenericOp>(
          loc, types, ValueRange{in}, acc, maps, iterators,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value x = toCompute(b, l, args[0], ct);
            Value lo = args[1], hi = args[2], flag = args[3];
            if (kind == 0) { // image values
              lo =
                  b.create<arith::SelectOp>(l, cmpF(b, l, arith::CmpFPredicate::OLT, x, lo), x, lo);
              hi =
                  b.create<arith::SelectOp>(l, cmpF(b, l, arith::CmpFPredicate::OGT, x, hi), x, hi);
              Value isNan = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, x, x);
              flag = b.create<arith::SelectOp>(l, isNan, constant(b, l, ct, 1.0), flag);
            } else if (kind == 1) {
              lo = b.create<arith::MinNumFOp>(l, lo, x);
            } else if (kind == 2) {
              hi = b.create<arith::MaxNumFOp>(l, hi, x);
            } else {
              flag = b.create<arith::MaxNumFOp>(l, flag, x);
            }
            b.create<linalg::YieldOp>(l, ValueRange{lo, hi, flag});
          });
      return SmallVector<Value>{g.getResult(0), g.getResult(1), g.getResult(2)};
    };
    // The bulk: rows x kLanes into kLanes accumulators of each kind.
    auto [grid, tail] = splitIntoLanes(rw, loc, input, kLanes);
    AffineMap lane = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
    SmallVector<Value> perLane = fold(
        grid, initial({kLanes}), {rw.getMultiDimIdentityMap(2), lane, lane, lane}, {red, par}, 0);
    // The tail, then each kind of lane, into 0-d results.
    AffineMap scalar = AffineMap::get(1, 0, {}, ctx), id = rw.getMultiDimIdentityMap(1);
    SmallVector<AffineMap> toScalar{id, scalar, scalar, scalar};
    SmallVector<Value> total = fold(tail, initial({}), toScalar, {red}, 0);
    for (int kind = 1; kind <= 3; ++kind)
      total = fold(perLane[kind - 1], total, toScalar, {red}, kind);
    Value flag = rw.create<tensor::ExtractOp>(loc, total[2], ValueRange{});
    Value sawNan =
        rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, flag, constant(rw, loc, ct, 0.0));
    Value qnan = rw.create<arith::ConstantOp>(
        loc, rw.getF64FloatAttr(std::numeric_limits<double>::quiet_NaN()));
    auto widened = [&](Value t) {
      Value v = rw.create<tensor::ExtractOp>(loc, t, ValueRange{});
      if (!ct.isF64())
        v = rw.create<arith::ExtFOp>(loc, rw.getF64Type(), v);
      return rw.create<arith::SelectOp>(loc, sawNan, qnan, v).getResult();
    };
    Value r = rw.create<tensor::FromElementsOp>(loc, op.getResult().getType(),
                                                ValueRange{widened(total[0]), widened(total[1])});
    rw.replaceOp(op, r);
    return success();
  }
};

// [|P and Y|, |P|, |Y|, bad] as a tensor<4xf64>. Four i32 accumulators per lane: the three
// counts and the bad flag (or-ed); the tail and the lanes are folded into i64 totals, widened to
// f64 at the end. The element tests are integer or float compares of the stored value, so
// unsigned inputs are only reinterpreted as signless.
struct OverlapCountsLowering : OpRewritePattern<OverlapCountsOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kLanes = 16;

  LogicalResult matchAndRewrite(OverlapCountsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    if (cast<RankedTensorType>(op.getPred().getType()).getRank() != 1)
      return rw.notifyMatchFailure(op, "expects flat masks");
    const bool binary = op.getBinary();
    Type i32 = rw.getI32Type(), i64 = rw.getI64Type();
    auto count = [&](OpBuilder &b, Location l, ValueRange in, ValueRange acc) {
      Value p = signless(b, l, in[0]), y = signless(b, l, in[1]);
      Value np = nonzero(b, l, p), ny = nonzero(b, l, y);
      Value bad = binary ? b.create<arith::OrIOp>(l, notBinary(b, l, p), notBinary(b, l, y))
                         : b.create<arith::OrIOp>(l, isNan(b, l, p), isNan(b, l, y));
      Type at = acc[0].getType();
      auto bit = [&](Value i1) { return b.create<arith::ExtUIOp>(l, at, i1).getResult(); };
      Value both = b.create<arith::AndIOp>(l, np, ny);
      return SmallVector<Value>{b.create<arith::AddIOp>(l, acc[0], bit(both)),
                                b.create<arith::AddIOp>(l, acc[1], bit(np)),
                                b.create<arith::AddIOp>(l, acc[2], bit(ny)),
                                b.create<arith::OrIOp>(l, acc[3], bit(bad))};
    };
    // The lanes: counts add, flags or.
    auto merge = [&](OpBuilder &b, Location l, ValueRange lane, ValueRange total) {
      SmallVector<Value> next;
      for (int k = 0; k < 4; ++k) {
        Value wide = b.create<arith::ExtUIOp>(l, i64, lane[k]);
        next.push_back(k < 3 ? b.create<arith::AddIOp>(l, total[k], wide).getResult()
                             : b.create<arith::OrIOp>(l, total[k], wide).getResult());
      }
      return next;
    };
    SmallVector<Value> totals =
        reduceThroughLanes(rw, loc, ValueRange{op.getPred(), op.getTarget()}, kLanes,
                           {i32, i32, i32, i32}, {i64, i64, i64, i64}, count, merge);
    SmallVector<Value> values;
    for (Value t : totals)
      values.push_back(rw.create<arith::UIToFPOp>(loc, rw.getF64Type(), t));
    rw.replaceOp(op, rw.create<tensor::FromElementsOp>(loc, op.getResult().getType(), values));
    return success();
  }

private:
  static Value signless(OpBuilder &b, Location l, Value v) {
    auto it = dyn_cast<IntegerType>(v.getType());
    if (!it || it.isSignless())
      return v;
    return b.create<UnrealizedConversionCastOp>(l, b.getIntegerType(it.getWidth()), v).getResult(0);
  }
  static Value equals(OpBuilder &b, Location l, Value v, double c, bool equal) {
    if (auto ft = dyn_cast<FloatType>(v.getType()))
      return b.create<arith::CmpFOp>(l,
                                     equal ? arith::CmpFPredicate::OEQ : arith::CmpFPredicate::UNE,
                                     v, b.create<arith::ConstantOp>(l, b.getFloatAttr(ft, c)));
    return b.create<arith::CmpIOp>(
        l, equal ? arith::CmpIPredicate::eq : arith::CmpIPredicate::ne, v,
        b.create<arith::ConstantOp>(l, b.getIntegerAttr(v.getType(), static_cast<int64_t>(c))));
  }
  /// In the set: nonzero, NaN included.
  static Value nonzero(OpBuilder &b, Location l, Value v) { return equals(b, l, v, 0.0, false); }
  /// Neither 0 nor 1 (NaN included).
  static Value notBinary(OpBuilder &b, Location l, Value v) {
    return b.create<arith::AndIOp>(l, equals(b, l, v, 0.0, false), equals(b, l, v, 1.0, false));
  }
  static Value isNan(OpBuilder &b, Location l, Value v) {
    if (isa<FloatType>(v.getType()))
      return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, v, v);
    return b.create<arith::ConstantOp>(l, b.getBoolAttr(false));
  }
};

// [sum d d, sum |d|] with d = target - pred, as a tensor<2xf64>: the square in the input type,
// both sums in f64 lanes.
struct ErrorSumsLowering : OpRewritePattern<ErrorSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kLanes = 16;

  LogicalResult matchAndRewrite(ErrorSumsOp op, PatternRewriter &rw) const override {
    FloatType f64 = rw.getF64Type();
    auto sum = [&](OpBuilder &b, Location l, ValueRange in, ValueRange acc) {
      Value d = b.create<arith::SubFOp>(l, in[1], in[0]);
      Value sq = toCompute(b, l, b.create<arith::MulFOp>(l, d, d), f64);
      Value ab = toCompute(b, l, b.create<math::AbsFOp>(l, d), f64);
      return SmallVector<Value>{b.create<arith::AddFOp>(l, acc[0], sq),
                                b.create<arith::AddFOp>(l, acc[1], ab)};
    };
    SmallVector<Value> values =
        reduceThroughLanes(rw, op.getLoc(), ValueRange{op.getPred(), op.getTarget()}, kLanes,
                           {f64, f64}, {f64, f64}, sum, addLanes);
    rw.replaceOp(op,
                 rw.create<tensor::FromElementsOp>(op.getLoc(), op.getResult().getType(), values));
    return success();
  }
};

// [n, sum v, sum v v] of the input converted to f32 (only v != 0 with `nonzero`), as a
// tensor<3xf64>: three f64 accumulators per lane.
struct MomentsLowering : OpRewritePattern<MomentsOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kLanes = 16;

  LogicalResult matchAndRewrite(MomentsOp op, PatternRewriter &rw) const override {
    FloatType f32 = rw.getF32Type(), f64 = rw.getF64Type();
    const bool nonzero = op.getNonzero();
    auto sum = [&](OpBuilder &b, Location l, ValueRange in, ValueRange acc) {
      Value v = toCompute(b, l, toCompute(b, l, in[0], f32), f64);
      Value one = constant(b, l, f64, 1.0);
      SmallVector<Value> next{b.create<arith::AddFOp>(l, acc[0], one),
                              b.create<arith::AddFOp>(l, acc[1], v),
                              b.create<arith::AddFOp>(l, acc[2], b.create<arith::MulFOp>(l, v, v))};
      if (nonzero) { // NaN is not zero: it counts, as v != 0 selects it in the reference
        Value in0 =
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE, v, constant(b, l, f64, 0));
        for (int k = 0; k < 3; ++k)
          next[k] = b.create<arith::SelectOp>(l, in0, next[k], acc[k]);
      }
      return next;
    };
    SmallVector<Value> values =
        reduceThroughLanes(rw, op.getLoc(), ValueRange{op.getInput()}, kLanes, {f64, f64, f64},
                           {f64, f64, f64}, sum, addLanes);
    rw.replaceOp(op,
                 rw.create<tensor::FromElementsOp>(op.getLoc(), op.getResult().getType(), values));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateReductionLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ExtremaLowering, MomentsLowering, OverlapCountsLowering, ErrorSumsLowering>(
      patterns.getContext());
}
