// Lowering of med ops whose parameters are runtime f64 operands: random transforms (drawn per
// call on the host) and transforms split at a reduction (statistics computed first).
#include "LoweringUtils.h"

#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

#include <array>

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
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value y = b.create<arith::AddFOp>(l, x, offset);
      return b.create<arith::SelectOp>(l, on, y, x).getResult();
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
      // norm >= 0 and gamma > 0 (checked on the host), so norm^gamma = exp(gamma log norm),
      // 0 at norm = 0 and NaN for NaN, in the compute type: libmvec's vector logf and expf cost
      // 0.4x its powf. The error stays within a few ulp of 1 (x^g |log x^g| <= 1/e), i.e. a few
      // ulp of the image's range after the scaling back, as powf's own rounding does.
      Value powed = b.create<math::ExpOp>(
          l, b.create<arith::MulFOp>(l, gamma, b.create<math::LogOp>(l, norm)));
      Value y = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, powed, range), lo);
      return b.create<arith::SelectOp>(l, on, y, x).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

// Philox4x32-10 (the same function as runtime/src/rng.cpp) with every 32-bit word held in the
// low half of an i64 whose high half is zero: the 32x32->64 products then need no extensions and
// the words no truncations, so vectorised rounds stay in 64-bit lanes (a multiply of zero-extended
// halves, shifts, ands, xors) instead of shuffling between 32- and 64-bit lanes. Returns words 0
// and 1, still as i64.
std::pair<Value, Value> philox(OpBuilder &b, Location l, std::array<Value, 4> c,
                               std::array<Value, 2> k) {
  auto i64 = [&](uint64_t v) {
    return b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(static_cast<int64_t>(v))).getResult();
  };
  Value m0 = i64(0xD2511F53u), m1 = i64(0xCD9E8D57u), mask = i64(0xFFFFFFFFu), shift = i64(32);
  Value w0 = i64(0x9E3779B9u), w1 = i64(0xBB67AE85u);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) { // loop-invariant: computed once per kernel call
      k[0] = b.create<arith::AndIOp>(l, b.create<arith::AddIOp>(l, k[0], w0), mask);
      k[1] = b.create<arith::AndIOp>(l, b.create<arith::AddIOp>(l, k[1], w1), mask);
    }
    Value p0 = b.create<arith::MulIOp>(l, m0, c[0]);
    Value p1 = b.create<arith::MulIOp>(l, m1, c[2]);
    Value hi0 = b.create<arith::ShRUIOp>(l, p0, shift), lo0 = b.create<arith::AndIOp>(l, p0, mask);
    Value hi1 = b.create<arith::ShRUIOp>(l, p1, shift), lo1 = b.create<arith::AndIOp>(l, p1, mask);
    c = {b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, hi1, c[1]), k[0]), lo1,
         b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, hi0, c[3]), k[1]), lo0};
  }
  return {c[0], c[1]};
}

struct GaussianNoiseLowering : OpRewritePattern<GaussianNoiseOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GaussianNoiseOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FloatType ct = computeType(op);
    Value on = applied(rw, loc, op.getApply());
    Value key0 = rw.create<arith::ExtUIOp>(
        loc, rw.getI64Type(), rw.create<arith::FPToUIOp>(loc, rw.getI32Type(), op.getKey0()));
    Value key1 = rw.create<arith::ExtUIOp>(
        loc, rw.getI64Type(), rw.create<arith::FPToUIOp>(loc, rw.getI32Type(), op.getKey1()));
    Value mean = scalarIn(rw, loc, op.getMean(), ct), std = scalarIn(rw, loc, op.getStd(), ct);
    Value base = op.getIndexBase();
    // A window of rows (rank 2): position = row * row length + column.
    Value rowLength;
    if (cast<RankedTensorType>(op.getInput().getType()).getRank() == 2)
      rowLength = rw.create<tensor::DimOp>(loc, op.getInput(), 1);
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Type i32 = b.getI32Type(), i64 = b.getI64Type();
      Value local = b.create<linalg::IndexOp>(l, 0);
      if (rowLength)
        local = b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, local, rowLength),
                                        b.create<linalg::IndexOp>(l, 1));
      Value pos = b.create<arith::AddIOp>(l, local, base);
      Value idx = b.create<arith::IndexCastUIOp>(l, i64, pos);
      Value c32 = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(32));
      Value low = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(0xFFFFFFFFll));
      Value lo = b.create<arith::AndIOp>(l, idx, low);
      Value hi = b.create<arith::ShRUIOp>(l, idx, c32);
      Value zero = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(0));
      auto [w0, w1] = philox(b, l, {lo, hi, zero, zero}, {key0, key1});
      // Box-Muller in the compute type: for float32 images eight lanes per vector and libmvec's
      // float log and cos (the noise then differs from a float64 draw rounded to float32 by a
      // few ulp); float64 images keep float64 throughout.
      auto cst = [&](double v) { return constant(b, l, ct, v); };
      auto uniform = [&](Value w) {
        Value u = b.create<arith::UIToFPOp>(l, ct, b.create<arith::TruncIOp>(l, i32, w));
        return b.create<arith::MulFOp>(l, b.create<arith::AddFOp>(l, u, cst(0.5)), cst(0x1p-32))
            .getResult();
      };
      Value u1 = uniform(w0), u2 = uniform(w1);
      Value radius = b.create<math::SqrtOp>(
          l, b.create<arith::MulFOp>(l, cst(-2.0), b.create<math::LogOp>(l, u1)));
      Value n = b.create<arith::MulFOp>(
          l, radius,
          b.create<math::CosOp>(l, b.create<arith::MulFOp>(l, cst(6.283185307179586), u2)));
      Value noise = b.create<arith::AddFOp>(l, mean, b.create<arith::MulFOp>(l, std, n));
      Value y = b.create<arith::AddFOp>(l, x, noise);
      return b.create<arith::SelectOp>(l, on, y, x).getResult();
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
  patterns.add<ShiftByLowering, ScaleByLowering, AdjustContrastLowering, GaussianNoiseLowering,
               NormalizeLowering, ScaleRangeByLowering, RescaleByLowering, ClipByLowering>(
      patterns.getContext());
}
