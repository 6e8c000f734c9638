// convert-med-to-linalg, GlobalMutualInformationLoss's Parzen kernels: med.parzen_sums and
// med.parzen_window_grad as elementwise generics, med.parzen_window as one generic over (bins x
// voxels). The bin centres and the Gaussian's factor are read once, outside the loops. (One
// generic with a result per bin would not vectorise; the sums as a producer of the window's
// generic would be fused into it and formed again per bin: hence two kernels.)
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

/// The loop invariants: the B bin centres and -preterm, in the element type.
struct Bins {
  SmallVector<Value> centre;
  Value negPreterm;
  Bins(OpBuilder &b, Location l, Value centres, Value preterm, FloatType ft) {
    const int64_t n = cast<RankedTensorType>(centres.getType()).getDimSize(0);
    centre = entriesIn(b, l, centres, n, ft);
    negPreterm = b.create<arith::NegFOp>(l, scalarIn(b, l, preterm, ft));
  }
};

/// x clamped to [0, 1], as MONAI clamps the intensities.
Value clampUnit(OpBuilder &b, Location l, Value x) {
  auto ft = cast<FloatType>(x.getType());
  return b.create<arith::MinimumFOp>(l, b.create<arith::MaximumFOp>(l, x, constant(b, l, ft, 0.0)),
                                     constant(b, l, ft, 1.0));
}

/// exp(-preterm (x - c)^2) of a clamped x, and x - c. An exponent below the type's smallest
/// normal result (-87 in f32, -708 in f64) gives 0 without calling exp there: the vector exp
/// takes a scalar slow path per lane that underflows, and with the default 23 bins most do.
/// (ATen's exp gives 0 or a subnormal there, under 1.2e-38 next to a sum of at least exp(-1/2).)
std::pair<Value, Value> gaussian(OpBuilder &b, Location l, Value clamped, Value centre,
                                 Value negPreterm) {
  auto ft = cast<FloatType>(clamped.getType());
  Value diff = b.create<arith::SubFOp>(l, clamped, centre);
  Value arg =
      b.create<arith::MulFOp>(l, negPreterm, b.create<arith::MulFOp>(l, diff, diff).getResult());
  Value lo = constant(b, l, ft, ft.isF32() ? -87.0 : -708.0);
  Value e = b.create<math::ExpOp>(l, b.create<arith::MaximumFOp>(l, arg, lo));
  Value under = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, arg, lo);
  return {b.create<arith::SelectOp>(l, under, constant(b, l, ft, 0.0), e), diff};
}

/// One voxel's Parzen weights, as MONAI forms them: e_i = exp(-preterm (x - c_i)^2) of x
/// clamped, w_i = e_i / sum_k e_k. `diff` keeps x - c_i for the gradient.
struct Weights {
  SmallVector<Value> diff, w;
  Value sum;
  Weights(OpBuilder &b, Location l, Value x, const Bins &k) {
    Value clamped = clampUnit(b, l, x);
    SmallVector<Value> e;
    for (Value c : k.centre) {
      auto [ei, d] = gaussian(b, l, clamped, c, k.negPreterm);
      e.push_back(ei);
      diff.push_back(d);
      sum = sum ? b.create<arith::AddFOp>(l, sum, ei).getResult() : ei;
    }
    for (Value v : e)
      w.push_back(b.create<arith::DivFOp>(l, v, sum));
  }
};

struct ParzenSumsLowering : OpRewritePattern<ParzenSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ParzenSumsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    Bins k(rw, loc, op.getCentres(), op.getPreterm(), ft);
    rw.replaceOp(op, mapElements(rw, loc, ValueRange{op.getInput()},
                                 [&](OpBuilder &b, Location l, ValueRange in) {
                                   return Weights(b, l, in[0], k).sum;
                                 }));
    return success();
  }
};

// One generic over (bins x voxels), the voxels innermost: each weight's exponential over its
// voxel's sum, the bin's centre read per row.
struct ParzenWindowLowering : OpRewritePattern<ParzenWindowOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ParzenWindowOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getResult().getType());
    auto ft = cast<FloatType>(type.getElementType());
    Value negPreterm = rw.create<arith::NegFOp>(loc, scalarIn(rw, loc, op.getPreterm(), ft));
    Value n = rw.create<tensor::DimOp>(loc, op.getInput(), 0);
    Value init = rw.create<tensor::EmptyOp>(loc, type, ValueRange{n});
    MLIRContext *ctx = rw.getContext();
    AffineMap voxel = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
    AffineMap bin = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
    SmallVector<AffineMap> maps = {voxel, voxel, bin, rw.getMultiDimIdentityMap(2)};
    auto parallel = utils::IteratorType::parallel;
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{op.getInput(), op.getSums(), op.getCentres()},
        ValueRange{init}, maps, ArrayRef<utils::IteratorType>{parallel, parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value centre = scalarIn(b, l, args[2], ft);
          Value e = gaussian(b, l, clampUnit(b, l, args[0]), centre, negPreterm).first;
          b.create<linalg::YieldOp>(l, ValueRange{b.create<arith::DivFOp>(l, e, args[1])});
        });
    rw.replaceOp(op, generic.getResults());
    return success();
  }
};

// d_i = sum_j J_ij b_j, then through w_i = e_i / sum e and e_i = exp(-p (x - c_i)^2):
// dw_i/dx = w_i (q_i - sum_k w_k q_k) with q_i = -2 p (x - c_i), so the gradient is
// sum_i d_i w_i q_i - (sum_i d_i w_i)(sum_k w_k q_k), kept where 0 <= x <= 1.
struct ParzenWindowGradLowering : OpRewritePattern<ParzenWindowGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ParzenWindowGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    Bins k(rw, loc, op.getCentres(), op.getPreterm(), ft);
    const int64_t bins = int64_t(k.centre.size());
    SmallVector<Value> joint = entriesIn(rw, loc, op.getJoint(), bins * bins, ft);
    Value twoNegP = rw.create<arith::MulFOp>(loc, constant(rw, loc, ft, 2.0), k.negPreterm);
    auto gradient = [&](OpBuilder &b, Location l, ValueRange in) {
      auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(l, x, y).getResult(); };
      auto add = [&](Value acc, Value x) {
        return acc ? b.create<arith::AddFOp>(l, acc, x).getResult() : x;
      };
      Weights a(b, l, in[0], k), t(b, l, in[1], k);
      Value s1, s2, s3;
      for (int64_t i = 0; i < bins; ++i) {
        Value d;
        for (int64_t j = 0; j < bins; ++j)
          d = add(d, mul(joint[i * bins + j], t.w[j]));
        Value q = mul(twoNegP, a.diff[i]);
        Value dw = mul(d, a.w[i]);
        s1 = add(s1, mul(dw, q));
        s2 = add(s2, dw);
        s3 = add(s3, mul(a.w[i], q));
      }
      Value inside = b.create<arith::AndIOp>(
          l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, in[0], constant(b, l, ft, 0.0)),
          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, in[0], constant(b, l, ft, 1.0)));
      Value g = b.create<arith::SubFOp>(l, s1, mul(s2, s3));
      return b.create<arith::SelectOp>(l, inside, g, constant(b, l, ft, 0.0)).getResult();
    };
    rw.replaceOp(op, mapElements(rw, loc, ValueRange{op.getInput(), op.getOther()}, gradient));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateParzenLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ParzenSumsLowering, ParzenWindowLowering, ParzenWindowGradLowering>(
      patterns.getContext());
}
