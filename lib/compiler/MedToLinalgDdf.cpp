// convert-med-to-linalg, the displacement-field regularisers: med.ddf_energy,
// med.ddf_energy_grad and med.ddf_energy_weighted_grad, each one stencil window
// (StencilLowering.h) over a channel of the field.
#include "LoweringUtils.h"
#include "StencilLowering.h"
#include "med/MedOps.h"

#include <map>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

/// Shift e_a + e_b scaled: `ka` voxels along axis a and `kb` along axis b.
Shift shift(int64_t a, int64_t ka, int64_t b = 0, int64_t kb = 0) {
  Shift s{0, 0, 0};
  s[a] += ka;
  s[b] += kb;
  return s;
}

/// One squared term of the energy: m (c sum_j a_j x[v + o_j])^2 (see MedDdfOps.td).
struct Term {
  SmallVector<std::pair<Shift, double>> taps; // (o_j, a_j)
  int64_t first, second;                      // the axes: d (order 1) or d1, d2
  double m;
};

/// The terms of the energy in MONAI's order: D_d for order 1; (d1, d1) then (d1, d2 > d1).
SmallVector<Term> termsOf(int64_t n, int64_t order) {
  SmallVector<Term> terms;
  for (int64_t d1 = 0; d1 < n; ++d1) {
    if (order == 1) {
      terms.push_back({{{shift(d1, 1), 1.0}, {shift(d1, -1), -1.0}}, d1, d1, 1.0});
      continue;
    }
    terms.push_back(
        {{{shift(d1, 2), 1.0}, {shift(d1, 0), -2.0}, {shift(d1, -2), 1.0}}, d1, d1, 1.0});
    for (int64_t d2 = d1 + 1; d2 < n; ++d2)
      terms.push_back({{{shift(d1, 1, d2, 1), 1.0},
                        {shift(d1, -1, d2, 1), -1.0},
                        {shift(d1, 1, d2, -1), -1.0},
                        {shift(d1, -1, d2, -1), 1.0}},
                       d1,
                       d2,
                       2.0});
  }
  return terms;
}

// The energy at every interior voxel of the window, in MONAI's rounding order.
struct DdfEnergyLowering : OpRewritePattern<DdfEnergyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DdfEnergyOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank(), k = op.getOrder();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    ValueRange args = op.getArgs();
    Window w = Window::of(rw, loc, args.take_front(n));
    SmallVector<Value> ratio, scale, interior;
    for (int64_t d = 0; d < n; ++d) {
      ratio.push_back(scalarIn(rw, loc, args[n + d], ft));
      scale.push_back(scalarIn(rw, loc, args[2 * n + d], ft));
      interior.push_back(
          rw.create<arith::SubFOp>(loc, w.size[d], constant(rw, loc, rw.getF64Type(), 2.0 * k)));
    }
    // Every shift a term reads, as a loop-invariant offset.
    std::map<Shift, Value> offsets;
    auto offsetOf = [&](const Shift &s) {
      auto it = offsets.find(s);
      if (it == offsets.end())
        it = offsets.emplace(s, w.offsetOf(rw, loc, s)).first;
      return it->second;
    };
    for (const Term &t : termsOf(n, k))
      for (const auto &tap : t.taps)
        offsetOf(tap.first);
    Value input = op.getInput();
    Value length = Window::indexOf(rw, loc, interior[n - 1]);
    Value zero = constant(rw, loc, rw.getF64Type(), 0.0);
    auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
      Neighbours x{b, l, input,
                   b.create<arith::AddIOp>(l, w.rowBase(b, l, idx, zero, double(k)), column),
                   offsets};
      Value two = constant(b, l, ft, 2.0);
      // D_d(v + s) = ((x[v + s + e_d] - x[v + s - e_d]) / 2) r_d
      auto central = [&](int64_t d, Shift s) {
        Shift hi = s, lo = s;
        hi[d] += 1;
        lo[d] -= 1;
        Value diff = b.create<arith::SubFOp>(l, x(hi), x(lo));
        return b.create<arith::MulFOp>(l, b.create<arith::DivFOp>(l, diff, two), ratio[d])
            .getResult();
      };
      Value energy;
      auto add = [&](Value t) {
        energy = energy ? b.create<arith::AddFOp>(l, energy, t).getResult() : t;
      };
      for (int64_t d1 = 0; d1 < n; ++d1) {
        if (k == 1) {
          Value g = central(d1, Shift{0, 0, 0});
          add(b.create<arith::MulFOp>(l, g, g));
          continue;
        }
        for (int64_t d2 = d1; d2 < n; ++d2) {
          Value diff =
              b.create<arith::SubFOp>(l, central(d1, shift(d2, 1)), central(d1, shift(d2, -1)));
          Value h = b.create<arith::MulFOp>(l, b.create<arith::DivFOp>(l, diff, two), scale[d2]);
          Value sq = b.create<arith::MulFOp>(l, h, h);
          add(d2 == d1 ? sq : b.create<arith::MulFOp>(l, two, sq).getResult());
        }
      }
      return SmallVector<Value>{energy};
    };
    SmallVector<Value> outer(interior.begin(), interior.end() - 1);
    rw.replaceOp(op, buildWindow(rw, loc, w, ft, 1, op.getWindowOffset(), op.getWindowRows(),
                                 length, outer, double(k), body));
    return success();
  }
};

