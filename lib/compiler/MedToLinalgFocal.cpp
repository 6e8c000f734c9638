// convert-med-to-linalg, the focal loss kernels: med.focal_sums (the sigmoid focal term summed
// by sumInGroups) and med.focal_grad (an elementwise map over logits and target);
// med.softmax_focal_sums and med.softmax_focal_grad, the same over the rows of a
// (channels x voxels) block with the log softmax across the rows formed per voxel; and the
// `_terms` forms for reduction "none", which write the term of every element (or voxel and
// class) and take the map's incoming gradient per element. The
// arithmetic follows the order in which MONAI's formula (and so the ATen reference) forms it.
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

/// log1p(e) for e >= 0 without losing small e: with u = 1 + e, e itself when u rounds to 1,
/// else log(u) * e / (u - 1) (the rounding of u cancels). math.log1p would lower to log(1 + e).
Value log1p(OpBuilder &b, Location l, Value e) {
  auto ft = cast<FloatType>(e.getType());
  Value one = constant(b, l, ft, 1.0);
  Value u = b.create<arith::AddFOp>(l, one, e);
  Value exact = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, u, one);
  Value scaled =
      b.create<arith::DivFOp>(l, b.create<arith::MulFOp>(l, b.create<math::LogOp>(l, u), e),
                              b.create<arith::SubFOp>(l, u, one));
  return b.create<arith::SelectOp>(l, exact, e, scaled);
}

/// logsigmoid(v) = min(v, 0) - log1p(exp(-|v|)), as ATen forms it (finite for finite v).
Value logSigmoid(OpBuilder &b, Location l, Value v) {
  auto ft = cast<FloatType>(v.getType());
  Value low = b.create<arith::MinimumFOp>(l, v, constant(b, l, ft, 0.0));
  Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, b.create<math::AbsFOp>(l, v)));
  return b.create<arith::SubFOp>(l, low, log1p(b, l, e));
}

/// The sigmoid form's alpha and 1 - alpha (formed in f64), rounded to the input type once;
/// both null without alpha.
struct Alpha {
  Value alpha, complement;
};
Alpha alphaIn(OpBuilder &b, Location l, Value alpha, FloatType ft) {
  if (!alpha)
    return {};
  Value one = constant(b, l, b.getF64Type(), 1.0);
  return {scalarIn(b, l, alpha, ft), scalarIn(b, l, b.create<arith::SubFOp>(l, one, alpha), ft)};
}

/// One element's sigmoid focal pieces: bce = x - x t - logsigmoid(x), s = 2 t - 1 (as t * 2 - 1),
/// z = -x s, f = exp(logsigmoid(z) gamma), and the alpha factor (null without alpha).
struct SigmoidFocal {
  Value bce, s, z, f, factor;
};
SigmoidFocal sigmoidFocalAt(OpBuilder &b, Location l, Value x, Value t, Value gamma,
                            const Alpha &alpha) {
  auto ft = cast<FloatType>(x.getType());
  Value one = constant(b, l, ft, 1.0);
  SigmoidFocal r;
  r.bce = b.create<arith::SubFOp>(
      l, b.create<arith::SubFOp>(l, x, b.create<arith::MulFOp>(l, x, t)), logSigmoid(b, l, x));
  r.s = b.create<arith::SubFOp>(l, b.create<arith::MulFOp>(l, t, constant(b, l, ft, 2.0)), one);
  r.z = b.create<arith::MulFOp>(l, b.create<arith::NegFOp>(l, x), r.s);
  r.f = b.create<math::ExpOp>(l, b.create<arith::MulFOp>(l, logSigmoid(b, l, r.z), gamma));
  if (alpha.alpha)
    r.factor = b.create<arith::AddFOp>(
        l, b.create<arith::MulFOp>(l, t, alpha.alpha),
        b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, one, t), alpha.complement));
  return r;
}

/// One element's sigmoid focal term: f bce, times the alpha factor when there is one.
Value sigmoidTerm(OpBuilder &b, Location l, Value x, Value t, Value gamma, const Alpha &alpha) {
  SigmoidFocal s = sigmoidFocalAt(b, l, x, t, gamma, alpha);
  Value term = b.create<arith::MulFOp>(l, s.f, s.bce);
  return s.factor ? b.create<arith::MulFOp>(l, s.factor, term).getResult() : term;
}

