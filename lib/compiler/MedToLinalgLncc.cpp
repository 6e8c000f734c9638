// convert-med-to-linalg, the local normalised cross-correlation kernels: med.lncc_map,
// med.lncc_coefficients and med.lncc_grad, each one stencil window (StencilLowering.h) over a
// channel. The K^n window is unrolled: each offset's weight (the product of the 1-D weights, in
// f64, rounded once) and flat offset are loop invariants, and a neighbour outside the image is
// dropped by a select on its position (zero padding, whatever the buffer holds there).
#include "LoweringUtils.h"
#include "StencilLowering.h"
#include "med/MedOps.h"

#include <type_traits>
#include <vector>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

/// The loop invariants of an LNCC kernel: the channel's window, the offsets of the K^n window
/// (and their negations) with their weights, the padding and the image's bounds.
struct Lncc {
  int64_t n = 0;
  FloatType ft;
  Window w;
  Value pad;
  SmallVector<Shift> window;      // every o in [-h, h]^n
  SmallVector<Value> weight;      // w(o) in the input type, per entry of `window`
  std::map<Shift, Value> offsets; // flat offsets of every o
  Bounds image;

  Lncc(OpBuilder &b, Location l, ValueRange args, int64_t rank, int64_t size, Type elem)
      : n(rank), ft(cast<FloatType>(elem)), w(Window::of(b, l, args.take_front(rank))) {
    const int64_t h = size / 2;
    auto c = [&](double v) { return constant(b, l, b.getF64Type(), v); };
    Value strides = c(0.0);
    for (int64_t d = 0; d < n; ++d) {
      strides = b.create<arith::AddFOp>(l, strides, w.stride[d]);
      image.lo.push_back(c(0.0));
      image.hi.push_back(b.create<arith::SubFOp>(l, w.size[d], c(1.0)));
    }
    pad = b.create<arith::MulFOp>(l, strides, c(double(h)));
    int64_t count = 1;
    for (int64_t d = 0; d < n; ++d)
      count *= size;
    for (int64_t i = 0; i < count; ++i) {
      Shift o{0, 0, 0};
      Value wt;
      for (int64_t d = n - 1, rest = i; d >= 0; --d, rest /= size) {
        o[d] = rest % size - h;
        Value wd = args[n + rest % size];
        wt = wt ? b.create<arith::MulFOp>(l, wd, wt).getResult() : wd;
      }
      window.push_back(o);
      weight.push_back(scalarIn(b, l, wt, ft));
      for (const Shift &s : {o, Shift{-o[0], -o[1], -o[2]}})
        if (!offsets.count(s))
          offsets.emplace(s, w.offsetOf(b, l, s));
    }
  }

  Value length(OpBuilder &b, Location l) const { return Window::indexOf(b, l, w.size[n - 1]); }
};

/// The window sums at a voxel: S_p, S_t, S_pp, S_tt, S_pt (MONAI forms t t, p p and t p before
/// filtering; each product is weighted, then added, in window order).
struct Sums {
  Value p, t, pp, tt, pt;
};

Sums windowSums(OpBuilder &b, Location l, Lncc &k, ValueRange idx, Neighbours &p, Neighbours &t) {
  Value zero = constant(b, l, k.ft, 0.0);
  Sums s;
  auto add = [&](Value &acc, Value ok, Value wt, Value x) {
    Value term = b.create<arith::SelectOp>(l, ok, b.create<arith::MulFOp>(l, wt, x), zero);
    acc = acc ? b.create<arith::AddFOp>(l, acc, term).getResult() : term;
  };
  k.image.memo.clear();
  for (size_t i = 0; i < k.window.size(); ++i) {
    const Shift &o = k.window[i];
    Value ok = k.image.inside(b, l, idx, o), wt = k.weight[i];
    Value pv = p(o), tv = t(o);
    add(s.p, ok, wt, pv);
    add(s.t, ok, wt, tv);
    add(s.pp, ok, wt, b.create<arith::MulFOp>(l, pv, pv));
    add(s.tt, ok, wt, b.create<arith::MulFOp>(l, tv, tv));
    add(s.pt, ok, wt, b.create<arith::MulFOp>(l, tv, pv));
  }
  return s;
}

/// MONAI's formula over the sums: cross, the two clamped variances, the raw prediction variance
/// and ncc.
struct Correlation {
  Value cross, varT, varP, rawP, ncc;
};

Correlation correlate(OpBuilder &b, Location l, const Sums &s, Value vol, Value nr, Value dr) {
  Value tAvg = b.create<arith::DivFOp>(l, s.t, vol), pAvg = b.create<arith::DivFOp>(l, s.p, vol);
  Correlation c;
  c.cross = b.create<arith::SubFOp>(l, s.pt, b.create<arith::MulFOp>(l, pAvg, s.t));
  Value rawT = b.create<arith::SubFOp>(l, s.tt, b.create<arith::MulFOp>(l, tAvg, s.t));
  c.rawP = b.create<arith::SubFOp>(l, s.pp, b.create<arith::MulFOp>(l, pAvg, s.p));
  c.varT = b.create<arith::MaximumFOp>(l, rawT, dr);
  c.varP = b.create<arith::MaximumFOp>(l, c.rawP, dr);
  Value num = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, c.cross, c.cross), nr);
  c.ncc = b.create<arith::DivFOp>(l, num, b.create<arith::MulFOp>(l, c.varT, c.varP));
  return c;
}