// sum_t 2 m_t c_t^2 sum_j a_j w_j A'_t(u - o_j) at every voxel of the window, the weight w_j the
// coefficient (med.ddf_energy_grad) or weights[u - o_j] (med.ddf_energy_weighted_grad).
template <typename Op>
void lowerEnergyGrad(Op op, PatternRewriter &rw, Value coefficient, Value weights) {
  Location loc = op.getLoc();
  const int64_t n = op.getSpatialRank(), k = op.getOrder();
  auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
  ValueRange args = op.getArgs();
  Window w = Window::of(rw, loc, args.take_front(n));
  auto c = [&](double v) { return constant(rw, loc, rw.getF64Type(), v); };
  // P = 2 k (stride_0 + ... + stride_(n-1)) elements before the channel.
  Value strides = c(0.0);
  for (int64_t d = 0; d < n; ++d)
    strides = rw.create<arith::AddFOp>(loc, strides, w.stride[d]);
  Value pad = rw.create<arith::MulFOp>(loc, strides, c(2.0 * k));
  // Per term its factor 2 m c^2 times the coefficient, in the input type: c = r_d / 2
  // (order 1) or r_d1 s_d2 / 4 (order 2).
  SmallVector<Term> terms = termsOf(n, k);
  SmallVector<Value> factor;
  for (const Term &t : terms) {
    Value ct = k == 1 ? rw.create<arith::MulFOp>(loc, args[n + t.first], c(0.5)).getResult()
                      : rw.create<arith::MulFOp>(loc,
                                                 rw.create<arith::MulFOp>(loc, args[n + t.first],
                                                                          args[2 * n + t.second]),
                                                 c(0.25))
                            .getResult();
    Value f = rw.create<arith::MulFOp>(loc, rw.create<arith::MulFOp>(loc, ct, ct), c(2.0 * t.m));
    if (coefficient)
      f = rw.create<arith::MulFOp>(loc, f, coefficient);
    factor.push_back(scalarIn(rw, loc, f, ft));
  }
  // Every shift read: o_i - o_j over each term's taps.
  std::map<Shift, Value> offsets;
  for (const Term &t : terms)
    for (const auto &tj : t.taps)
      for (const auto &ti : t.taps) {
        Shift s;
        for (int64_t d = 0; d < 3; ++d)
          s[d] = ti.first[d] - tj.first[d];
        if (!offsets.count(s))
          offsets.emplace(s, w.offsetOf(rw, loc, s));
      }
  // The weights' shifts: -o_j.
  std::map<Shift, Value> weightOffsets;
  if (weights)
    for (const Term &t : terms)
      for (const auto &tj : t.taps) {
        Shift s{-tj.first[0], -tj.first[1], -tj.first[2]};
        if (!weightOffsets.count(s))
          weightOffsets.emplace(s, w.offsetOf(rw, loc, s));
      }
  // The interior's bounds per axis, k and S_d - 1 - k (f64).
  Bounds interior;
  for (int64_t d = 0; d < n; ++d) {
    interior.lo.push_back(c(double(k)));
    interior.hi.push_back(rw.create<arith::SubFOp>(loc, w.size[d], c(1.0 + k)));
  }
  Value input = op.getInput();
  Value length = Window::indexOf(rw, loc, w.size[n - 1]);
  auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
    Value base = b.create<arith::AddIOp>(l, w.rowBase(b, l, idx, pad, 0.0), column);
    Neighbours x{b, l, input, base, offsets}, g{b, l, weights, base, weightOffsets};
    interior.memo.clear();
    // Whether u - o is interior.
    auto inside = [&](const Shift &o) {
      return interior.inside(b, l, idx, Shift{-o[0], -o[1], -o[2]});
    };
    Value zero = constant(b, l, ft, 0.0), grad;
    auto plus = [&](Value acc, Value v) {
      return acc ? b.create<arith::AddFOp>(l, acc, v).getResult() : v;
    };
    for (size_t ti = 0; ti < terms.size(); ++ti) {
      Value sum;
      for (const auto &tj : terms[ti].taps) {
        // A'_t(u - o_j) = sum_i a_i x[u - o_j + o_i], 0 outside the interior.
        Value a;
        for (const auto &tap : terms[ti].taps) {
          Shift s;
          for (int64_t d = 0; d < 3; ++d)
            s[d] = tap.first[d] - tj.first[d];
          Value v = x(s);
          if (tap.second != 1.0)
            v = b.create<arith::MulFOp>(l, constant(b, l, ft, tap.second), v);
          a = plus(a, v);
        }
        if (weights)
          a = b.create<arith::MulFOp>(l, a, g(Shift{-tj.first[0], -tj.first[1], -tj.first[2]}));
        Value kept = b.create<arith::SelectOp>(l, inside(tj.first), a, zero);
        Value scaled =
            tj.second == 1.0
                ? kept
                : b.create<arith::MulFOp>(l, constant(b, l, ft, tj.second), kept).getResult();
        sum = plus(sum, scaled);
      }
      grad = plus(grad, b.create<arith::MulFOp>(l, factor[ti], sum));
    }
    return SmallVector<Value>{grad};
  };
  SmallVector<Value> outer(w.size.begin(), w.size.end() - 1);
  rw.replaceOp(op, buildWindow(rw, loc, w, ft, 1, op.getWindowOffset(), op.getWindowRows(), length,
                               outer, 0.0, body));
}

struct DdfEnergyGradLowering : OpRewritePattern<DdfEnergyGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DdfEnergyGradOp op, PatternRewriter &rw) const override {
    lowerEnergyGrad(op, rw, op.getArgs()[3 * op.getSpatialRank()], Value());
    return success();
  }
};

struct DdfEnergyWeightedGradLowering : OpRewritePattern<DdfEnergyWeightedGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DdfEnergyWeightedGradOp op, PatternRewriter &rw) const override {
    lowerEnergyGrad(op, rw, Value(), op.getWeights());
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateDdfLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<DdfEnergyLowering, DdfEnergyGradLowering, DdfEnergyWeightedGradLowering>(
      patterns.getContext());
}
