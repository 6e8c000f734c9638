// convert-med-to-linalg: each med intensity op becomes a linalg.generic map (plus a reduction for
// ops that need whole-image statistics).
#include "LoweringUtils.h"
#include "med/MedOps.h"
#include "med/compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <array>
#include <limits>

namespace mlir::med {
#define GEN_PASS_DEF_CONVERTMEDTOLINALG
#include "med/compiler/Passes.h.inc"
} // namespace mlir::med

using namespace mlir;
using namespace mlir::med;

using namespace mlir::med::lowering;

namespace {

struct ScaleIntensityRangeLowering : OpRewritePattern<ScaleIntensityRangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleIntensityRangeOp op, PatternRewriter &rw) const override {
    FloatType ct = computeType(op);
    double aMin = value(op.getAMinAttr()), aMax = value(op.getAMaxAttr());
    FloatAttr bMin = op.getBMinAttr(), bMax = op.getBMaxAttr();
    bool clip = op.getClip();
    Value r = buildMap(rw, op.getLoc(), op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value y = b.create<arith::SubFOp>(l, x, constant(b, l, ct, aMin));
      if (aMax - aMin == 0.0) // MONAI: warn, then shift only
        return bMin ? b.create<arith::AddFOp>(l, y, constant(b, l, ct, value(bMin))).getResult()
                    : y;
      y = b.create<arith::DivFOp>(l, y, constant(b, l, ct, aMax - aMin));
      if (bMin) {
        y = b.create<arith::MulFOp>(l, y, constant(b, l, ct, value(bMax) - value(bMin)));
        y = b.create<arith::AddFOp>(l, y, constant(b, l, ct, value(bMin)));
      }
      if (clip) {
        y = b.create<arith::MaximumFOp>(l, y, constant(b, l, ct, value(bMin)));
        y = b.create<arith::MinimumFOp>(l, y, constant(b, l, ct, value(bMax)));
      }
      return y;
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ShiftIntensityLowering : OpRewritePattern<ShiftIntensityOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ShiftIntensityOp op, PatternRewriter &rw) const override {
    FloatType ct = computeType(op);
    double offset = value(op.getOffsetAttr());
    Value r = buildMap(rw, op.getLoc(), op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      return b.create<arith::AddFOp>(l, x, constant(b, l, ct, offset)).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ScaleIntensityLowering : OpRewritePattern<ScaleIntensityOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleIntensityOp op, PatternRewriter &rw) const override {
    FloatType ct = computeType(op);
    Location loc = op.getLoc();
    if (FloatAttr factor = op.getFactorAttr()) {
      double f = 1.0 + value(factor);
      Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
        return b.create<arith::MulFOp>(l, x, constant(b, l, ct, f)).getResult();
      });
      rw.replaceOp(op, r);
      return success();
    }
    // MONAI's rescale_array: a constant image becomes x * minv, otherwise the min/max of the
    // image map linearly onto [minv, maxv].
    double minv = value(op.getMinvAttr()), maxv = value(op.getMaxvAttr());
    auto [lo, hi] = buildMinMax(rw, loc, op);
    Value r = buildMap(rw, loc, op, {lo, hi}, [&](OpBuilder &b, Location l, Value x, ValueRange s) {
      Value range = b.create<arith::SubFOp>(l, s[1], s[0]);
      Value norm = b.create<arith::DivFOp>(l, b.create<arith::SubFOp>(l, x, s[0]), range);
      Value scaled = b.create<arith::AddFOp>(
          l, b.create<arith::MulFOp>(l, norm, constant(b, l, ct, maxv - minv)),
          constant(b, l, ct, minv));
      Value flat = b.create<arith::MulFOp>(l, x, constant(b, l, ct, minv));
      Value isFlat = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, s[0], s[1]);
      return b.create<arith::SelectOp>(l, isFlat, flat, scaled).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ThresholdIntensityLowering : OpRewritePattern<ThresholdIntensityOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ThresholdIntensityOp op, PatternRewriter &rw) const override {
    FloatType ct = computeType(op);
    double threshold = value(op.getThresholdAttr()), cval = value(op.getCvalAttr());
    auto pred = op.getAbove() ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT;
    Value r = buildMap(rw, op.getLoc(), op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value keep = b.create<arith::CmpFOp>(l, pred, x, constant(b, l, ct, threshold));
      return b.create<arith::SelectOp>(l, keep, x, constant(b, l, ct, cval)).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ClipLowering : OpRewritePattern<ClipOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ClipOp op, PatternRewriter &rw) const override {
    FloatType ct = computeType(op);
    FloatAttr lo = op.getMinAttr(), hi = op.getMaxAttr();
    Value r = buildMap(rw, op.getLoc(), op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      if (lo)
        x = b.create<arith::MaximumFOp>(l, x, constant(b, l, ct, value(lo)));
      if (hi)
        x = b.create<arith::MinimumFOp>(l, x, constant(b, l, ct, value(hi)));
      return x;
    });
    rw.replaceOp(op, r);
    return success();
  }
};