/// coefficient * factor * (f gamma sigmoid(-z) (-s) bce + f (sigmoid(x) - t)): the derivative
/// of the term with respect to x, times `coeff`.
Value sigmoidGrad(OpBuilder &b, Location l, Value x, Value t, Value coeff, Value gamma,
                  const Alpha &alpha) {
  SigmoidFocal s = sigmoidFocalAt(b, l, x, t, gamma, alpha);
  // d f / dx = f gamma sigmoid(-z) dz/dx with dz/dx = -s; d bce / dx = sigmoid(x) - t.
  Value dLog = b.create<arith::MulFOp>(
      l, b.create<arith::MulFOp>(l, gamma, sigmoid(b, l, b.create<arith::NegFOp>(l, s.z))),
      b.create<arith::NegFOp>(l, s.s));
  Value inner = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, dLog, s.bce),
                                        b.create<arith::SubFOp>(l, sigmoid(b, l, x), t));
  Value grad = b.create<arith::MulFOp>(l, s.f, inner);
  if (s.factor)
    grad = b.create<arith::MulFOp>(l, s.factor, grad);
  return b.create<arith::MulFOp>(l, coeff, grad);
}

/// A sigmoid kernel's scalars with a coefficient (med.focal_grad, med.focal_terms and
/// med.focal_terms_grad), each rounded to the input type once, outside the loops.
struct SigmoidScalars {
  Value coeff, gamma;
  Alpha alpha;
};
template <typename Op> SigmoidScalars sigmoidScalars(OpBuilder &rw, Op op) {
  auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
  Location loc = op.getLoc();
  return {scalarIn(rw, loc, op.getCoefficient(), ft), scalarIn(rw, loc, op.getGamma(), ft),
          alphaIn(rw, loc, op.getAlpha(), ft)};
}

// [sum of the focal term] as a tensor<1xf64> by sumInGroups.
struct FocalSumsLowering : OpRewritePattern<FocalSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FocalSumsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    Value gamma = scalarIn(rw, loc, op.getGamma(), ft);
    Alpha alpha = alphaIn(rw, loc, op.getAlpha(), ft);
    auto terms = [&](OpBuilder &b, Location l, ValueRange in) {
      return SmallVector<Value>{sigmoidTerm(b, l, in[0], in[1], gamma, alpha)};
    };
    replaceBySums(rw, op, ValueRange{op.getInput(), op.getTarget()}, 1, terms);
    return success();
  }
};

// The gradient, elementwise (sigmoidGrad).
struct FocalGradLowering : OpRewritePattern<FocalGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FocalGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    SigmoidScalars k = sigmoidScalars(rw, op);
    auto gradient = [&](OpBuilder &b, Location l, Value x, Value t) {
      return sigmoidGrad(b, l, x, t, k.coeff, k.gamma, k.alpha);
    };
    rw.replaceOp(op, mapPairs(rw, loc, op.getInput(), op.getTarget(), gradient));
    return success();
  }
};

// coefficient * term, elementwise: the loss map.
struct FocalTermsLowering : OpRewritePattern<FocalTermsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FocalTermsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    SigmoidScalars k = sigmoidScalars(rw, op);
    auto term = [&](OpBuilder &b, Location l, Value x, Value t) {
      return b.create<arith::MulFOp>(l, k.coeff, sigmoidTerm(b, l, x, t, k.gamma, k.alpha))
          .getResult();
    };
    rw.replaceOp(op, mapPairs(rw, loc, op.getInput(), op.getTarget(), term));
    return success();
  }
};

// sigmoidGrad with the coefficient coefficient * upstream of each element.
struct FocalTermsGradLowering : OpRewritePattern<FocalTermsGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FocalTermsGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    SigmoidScalars k = sigmoidScalars(rw, op);
    auto gradient = [&](OpBuilder &b, Location l, ValueRange in) {
      Value scaled = b.create<arith::MulFOp>(l, k.coeff, in[2]);
      return sigmoidGrad(b, l, in[0], in[1], scaled, k.gamma, k.alpha);
    };
    rw.replaceOp(op,
                 mapElements(rw, loc, ValueRange{op.getInput(), op.getTarget(), op.getUpstream()},
                             gradient));
    return success();
  }
};

