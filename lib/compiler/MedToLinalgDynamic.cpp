// Lowering of med ops whose parameters are runtime f64 operands: random transforms (drawn per
// call on the host) and transforms split at a reduction (statistics computed first).
#include "FastMath.h"
#include "LoweringUtils.h"

#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

struct ShiftByLowering : OpRewritePattern<ShiftByOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ShiftByOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Value on = applied(rw, loc, op.getApply());
    Value offset = scalarIn(rw, loc, op.getOffset(), ct);
    // A call that does not fire copies the stored value (exact for int32 beyond 2^24).
    Value r = buildMapWhen(rw, loc, op, on, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      return b.create<arith::AddFOp>(l, x, offset).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ScaleByLowering : OpRewritePattern<ScaleByOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleByOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Value on = applied(rw, loc, op.getApply());
    Value one = rw.create<arith::ConstantOp>(loc, rw.getF64FloatAttr(1.0));
    Value factor = scalarIn(rw, loc, rw.create<arith::AddFOp>(loc, one, op.getFactor()), ct);
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value y = b.create<arith::MulFOp>(l, x, factor);
      return b.create<arith::SelectOp>(l, on, y, x).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct AdjustContrastLowering : OpRewritePattern<AdjustContrastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AdjustContrastOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Value on = applied(rw, loc, op.getApply());
    Value gamma = scalarIn(rw, loc, op.getGamma(), ct);
    Value lo = scalarIn(rw, loc, op.getMin(), ct), hi = scalarIn(rw, loc, op.getMax(), ct);
    Value range = rw.create<arith::SubFOp>(loc, hi, lo);
    Value denom = rw.create<arith::AddFOp>(loc, range, constant(rw, loc, ct, 1e-7));
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value norm = b.create<arith::DivFOp>(l, b.create<arith::SubFOp>(l, x, lo), denom);
      // norm in [0, 1] (lo and hi are the input's extrema) and gamma > 0 (checked on the
      // host), so norm^gamma = exp(gamma log norm), 0 at norm = 0 and NaN for NaN, in the
      // compute type (FastMath.h: inline for f32, where libmvec's logf and expf calls were most
      // of the kernel, in the form for [0, 1]). With log and exp each within 2 ulp, the power is
      // within a few ulp of 1 (x^g |log x^g| <= 1/e), i.e. a few ulp of the image's range after
      // the scaling back, as powf's own rounding is.
      Value powed = ct.isF32() ? fastPowUnitF32(b, l, norm, gamma)
                               : expOf(b, l, b.create<arith::MulFOp>(l, gamma, logOf(b, l, norm)));
      Value y = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, powed, range), lo);
      return b.create<arith::SelectOp>(l, on, y, x).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct HistogramShiftLowering : OpRewritePattern<HistogramShiftOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HistogramShiftOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Type f64 = rw.getF64Type();
    auto f64c = [&](double v) {
      return rw.create<arith::ConstantOp>(loc, f64, rw.getF64FloatAttr(v)).getResult();
    };
    Value lo = scalarIn(rw, loc, op.getMin(), ct), hi = scalarIn(rw, loc, op.getMax(), ct);
    // MONAI leaves a constant image as it is.
    Value varies = rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, lo, hi);
    Value on = rw.create<arith::AndIOp>(loc, applied(rw, loc, op.getApply()), varies);
    Value range = rw.create<arith::SubFOp>(loc, hi, lo);
    auto scaled = [&](Value unit) { // unit * range + min, in the compute type
      Value u = scalarIn(rw, loc, unit, ct);
      return rw.create<arith::AddFOp>(loc, rw.create<arith::MulFOp>(loc, u, range), lo).getResult();
    };
    // The control points and segments depend on the call only: computed once, before the loop.
    Value last = rw.create<arith::SubFOp>(loc, op.getCount(), f64c(1.0));
    Value step = rw.create<arith::DivFOp>(loc, f64c(1.0), last);
    const int64_t k = static_cast<int64_t>(op.getPoints().size());
    SmallVector<Value> xp, fp;
    for (int64_t i = 0; i < k; ++i) {
      Value at = f64c(static_cast<double>(i));
      Value isLast = rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, at, last);
      Value r = rw.create<arith::SelectOp>(loc, isLast, f64c(1.0),
                                           rw.create<arith::MulFOp>(loc, at, step));
      xp.push_back(scaled(r));
      fp.push_back(scaled(op.getPoints()[i]));
    }
    SmallVector<Value> slope, intercept, inUse;
    Value lastSegment = rw.create<arith::SubFOp>(loc, op.getCount(), f64c(2.0));
    for (int64_t s = 0; s + 1 < k; ++s) {
      Value m = rw.create<arith::DivFOp>(loc, rw.create<arith::SubFOp>(loc, fp[s + 1], fp[s]),
                                         rw.create<arith::SubFOp>(loc, xp[s + 1], xp[s]));
      slope.push_back(m);
      intercept.push_back(
          rw.create<arith::SubFOp>(loc, fp[s], rw.create<arith::MulFOp>(loc, m, xp[s])));
      inUse.push_back(rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLE,
                                               f64c(static_cast<double>(s)), lastSegment));
    }
    Value xpLast = xp[0], fpLast = fp[0];
    for (int64_t i = 1; i < k; ++i) {
      Value isLast = rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ,
                                              f64c(static_cast<double>(i)), last);
      xpLast = rw.create<arith::SelectOp>(loc, isLast, xp[i], xpLast);
      fpLast = rw.create<arith::SelectOp>(loc, isLast, fp[i], fpLast);
    }
    // Where the call does not fire, the stored value as it is (an int32 image keeps values
    // float32 cannot hold).
    Value r = buildMapWhen(rw, loc, op, on, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      // The segment of the last reference point below x among 1..n-2 (xp ascends), else 0.
      Value m = slope[0], c = intercept[0];
      for (size_t s = 1; s < slope.size(); ++s) {
        Value above = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, xp[s], x);
        Value pick = b.create<arith::AndIOp>(l, inUse[s], above);
        m = b.create<arith::SelectOp>(l, pick, slope[s], m);
        c = b.create<arith::SelectOp>(l, pick, intercept[s], c);
      }
      Value y = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, m, x), c);
      Value below = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, x, xp[0]);
      y = b.create<arith::SelectOp>(l, below, fp[0], y);
      Value beyond = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, xpLast);
      return b.create<arith::SelectOp>(l, beyond, fpLast, y).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

