// convert-med-to-linalg, GlobalMutualInformationLoss's b-spline Parzen kernels:
// med.bspline_sums and med.bspline_window_grad as elementwise generics, med.bspline_window as
// one generic over (bins x voxels), as the Gaussian ones (MedToLinalgParzen.cpp). A voxel's
// bin coordinate t = clamp(x / s - m, 2, B - 3) is formed as MONAI forms it, in the element
// type; the weights are dense over the B bins (at most four are not zero) so the loops stay
// branch-free and vectorise.
#include "LossLowering.h"
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

/// An image's scale (bin size s, normalised minimum m) and the clamp's bounds, in the element
/// type, read once outside the loops.
struct Scale {
  Value size, min, lo, hi;
  Scale(OpBuilder &b, Location l, Value scale, int64_t bins, FloatType ft) {
    SmallVector<Value> e = entriesIn(b, l, scale, 2, ft);
    size = e[0];
    min = e[1];
    lo = constant(b, l, ft, 2.0);
    hi = constant(b, l, ft, double(bins - 3));
  }
  /// x / s - m, before the clamp.
  Value unclamped(OpBuilder &b, Location l, Value x) const {
    return b.create<arith::SubFOp>(l, b.create<arith::DivFOp>(l, x, size), min);
  }
  Value clamped(OpBuilder &b, Location l, Value u) const {
    return b.create<arith::MinimumFOp>(l, b.create<arith::MaximumFOp>(l, u, lo), hi);
  }
  /// 1 where lo <= u <= hi (the clamp passes the gradient there, as ATen's), as an i1.
  Value inside(OpBuilder &b, Location l, Value u) const {
    return b.create<arith::AndIOp>(l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, u, lo),
                                   b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, u, hi));
  }
};

/// The unnormalised weight of bin `centre` at t, and with `derivative` its derivative by t.
/// Cubic (order 3): (4 - 6a^2 + 3a^3) / 6 for a < 1, (2 - a)^3 / 6 for 1 <= a < 2, else 0, with
/// a = |centre - t| (whose derivative ATen takes as sign(t - centre), 0 at a tie). Box (order
/// 0): 1 for a < 1/2, 1/2 at a = 1/2, else 0.
std::pair<Value, Value> weight(OpBuilder &b, Location l, Value t, Value centre, int64_t order,
                               bool derivative) {
  auto ft = cast<FloatType>(t.getType());
  auto c = [&](double v) { return constant(b, l, ft, v); };
  auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(l, x, y).getResult(); };
  auto sub = [&](Value x, Value y) { return b.create<arith::SubFOp>(l, x, y).getResult(); };
  auto lt = [&](Value x, Value y) {
    return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, x, y).getResult();
  };
  auto select = [&](Value cond, Value x, Value y) {
    return b.create<arith::SelectOp>(l, cond, x, y).getResult();
  };
  Value diff = sub(centre, t);
  Value a = b.create<math::AbsFOp>(l, diff);
  if (order == 0) {
    Value tie = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a, c(0.5));
    return {select(lt(a, c(0.5)), c(1.0), select(tie, c(0.5), c(0.0))), Value()};
  }
  Value a2 = mul(a, a), r = sub(c(2.0), a), r2 = mul(r, r);
  Value near = b.create<arith::DivFOp>(
      l, b.create<arith::AddFOp>(l, sub(c(4.0), mul(c(6.0), a2)), mul(c(3.0), mul(a2, a))), c(6.0));
  Value far = b.create<arith::DivFOp>(l, mul(r2, r), c(6.0));
  Value isNear = lt(a, c(1.0)), isFar = lt(a, c(2.0));
  Value e = select(isNear, near, select(isFar, far, c(0.0)));
  if (!derivative)
    return {e, Value()};
  // d/da, then times d|centre - t|/dt = sign(t - centre) (0 at a tie).
  Value dNear = b.create<arith::DivFOp>(
      l, b.create<arith::AddFOp>(l, mul(c(-12.0), a), mul(c(9.0), a2)), c(6.0));
  Value dFar = b.create<arith::DivFOp>(l, mul(c(-3.0), r2), c(6.0));
  Value dA = select(isNear, dNear, select(isFar, dFar, c(0.0)));
  Value sign = select(lt(diff, c(0.0)), c(1.0), select(lt(c(0.0), diff), c(-1.0), c(0.0)));
  return {e, mul(dA, sign)};
}

/// Bin i's centre, i, in the element type.
Value centreOf(OpBuilder &b, Location l, int64_t i, FloatType ft) {
  return constant(b, l, ft, double(i));
}