/// One voxel's log softmax over its C logits (l_c = (x_c - m) - log sum_k exp(x_k - m), as
/// ATen's log_softmax), p_c = exp(l_c), and its C targets: the target values themselves, or
/// the one-hot entries of classes first .. first + C - 1 read from a label.
struct VoxelLogSoftmax {
  SmallVector<Value> l, p, t;
};
VoxelLogSoftmax logSoftmaxAt(OpBuilder &b, Location l, ValueRange x, ValueRange target,
                             int64_t first) {
  Value m = x.front();
  for (Value v : x.drop_front())
    m = b.create<arith::MaximumFOp>(l, m, v); // NaN propagates, as in ATen's log_softmax
  SmallVector<Value> shifted;
  Value total;
  for (Value v : x) {
    shifted.push_back(b.create<arith::SubFOp>(l, v, m));
    Value e = b.create<math::ExpOp>(l, shifted.back());
    total = total ? b.create<arith::AddFOp>(l, total, e).getResult() : e;
  }
  Value lse = b.create<math::LogOp>(l, total);
  VoxelLogSoftmax s;
  for (Value d : shifted) {
    s.l.push_back(b.create<arith::SubFOp>(l, d, lse));
    s.p.push_back(b.create<math::ExpOp>(l, s.l.back()));
  }
  if (target.size() == x.size())
    s.t.assign(target.begin(), target.end());
  else
    for (size_t c = 0; c < x.size(); ++c)
      s.t.push_back(oneHotEntry(b, l, target[0], first + int64_t(c)));
  return s;
}

/// One voxel's softmax focal term of class c: -(1 - p_c)^gamma l_c t_c.
Value softmaxTerm(OpBuilder &b, Location l, const VoxelLogSoftmax &s, int64_t c, Value gamma,
                  Value gammaZero) {
  auto ft = cast<FloatType>(s.p[c].getType());
  Value q = b.create<arith::SubFOp>(l, constant(b, l, ft, 1.0), s.p[c]);
  Value w = b.create<arith::NegFOp>(l, powNonNegative(b, l, q, gamma, gammaZero));
  return b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, w, s.l[c]), s.t[c]);
}

// [sum_v -(1 - p_c)^gamma l_c t_c for each c] (+ the labelled voxels) by sumInGroups; the
// inputs are the logit rows followed by the target rows (or the label map).
struct SoftmaxFocalSumsLowering : OpRewritePattern<SoftmaxFocalSumsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxFocalSumsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t C = type.getDimSize(0), first = op.getFirst();
    const bool labels = cast<RankedTensorType>(op.getTarget().getType()).getRank() == 1;
    Value gamma = scalarIn(rw, loc, op.getGamma(), ft);
    Value gammaZero = isZeroF64(rw, loc, op.getGamma());
    SmallVector<Value> rows = rowsOf(rw, loc, op.getInput());
    llvm::append_range(rows, rowsOf(rw, loc, op.getTarget()));
    auto terms = [&](OpBuilder &b, Location l, ValueRange in) {
      VoxelLogSoftmax s = logSoftmaxAt(b, l, in.take_front(C), in.drop_front(C), first);
      SmallVector<Value> t;
      for (int64_t c = 0; c < C; ++c)
        t.push_back(softmaxTerm(b, l, s, c, gamma, gammaZero));
      if (labels) { // the label names a class in [0, first + C): -1 < v < first + C
        Value v = in[C];
        Value above =
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v, constant(b, l, ft, -1.0));
        Value below = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, v,
                                              constant(b, l, ft, double(first + C)));
        t.push_back(b.create<arith::SelectOp>(l, b.create<arith::AndIOp>(l, above, below),
                                              constant(b, l, ft, 1.0), constant(b, l, ft, 0.0)));
      }
      return t;
    };
    replaceBySums(rw, op, rows, C + (labels ? 1 : 0), terms);
    return success();
  }
};

// coefficients[c] * term_c per voxel and class (mapVoxels): the loss map.
struct SoftmaxFocalTermsLowering : OpRewritePattern<SoftmaxFocalTermsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxFocalTermsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t C = type.getDimSize(0), first = op.getFirst();
    SmallVector<Value> coeff = entriesIn(rw, loc, op.getCoefficients(), C, ft);
    Value gamma = scalarIn(rw, loc, op.getGamma(), ft);
    Value gammaZero = isZeroF64(rw, loc, op.getGamma());
    auto terms = [&](OpBuilder &b, Location l, ValueRange x, ValueRange t) {
      VoxelLogSoftmax s = logSoftmaxAt(b, l, x, t, first);
      SmallVector<Value> out;
      for (int64_t c = 0; c < C; ++c)
        out.push_back(
            b.create<arith::MulFOp>(l, coeff[c], softmaxTerm(b, l, s, c, gamma, gammaZero)));
      return out;
    };
    rw.replaceOp(op, mapVoxels(rw, loc, op.getInput(), op.getTarget(), terms));
    return success();
  }
};

