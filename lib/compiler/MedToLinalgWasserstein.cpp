// convert-med-to-linalg, the Wasserstein Dice kernels: med.wasserstein_sums (per class the
// labelled voxels and their distances, summed by sumInGroups over the logit rows and the label
// map) and med.wasserstein_grad (the gradient voxel by voxel, by mapVoxels). Both form the
// softmax as ATen's softmax does (exp of the logits less their largest, over their sum).
#include "LossLowering.h"
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

/// The row of the C x C `rows` (row by row) that the one-hot `t` selects: sum_k t_k rows[k][c]
/// per c (all zero for a voxel of no class).
SmallVector<Value> selectedRow(OpBuilder &b, Location l, ArrayRef<Value> t, ArrayRef<Value> rows) {
  const size_t C = t.size();
  SmallVector<Value> out;
  for (size_t c = 0; c < C; ++c) {
    Value acc;
    for (size_t k = 0; k < C; ++k) {
      Value term = b.create<arith::MulFOp>(l, t[k], rows[k * C + c]);
      acc = acc ? b.create<arith::AddFOp>(l, acc, term).getResult() : term;
    }
    out.push_back(acc);
  }
  return out;
}

/// sum_c x_c y_c.
Value dot(OpBuilder &b, Location l, ArrayRef<Value> x, ArrayRef<Value> y) {
  Value acc;
  for (size_t c = 0; c < x.size(); ++c) {
    Value term = b.create<arith::MulFOp>(l, x[c], y[c]);
    acc = acc ? b.create<arith::AddFOp>(l, acc, term).getResult() : term;
  }
  return acc;
}

// [t_0 .. t_{C-1}, t_0 w .. t_{C-1} w] summed by sumInGroups over the logit rows and the labels.
struct WassersteinSumsLowering : OpRewritePattern<WassersteinSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(WassersteinSumsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t C = type.getDimSize(0);
    SmallVector<Value> matrix = entriesIn(rw, loc, op.getMatrix(), C * C, ft);
    SmallVector<Value> rows = rowsOf(rw, loc, op.getInput());
    rows.push_back(op.getTarget());
    auto terms = [&](OpBuilder &b, Location l, ValueRange in) {
      VoxelSoftmax v = softmaxAt(b, l, in.take_front(C), in.drop_front(C));
      Value w = dot(b, l, selectedRow(b, l, v.t, matrix), v.p);
      SmallVector<Value> out(v.t.begin(), v.t.end());
      for (int64_t k = 0; k < C; ++k)
        out.push_back(b.create<arith::MulFOp>(l, v.t[k], w));
      return out;
    };
    replaceBySums(rw, op, rows, 2 * C, terms);
    return success();
  }
};

// p_c (g_c - sum_j p_j g_j) with g the coefficients' row of the voxel's class (mapVoxels).
struct WassersteinGradLowering : OpRewritePattern<WassersteinGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(WassersteinGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t C = type.getDimSize(0);
    SmallVector<Value> coeff = entriesIn(rw, loc, op.getCoefficients(), C * C, ft);
    auto gradient = [&](OpBuilder &b, Location l, ValueRange x, ValueRange t) {
      VoxelSoftmax v = softmaxAt(b, l, x, t);
      SmallVector<Value> g = selectedRow(b, l, v.t, coeff);
      Value mean = dot(b, l, v.p, g);
      SmallVector<Value> out;
      for (int64_t c = 0; c < C; ++c)
        out.push_back(b.create<arith::MulFOp>(l, v.p[c], b.create<arith::SubFOp>(l, g[c], mean)));
      return out;
    };
    rw.replaceOp(op, mapVoxels(rw, loc, op.getInput(), op.getTarget(), gradient));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateWassersteinLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<WassersteinSumsLowering, WassersteinGradLowering>(patterns.getContext());
}