// [min, max] as a tensor<2xf64>, compared in the input's compute type; NaN propagates (as
// torch.min / torch.max). Three accumulators run together: minnum and maxnum (which skip NaN)
// and a NaN flag (1 once a NaN was seen, in the compute type so it shares the loop's vector
// width); a raised flag turns both results into NaN at the end. The bulk of the input is viewed
// as rows of kLanes elements folded into kLanes accumulators of each kind, an elementwise inner
// loop that LLVM vectorises (a scalar min reduction, NaN-propagating as buildMinMax's, stays
// scalar in LLVM 19); the last n % kLanes elements and then the lanes are folded in after.
// buildMinMax keeps the scalar form: its input is often a fused producer, which folds into a
// plain reduction but would be materialised before the slice and reshape this form needs.
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
              lo = b.create<arith::MinNumFOp>(l, lo, x);
              hi = b.create<arith::MaxNumFOp>(l, hi, x);
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
    Value n = rw.create<tensor::DimOp>(loc, input, 0);
    Value lanes = rw.create<arith::ConstantIndexOp>(loc, kLanes);
    Value rows = rw.create<arith::DivUIOp>(loc, n, lanes);
    Value bulk = rw.create<arith::MulIOp>(loc, rows, lanes);
    OpFoldResult zero = rw.getIndexAttr(0), one = rw.getIndexAttr(1);
    // The bulk: rows x kLanes into kLanes accumulators of each kind.
    Value head = rw.create<tensor::ExtractSliceOp>(loc, input, ArrayRef<OpFoldResult>{zero},
                                                   ArrayRef<OpFoldResult>{bulk},
                                                   ArrayRef<OpFoldResult>{one});
    auto rowsType = RankedTensorType::get({ShapedType::kDynamic, kLanes}, inType.getElementType());
    Value grid = rw.create<tensor::ExpandShapeOp>(
        loc, rowsType, head, ArrayRef<ReassociationIndices>{{0, 1}},
        ArrayRef<OpFoldResult>{rows, rw.getIndexAttr(kLanes)});
    AffineMap lane = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
    SmallVector<Value> perLane = fold(
        grid, initial({kLanes}), {rw.getMultiDimIdentityMap(2), lane, lane, lane}, {red, par}, 0);
    // The tail, then each kind of lane, into 0-d results.
    Value rest = rw.create<arith::SubIOp>(loc, n, bulk);
    Value tail = rw.create<tensor::ExtractSliceOp>(loc, input, ArrayRef<OpFoldResult>{bulk},
                                                   ArrayRef<OpFoldResult>{rest},
                                                   ArrayRef<OpFoldResult>{one});
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

struct ConvertMedToLinalgPass : mlir::med::impl::ConvertMedToLinalgBase<ConvertMedToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ScaleIntensityRangeLowering, ShiftIntensityLowering, ScaleIntensityLowering,
                 ThresholdIntensityLowering, ClipLowering, ExtremaLowering>(&getContext());
    populateDynamicLoweringPatterns(patterns);
    populateResampleLoweringPatterns(patterns);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    bool left = false;
    getOperation().walk([&](Operation *op) {
      if (isa<MedDialect>(op->getDialect())) {
        op->emitError("no lowering to linalg for this op");
        left = true;
      }
    });
    if (left)
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::med::createConvertMedToLinalgPass() {
  return std::make_unique<ConvertMedToLinalgPass>();
}