struct BsplineSumsLowering : OpRewritePattern<BsplineSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BsplineSumsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    const int64_t bins = op.getBins(), order = op.getOrder();
    Scale k(rw, loc, op.getScale(), bins, ft);
    auto sums = [&](OpBuilder &b, Location l, ValueRange in) {
      Value t = k.clamped(b, l, k.unclamped(b, l, in[0])), sum;
      for (int64_t i = 0; i < bins; ++i) {
        Value e = weight(b, l, t, centreOf(b, l, i, ft), order, false).first;
        sum = sum ? b.create<arith::AddFOp>(l, sum, e).getResult() : e;
      }
      return sum;
    };
    rw.replaceOp(op, mapElements(rw, loc, ValueRange{op.getInput()}, sums));
    return success();
  }
};

// One generic over (bins x voxels), the voxels innermost: each weight over its voxel's sum, the
// bin's centre from the row index.
struct BsplineWindowLowering : OpRewritePattern<BsplineWindowOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BsplineWindowOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getResult().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t order = op.getOrder();
    Scale k(rw, loc, op.getScale(), type.getDimSize(0), ft);
    Value n = rw.create<tensor::DimOp>(loc, op.getInput(), 0);
    Value init = rw.create<tensor::EmptyOp>(loc, type, ValueRange{n});
    MLIRContext *ctx = rw.getContext();
    AffineMap voxel = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
    SmallVector<AffineMap> maps = {voxel, voxel, rw.getMultiDimIdentityMap(2)};
    auto parallel = utils::IteratorType::parallel;
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{op.getInput(), op.getSums()}, ValueRange{init}, maps,
        ArrayRef<utils::IteratorType>{parallel, parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value row =
              b.create<arith::IndexCastOp>(l, b.getI64Type(), b.create<linalg::IndexOp>(l, 0));
          Value centre = b.create<arith::SIToFPOp>(l, ft, row);
          Value t = k.clamped(b, l, k.unclamped(b, l, args[0]));
          Value e = weight(b, l, t, centre, order, false).first;
          b.create<linalg::YieldOp>(l, ValueRange{b.create<arith::DivFOp>(l, e, args[1])});
        });
    rw.replaceOp(op, generic.getResults());
    return success();
  }
};

// d_i = sum_j J_ij b_j with b the other image's box weights; through w_i = e_i / S:
// dL/dt = (sum_i d_i e'_i - (sum_i d_i e_i)(sum_k e'_k) / S) / S, then dt/dx = 1 / s where the
// clamp passes it.
struct BsplineWindowGradLowering : OpRewritePattern<BsplineWindowGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BsplineWindowGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    const int64_t jointSize = cast<RankedTensorType>(op.getJoint().getType()).getDimSize(0);
    int64_t bins = 0;
    while (bins * bins < jointSize)
      ++bins;
    Scale kx(rw, loc, op.getScale(), bins, ft), ky(rw, loc, op.getOtherScale(), bins, ft);
    SmallVector<Value> joint = entriesIn(rw, loc, op.getJoint(), bins * bins, ft);
    auto gradient = [&](OpBuilder &b, Location l, ValueRange in) {
      auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(l, x, y).getResult(); };
      auto add = [&](Value acc, Value x) {
        return acc ? b.create<arith::AddFOp>(l, acc, x).getResult() : x;
      };
      Value u = kx.unclamped(b, l, in[0]);
      Value t = kx.clamped(b, l, u), ty = ky.clamped(b, l, ky.unclamped(b, l, in[1]));
      SmallVector<Value> box;
      for (int64_t j = 0; j < bins; ++j)
        box.push_back(weight(b, l, ty, centreOf(b, l, j, ft), 0, false).first);
      Value sum, dSum, dE, dDeriv;
      for (int64_t i = 0; i < bins; ++i) {
        auto [e, de] = weight(b, l, t, centreOf(b, l, i, ft), 3, true);
        Value d;
        for (int64_t j = 0; j < bins; ++j)
          d = add(d, mul(joint[i * bins + j], box[j]));
        sum = add(sum, e);
        dSum = add(dSum, de);
        dE = add(dE, mul(d, e));
        dDeriv = add(dDeriv, mul(d, de));
      }
      Value g = b.create<arith::SubFOp>(l, dDeriv,
                                        b.create<arith::DivFOp>(l, mul(dE, dSum), sum).getResult());
      g = b.create<arith::DivFOp>(l, g, mul(sum, kx.size));
      return b.create<arith::SelectOp>(l, kx.inside(b, l, u), g, constant(b, l, ft, 0.0))
          .getResult();
    };
    rw.replaceOp(op, mapElements(rw, loc, ValueRange{op.getInput(), op.getOther()}, gradient));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateBsplineLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<BsplineSumsLowering, BsplineWindowLowering, BsplineWindowGradLowering>(
      patterns.getContext());
}
