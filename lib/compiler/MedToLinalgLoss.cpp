// convert-med-to-linalg, the loss kernels: med.dice_sums (a reduction folded through 16 lanes of
// f64 accumulators, as the other reductions) and med.dice_grad (an elementwise map over the
// input and target).
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

/// sigmoid(x) = 1 / (1 + exp(-x)) in x's type (0 for x far below zero, 1 far above).
Value sigmoid(OpBuilder &b, Location l, Value x) {
  auto ft = cast<FloatType>(x.getType());
  Value one = constant(b, l, ft, 1.0);
  Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, x));
  return b.create<arith::DivFOp>(l, one, b.create<arith::AddFOp>(l, one, e));
}

// [sum p t, sum p (p p), sum t (t t)] as a tensor<3xf64>: products in the input type, three f64
// accumulators per lane, then the tail and the lanes.
struct DiceSumsLowering : OpRewritePattern<DiceSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kLanes = 16;

  LogicalResult matchAndRewrite(DiceSumsOp op, PatternRewriter &rw) const override {
    const bool useSigmoid = op.getSigmoid(), squared = op.getSquared();
    FloatType f64 = rw.getF64Type();
    auto sum = [&](OpBuilder &b, Location l, ValueRange in, ValueRange acc) {
      Value p = useSigmoid ? sigmoid(b, l, in[0]) : in[0], y = in[1];
      Value terms[3] = {b.create<arith::MulFOp>(l, p, y),
                        squared ? b.create<arith::MulFOp>(l, p, p).getResult() : p,
                        squared ? b.create<arith::MulFOp>(l, y, y).getResult() : y};
      SmallVector<Value> next;
      for (int k = 0; k < 3; ++k)
        next.push_back(b.create<arith::AddFOp>(l, acc[k], toCompute(b, l, terms[k], f64)));
      return next;
    };
    SmallVector<Value> values =
        reduceThroughLanes(rw, op.getLoc(), ValueRange{op.getInput(), op.getTarget()}, kLanes,
                           {f64, f64, f64}, {f64, f64, f64}, sum, addLanes);
    rw.replaceOp(op,
                 rw.create<tensor::FromElementsOp>(op.getLoc(), op.getResult().getType(), values));
    return success();
  }
};

struct DiceGradLowering : OpRewritePattern<DiceGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DiceGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const bool useSigmoid = op.getSigmoid(), squared = op.getSquared();
    Value dInter = scalarIn(rw, loc, op.getDInter(), ft);
    Value dPred = scalarIn(rw, loc, op.getDPred(), ft);
    SmallVector<Value> dims;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        dims.push_back(rw.create<tensor::DimOp>(loc, op.getInput(), d));
    Value init = rw.create<tensor::EmptyOp>(loc, type, dims);
    AffineMap id = rw.getMultiDimIdentityMap(type.getRank());
    SmallVector<utils::IteratorType> iterators(type.getRank(), utils::IteratorType::parallel);
    auto g = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{op.getInput(), op.getTarget()}, ValueRange{init},
        ArrayRef<AffineMap>{id, id, id}, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value p = useSigmoid ? sigmoid(b, l, args[0]) : args[0];
          Value dp = dPred;
          if (squared)
            dp = b.create<arith::MulFOp>(l, dPred,
                                         b.create<arith::AddFOp>(l, p, p)); // d(p p)/dp = 2 p
          Value g = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, dInter, args[1]), dp);
          if (useSigmoid) {
            Value one = constant(b, l, ft, 1.0);
            Value slope = b.create<arith::MulFOp>(l, p, b.create<arith::SubFOp>(l, one, p));
            g = b.create<arith::MulFOp>(l, g, slope);
          }
          b.create<linalg::YieldOp>(l, g);
        });
    rw.replaceOp(op, g.getResult(0));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateLossLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<DiceSumsLowering, DiceGradLowering>(patterns.getContext());
}
