// convert-med-to-linalg: each med intensity op becomes a linalg.generic map (plus a reduction for
// ops that need whole-image statistics).
#include "med/MedOps.h"
#include "med/compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

namespace {

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

// (min, max) of the op's input over all elements, as two 0-d tensors of the compute type. NaN
// propagates (minimumf/maximumf), as torch.min/max do.
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

// ---- Operations with runtime operands -----------------------------------------------------------

// An f64 operand in the compute type (converted once, outside the loop).
Value scalarIn(OpBuilder &b, Location loc, Value v, FloatType ct) {
  return ct.isF64() ? v : b.create<arith::TruncFOp>(loc, ct, v).getResult();
}

// i1 "the transform fired": apply != 0.
Value applied(OpBuilder &b, Location loc, Value apply) {
  Value zero = b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(0.0));
  return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, apply, zero);
}

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
    auto [lo, hi] = buildMinMax(rw, loc, op);
    Value r = buildMap(rw, loc, op, {lo, hi}, [&](OpBuilder &b, Location l, Value x, ValueRange s) {
      Value range = b.create<arith::SubFOp>(l, s[1], s[0]);
      Value denom = b.create<arith::AddFOp>(l, range, constant(b, l, ct, 1e-7));
      Value norm = b.create<arith::DivFOp>(l, b.create<arith::SubFOp>(l, x, s[0]), denom);
      Value powed = b.create<math::PowFOp>(l, norm, gamma);
      Value y = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, powed, range), s[0]);
      return b.create<arith::SelectOp>(l, on, y, x).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

// Philox4x32-10 on i32 values (the same function as runtime/src/rng.cpp); returns words 0, 1.
std::pair<Value, Value> philox(OpBuilder &b, Location l, std::array<Value, 4> c,
                               std::array<Value, 2> k) {
  auto i32 = [&](uint32_t v) {
    return b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(static_cast<int32_t>(v))).getResult();
  };
  Type i64 = b.getI64Type(), i32t = b.getI32Type();
  Value m0 = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(0xD2511F53ll));
  Value m1 = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(0xCD9E8D57ll));
  Value w0 = i32(0x9E3779B9u), w1 = i32(0xBB67AE85u);
  Value shift = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(32));
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] = b.create<arith::AddIOp>(l, k[0], w0);
      k[1] = b.create<arith::AddIOp>(l, k[1], w1);
    }
    Value p0 = b.create<arith::MulIOp>(l, m0, b.create<arith::ExtUIOp>(l, i64, c[0]));
    Value p1 = b.create<arith::MulIOp>(l, m1, b.create<arith::ExtUIOp>(l, i64, c[2]));
    Value hi0 = b.create<arith::TruncIOp>(l, i32t, b.create<arith::ShRUIOp>(l, p0, shift));
    Value lo0 = b.create<arith::TruncIOp>(l, i32t, p0);
    Value hi1 = b.create<arith::TruncIOp>(l, i32t, b.create<arith::ShRUIOp>(l, p1, shift));
    Value lo1 = b.create<arith::TruncIOp>(l, i32t, p1);
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
    Value key0 = rw.create<arith::FPToUIOp>(loc, rw.getI32Type(), op.getKey0());
    Value key1 = rw.create<arith::FPToUIOp>(loc, rw.getI32Type(), op.getKey1());
    Value mean = op.getMean(), std = op.getStd();
    Value base = op.getIndexBase();
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Type i32 = b.getI32Type(), i64 = b.getI64Type(), f64 = b.getF64Type();
      Value pos = b.create<arith::AddIOp>(l, b.create<linalg::IndexOp>(l, 0), base);
      Value idx = b.create<arith::IndexCastUIOp>(l, i64, pos);
      Value c32 = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(32));
      Value lo = b.create<arith::TruncIOp>(l, i32, idx);
      Value hi = b.create<arith::TruncIOp>(l, i32, b.create<arith::ShRUIOp>(l, idx, c32));
      Value zero = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(0));
      auto [w0, w1] = philox(b, l, {lo, hi, zero, zero}, {key0, key1});
      auto uniform = [&](Value w) {
        Value u = b.create<arith::UIToFPOp>(l, f64, w);
        Value half = b.create<arith::ConstantOp>(l, b.getF64FloatAttr(0.5));
        Value scale = b.create<arith::ConstantOp>(l, b.getF64FloatAttr(0x1p-32));
        return b.create<arith::MulFOp>(l, b.create<arith::AddFOp>(l, u, half), scale).getResult();
      };
      Value u1 = uniform(w0), u2 = uniform(w1);
      Value m2 = b.create<arith::ConstantOp>(l, b.getF64FloatAttr(-2.0));
      Value twoPi = b.create<arith::ConstantOp>(l, b.getF64FloatAttr(6.283185307179586));
      Value radius =
          b.create<math::SqrtOp>(l, b.create<arith::MulFOp>(l, m2, b.create<math::LogOp>(l, u1)));
      Value n = b.create<arith::MulFOp>(
          l, radius, b.create<math::CosOp>(l, b.create<arith::MulFOp>(l, twoPi, u2)));
      // The noise is formed in f64 and rounded to the image's type before the add, as MONAI
      // converts numpy's float64 noise to the image dtype.
      Value noise = b.create<arith::AddFOp>(l, mean, b.create<arith::MulFOp>(l, std, n));
      Value y = b.create<arith::AddFOp>(l, x, scalarIn(b, l, noise, ct));
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

struct ConvertMedToLinalgPass : mlir::med::impl::ConvertMedToLinalgBase<ConvertMedToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ScaleIntensityRangeLowering, ShiftIntensityLowering, ScaleIntensityLowering,
                 ThresholdIntensityLowering, ClipLowering, ShiftByLowering, ScaleByLowering,
                 AdjustContrastLowering, GaussianNoiseLowering, NormalizeLowering,
                 ScaleRangeByLowering, ClipByLowering>(&getContext());
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
