// convert-med-to-linalg: each med intensity op becomes a linalg.generic map; the reduction
// kernels lower in MedToLinalgReduce.cpp.
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

// The identity in the compute type; buildMap's conversion to the result type is the cast.
struct CastLowering : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp op, PatternRewriter &rw) const override {
    rw.replaceOp(op, buildMap(rw, op.getLoc(), op, {},
                              [](OpBuilder &, Location, Value x, ValueRange) { return x; }));
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

struct ConvertMedToLinalgPass : mlir::med::impl::ConvertMedToLinalgBase<ConvertMedToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ScaleIntensityRangeLowering, ShiftIntensityLowering, ScaleIntensityLowering,
                 ThresholdIntensityLowering, ClipLowering, CastLowering>(&getContext());
    populateDynamicLoweringPatterns(patterns);
    populateNoiseLoweringPatterns(patterns);
    populateResampleLoweringPatterns(patterns);
    populateFilterLoweringPatterns(patterns);
    populateBiasFieldLoweringPatterns(patterns);
    populateDropoutLoweringPatterns(patterns);
    populateReductionLoweringPatterns(patterns);
    populateLossLoweringPatterns(patterns);
    populateFocalLoweringPatterns(patterns);
    populateWassersteinLoweringPatterns(patterns);
    populateHausdorffLoweringPatterns(patterns);
    populateDdfLoweringPatterns(patterns);
    populateLnccLoweringPatterns(patterns);
    populateSsimLoweringPatterns(patterns);
    populateParzenLoweringPatterns(patterns);
    populateBsplineLoweringPatterns(patterns);
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