/// The softmax focal gradient's scalars, formed once per kernel outside the loops: gamma and
/// gamma - 1 in the input type, and whether each is 0 ((1 - p)^gamma has no slope in p when
/// gamma is 0, as ATen's pow backward, even where (1 - p)^(gamma - 1) is infinite).
struct SoftmaxFocalScalars {
  Value gamma, gammaLess, flat, lessZero;
};
SoftmaxFocalScalars softmaxFocalScalars(OpBuilder &rw, Location loc, Value gamma64, FloatType ft) {
  FloatType f64 = rw.getF64Type();
  Value gammaLess64 = rw.create<arith::SubFOp>(loc, gamma64, constant(rw, loc, f64, 1.0));
  return {scalarIn(rw, loc, gamma64, ft), scalarIn(rw, loc, gammaLess64, ft),
          isZeroF64(rw, loc, gamma64), isZeroF64(rw, loc, gammaLess64)};
}

/// One voxel's gradient with respect to its logits, u_c - p_c sum_k u_k with u_c = coeff_c t_c
/// g'(l_c) for g(l) = -(1 - e^l)^gamma l: the derivative through the log softmax.
SmallVector<Value> softmaxFocalGrad(OpBuilder &b, Location l, const VoxelLogSoftmax &s,
                                    ArrayRef<Value> coeff, const SoftmaxFocalScalars &k) {
  auto ft = cast<FloatType>(s.p.front().getType());
  Value one = constant(b, l, ft, 1.0), fzero = constant(b, l, ft, 0.0);
  SmallVector<Value> u; // d loss / d l_c
  Value total;          // sum_k u_k
  for (size_t c = 0; c < s.p.size(); ++c) {
    Value q = b.create<arith::SubFOp>(l, one, s.p[c]);
    Value qg = powNonNegative(b, l, q, k.gamma, k.flat);
    Value slope = b.create<arith::MulFOp>(
        l,
        b.create<arith::MulFOp>(
            l,
            b.create<arith::MulFOp>(l, k.gamma, powNonNegative(b, l, q, k.gammaLess, k.lessZero)),
            s.p[c]),
        s.l[c]);
    slope = b.create<arith::SelectOp>(l, k.flat, fzero, slope);
    Value dg = b.create<arith::SubFOp>(l, slope, qg); // g'(l)
    u.push_back(b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, coeff[c], s.t[c]), dg));
    total = total ? b.create<arith::AddFOp>(l, total, u.back()).getResult() : u.back();
  }
  SmallVector<Value> g;
  for (size_t c = 0; c < s.p.size(); ++c)
    g.push_back(b.create<arith::SubFOp>(l, u[c], b.create<arith::MulFOp>(l, s.p[c], total)));
  return g;
}

// The gradient with respect to the logits, voxel by voxel (mapVoxels, as med.softmax_dice_grad).
struct SoftmaxFocalGradLowering : OpRewritePattern<SoftmaxFocalGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxFocalGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t C = type.getDimSize(0), first = op.getFirst();
    SmallVector<Value> coeff = entriesIn(rw, loc, op.getCoefficients(), C, ft);
    SoftmaxFocalScalars k = softmaxFocalScalars(rw, loc, op.getGamma(), ft);
    auto gradient = [&](OpBuilder &b, Location l, ValueRange x, ValueRange t) {
      return softmaxFocalGrad(b, l, logSoftmaxAt(b, l, x, t, first), coeff, k);
    };
    rw.replaceOp(op, mapVoxels(rw, loc, op.getInput(), op.getTarget(), gradient));
    return success();
  }
};

// softmaxFocalGrad with the coefficients coefficients[c] * upstream[c] of each voxel.
struct SoftmaxFocalTermsGradLowering : OpRewritePattern<SoftmaxFocalTermsGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxFocalTermsGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t C = type.getDimSize(0), first = op.getFirst();
    SmallVector<Value> coeff = entriesIn(rw, loc, op.getCoefficients(), C, ft);
    SoftmaxFocalScalars k = softmaxFocalScalars(rw, loc, op.getGamma(), ft);
    auto gradient = [&](OpBuilder &b, Location l, ValueRange x, ValueRange t, ValueRange up) {
      SmallVector<Value> scaled;
      for (int64_t c = 0; c < C; ++c)
        scaled.push_back(b.create<arith::MulFOp>(l, coeff[c], up[c]));
      return softmaxFocalGrad(b, l, logSoftmaxAt(b, l, x, t, first), scaled, k);
    };
    rw.replaceOp(op, mapVoxels(rw, loc, op.getInput(), op.getTarget(), op.getUpstream(), gradient));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateFocalLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<FocalSumsLowering, FocalGradLowering, FocalTermsLowering, FocalTermsGradLowering,
               SoftmaxFocalSumsLowering, SoftmaxFocalGradLowering, SoftmaxFocalTermsLowering,
               SoftmaxFocalTermsGradLowering>(patterns.getContext());
}
