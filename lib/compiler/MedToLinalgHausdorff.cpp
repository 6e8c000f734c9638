// convert-med-to-linalg, the HausdorffDTLoss kernels: med.hausdorff_dt_sums (the weighted squared
// error summed by sumInGroups) and med.hausdorff_dt_grad (an elementwise map over the four
// inputs). Both form the weight f_x^alpha + f_t^alpha per element by powNonNegative, and the
// error in the order MONAI's formula forms it.
#include "LossLowering.h"
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

/// x - t and the weight f_x^alpha + f_t^alpha of one element (`in`: x, t, f_x, f_t).
std::pair<Value, Value> errorAndWeight(OpBuilder &b, Location l, ValueRange in, Value alpha,
                                       Value alphaZero) {
  Value d = b.create<arith::SubFOp>(l, in[0], in[1]);
  Value w = b.create<arith::AddFOp>(l, powNonNegative(b, l, in[2], alpha, alphaZero),
                                    powNonNegative(b, l, in[3], alpha, alphaZero));
  return {d, w};
}

// [sum (x - t)^2 w] as a tensor<1xf64> by sumInGroups.
struct HausdorffDTSumsLowering : OpRewritePattern<HausdorffDTSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HausdorffDTSumsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    Value alpha = scalarIn(rw, loc, op.getAlpha(), ft);
    Value alphaZero = isZeroF64(rw, loc, op.getAlpha());
    auto terms = [&](OpBuilder &b, Location l, ValueRange in) {
      auto [d, w] = errorAndWeight(b, l, in, alpha, alphaZero);
      return SmallVector<Value>{
          b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, d, d), w).getResult()};
    };
    replaceBySums(rw, op, op->getOperands().take_front(4), 1, terms);
    return success();
  }
};

// coefficient * 2 (x - t) w, elementwise.
struct HausdorffDTGradLowering : OpRewritePattern<HausdorffDTGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HausdorffDTGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    Value coeff = scalarIn(rw, loc, op.getCoefficient(), ft);
    Value alpha = scalarIn(rw, loc, op.getAlpha(), ft);
    Value alphaZero = isZeroF64(rw, loc, op.getAlpha());
    auto gradient = [&](OpBuilder &b, Location l, ValueRange in) {
      auto [d, w] = errorAndWeight(b, l, in, alpha, alphaZero);
      Value twice = b.create<arith::AddFOp>(l, d, d);
      return b.create<arith::MulFOp>(l, coeff, b.create<arith::MulFOp>(l, twice, w)).getResult();
    };
    rw.replaceOp(op, mapElements(rw, loc, op->getOperands().take_front(4), gradient));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateHausdorffLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<HausdorffDTSumsLowering, HausdorffDTGradLowering>(patterns.getContext());
}