// ---- Operations split at a reduction: statistics arrive as f64 operands ----------------------

struct NormalizeLowering : OpRewritePattern<NormalizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NormalizeOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    // Always f32: MONAI converts the image to float32 before normalising.
    FloatType f32 = rw.getF32Type();
    Value sub = scalarIn(rw, loc, op.getSub(), f32);
    Value div = scalarIn(rw, loc, op.getDiv(), f32);
    bool nonzero = op.getNonzero();
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      if (!x.getType().isF32())
        x = b.create<arith::TruncFOp>(l, f32, x);
      Value y = b.create<arith::DivFOp>(l, b.create<arith::SubFOp>(l, x, sub), div);
      if (!nonzero)
        return y;
      Value isZero =
          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, x, constant(b, l, f32, 0.0));
      return b.create<arith::SelectOp>(l, isZero, x, y).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

// rescale_array with the extrema as operands: the map half of ScaleIntensityLowering.
struct RescaleByLowering : OpRewritePattern<RescaleByOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RescaleByOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Value lo = scalarIn(rw, loc, op.getMin(), ct), hi = scalarIn(rw, loc, op.getMax(), ct);
    Value range = rw.create<arith::SubFOp>(loc, hi, lo);
    Value isFlat = rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, lo, hi);
    double minv = value(op.getMinvAttr()), maxv = value(op.getMaxvAttr());
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value norm = b.create<arith::DivFOp>(l, b.create<arith::SubFOp>(l, x, lo), range);
      Value scaled = b.create<arith::AddFOp>(
          l, b.create<arith::MulFOp>(l, norm, constant(b, l, ct, maxv - minv)),
          constant(b, l, ct, minv));
      Value flat = b.create<arith::MulFOp>(l, x, constant(b, l, ct, minv));
      return b.create<arith::SelectOp>(l, isFlat, flat, scaled).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ScaleRangeByLowering : OpRewritePattern<ScaleRangeByOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleRangeByOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Value aMin = scalarIn(rw, loc, op.getAMin(), ct);
    Value aMax = scalarIn(rw, loc, op.getAMax(), ct);
    Value range = rw.create<arith::SubFOp>(loc, aMax, aMin);
    Value flat =
        rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, range, constant(rw, loc, ct, 0.0));
    FloatAttr bMin = op.getBMinAttr(), bMax = op.getBMaxAttr();
    bool clip = op.getClip();
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value shifted = b.create<arith::SubFOp>(l, x, aMin);
      // MONAI: a_min == a_max warns and only shifts (by b_min when given).
      Value flatY =
          bMin ? b.create<arith::AddFOp>(l, shifted, constant(b, l, ct, value(bMin))).getResult()
               : shifted;
      Value y = b.create<arith::DivFOp>(l, shifted, range);
      if (bMin) {
        y = b.create<arith::MulFOp>(l, y, constant(b, l, ct, value(bMax) - value(bMin)));
        y = b.create<arith::AddFOp>(l, y, constant(b, l, ct, value(bMin)));
      }
      if (clip) {
        y = b.create<arith::MaximumFOp>(l, y, constant(b, l, ct, value(bMin)));
        y = b.create<arith::MinimumFOp>(l, y, constant(b, l, ct, value(bMax)));
      }
      return b.create<arith::SelectOp>(l, flat, flatY, y).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ClipByLowering : OpRewritePattern<ClipByOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ClipByOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Value lo = scalarIn(rw, loc, op.getMin(), ct), hi = scalarIn(rw, loc, op.getMax(), ct);
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value y = b.create<arith::MaximumFOp>(l, x, lo);
      return b.create<arith::MinimumFOp>(l, y, hi).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};
} // namespace

void mlir::med::lowering::populateDynamicLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ShiftByLowering, ScaleByLowering, AdjustContrastLowering, HistogramShiftLowering,
               NormalizeLowering, ScaleRangeByLowering, RescaleByLowering, ClipByLowering>(
      patterns.getContext());
}