/// The pattern for the two kernels that read p and t and form the window sums.
template <typename Op> struct SumsLowering : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank(), size = op.getKernelSize();
    ValueRange args = op.getArgs();
    Type elem = cast<RankedTensorType>(op.getInputs().front().getType()).getElementType();
    Lncc k(rw, loc, args, n, size, elem);
    const int64_t scalars = n + size;
    Value vol = scalarIn(rw, loc, args[scalars], k.ft);
    Value nr = scalarIn(rw, loc, args[scalars + 1], k.ft);
    Value dr = scalarIn(rw, loc, args[scalars + 2], k.ft);
    const bool coefficients = std::is_same_v<Op, LnccCoefficientsOp>;
    // g: the coefficient arg, or (a third input) the incoming gradient map at the voxel.
    const bool perVoxel = op.getInputs().size() == 3;
    Value coefficient =
        coefficients && !perVoxel ? scalarIn(rw, loc, args[scalars + 3], k.ft) : Value();
    auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
      Value base = b.create<arith::AddIOp>(l, k.w.rowBase(b, l, idx, k.pad, 0.0), column);
      Neighbours p{b, l, op.getInputs()[0], base, k.offsets};
      Neighbours t{b, l, op.getInputs()[1], base, k.offsets};
      Sums s = windowSums(b, l, k, idx, p, t);
      Correlation c = correlate(b, l, s, vol, nr, dr);
      if (!coefficients)
        return SmallVector<Value>{c.ncc};
      Value g = coefficient;
      if (perVoxel)
        g = Neighbours{b, l, op.getInputs()[2], base, k.offsets}(Shift{0, 0, 0});
      auto cst = [&](double v) { return constant(b, l, k.ft, v); };
      // m: 1 above dr, 1/2 at it, 0 below (ATen's maximum splits a tie).
      Value m = b.create<arith::SelectOp>(
          l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, c.rawP, dr), cst(1.0),
          b.create<arith::SelectOp>(
              l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, c.rawP, dr), cst(0.5),
              cst(0.0)));
      Value den = b.create<arith::MulFOp>(l, c.varT, c.varP);
      Value twoCross = b.create<arith::MulFOp>(l, cst(2.0), c.cross);
      Value aPt = b.create<arith::DivFOp>(l, b.create<arith::MulFOp>(l, g, twoCross), den);
      Value aPp = b.create<arith::NegFOp>(
          l, b.create<arith::DivFOp>(
                 l, b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, g, c.ncc), m), c.varP));
      Value fromCross = b.create<arith::DivFOp>(
          l, b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, g, twoCross), s.t),
          b.create<arith::MulFOp>(l, vol, den));
      Value fromVar = b.create<arith::DivFOp>(
          l, b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, cst(2.0), aPp), s.p), vol);
      Value aP = b.create<arith::NegFOp>(l, b.create<arith::AddFOp>(l, fromCross, fromVar));
      return SmallVector<Value>{aP, aPp, aPt};
    };
    SmallVector<Value> outer(k.w.size.begin(), k.w.size.end() - 1);
    rw.replaceOp(op, buildWindow(rw, loc, k.w, elem, coefficients ? 3 : 1, op.getWindowOffset(),
                                 op.getWindowRows(), k.length(rw, loc), outer, 0.0, body));
    return success();
  }
};

// sum_o w(o) [u - o inside] (a_p + 2 p[u] a_pp + t[u] a_pt)(u - o) at every voxel of the window.
struct LnccGradLowering : OpRewritePattern<LnccGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LnccGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Type elem = cast<RankedTensorType>(op.getInputs().front().getType()).getElementType();
    Lncc k(rw, loc, op.getArgs(), op.getSpatialRank(), op.getKernelSize(), elem);
    ValueRange in = op.getInputs();
    auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
      Value base = b.create<arith::AddIOp>(l, k.w.rowBase(b, l, idx, k.pad, 0.0), column);
      std::vector<Neighbours> x;
      for (Value v : in)
        x.push_back(Neighbours{b, l, v, base, k.offsets});
      Value zero = constant(b, l, k.ft, 0.0);
      Value sums[3];
      k.image.memo.clear();
      for (size_t i = 0; i < k.window.size(); ++i) {
        const Shift &o = k.window[i];
        Shift back{-o[0], -o[1], -o[2]};
        Value ok = k.image.inside(b, l, idx, back);
        for (int j = 0; j < 3; ++j) {
          Value term = b.create<arith::SelectOp>(
              l, ok, b.create<arith::MulFOp>(l, k.weight[i], x[2 + j](back)), zero);
          sums[j] = sums[j] ? b.create<arith::AddFOp>(l, sums[j], term).getResult() : term;
        }
      }
      Shift here{0, 0, 0};
      Value twoP = b.create<arith::MulFOp>(l, constant(b, l, k.ft, 2.0), x[0](here));
      Value grad = b.create<arith::AddFOp>(
          l, b.create<arith::AddFOp>(l, sums[0], b.create<arith::MulFOp>(l, twoP, sums[1])),
          b.create<arith::MulFOp>(l, x[1](here), sums[2]));
      return SmallVector<Value>{grad};
    };
    SmallVector<Value> outer(k.w.size.begin(), k.w.size.end() - 1);
    rw.replaceOp(op, buildWindow(rw, loc, k.w, elem, 1, op.getWindowOffset(), op.getWindowRows(),
                                 k.length(rw, loc), outer, 0.0, body));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateLnccLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SumsLowering<LnccMapOp>, SumsLowering<LnccCoefficientsOp>, LnccGradLowering>(
      patterns.getContext());
}
