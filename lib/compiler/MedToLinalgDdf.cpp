// convert-med-to-linalg, the displacement-field regularisers: med.ddf_energy and
// med.ddf_energy_grad, each one linalg.generic over a window of rows x row length, like
// med.resample's. A row's outer voxel indices come from its row number once (f64 reciprocal and
// floor); every read is at row base + column + a neighbour's offset, where the base and the
// offsets are loop-invariant indices, so LLVM sees consecutive loads along the row and
// vectorises them as plain vector loads. Neighbours are keyed by their displacement, a vector
// known while lowering, so each distinct one is read once per voxel.
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include <array>
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

/// A displacement in voxels per axis (unused axes 0).
using Shift = std::array<int64_t, 3>;

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

/// What both lowerings share: the loop invariants of a window over a channel of sizes
/// S_0 .. S_(n-1), and the generic over (rows x row length) whose body gets the row's base
/// index, the column and the voxel's outer indices.
struct Window {
  int64_t n;
  SmallVector<Value> size, stride; // f64
  Value f64Of(OpBuilder &b, Location l, Value index) const {
    return b.create<arith::UIToFPOp>(l, b.getF64Type(),
                                     b.create<arith::IndexCastUIOp>(l, b.getI64Type(), index));
  }
  static Value indexOf(OpBuilder &b, Location l, Value exact) {
    return b.create<arith::IndexCastOp>(l, b.getIndexType(),
                                        b.create<arith::FPToSIOp>(l, b.getI64Type(), exact));
  }
  /// The flat offset of a shift, as a loop-invariant index.
  Value offsetOf(OpBuilder &b, Location l, const Shift &s) const {
    Value acc = constant(b, l, b.getF64Type(), 0.0);
    for (int64_t d = 0; d < n; ++d)
      if (s[d])
        acc =
            b.create<math::FmaOp>(l, constant(b, l, b.getF64Type(), double(s[d])), stride[d], acc);
    return indexOf(b, l, acc);
  }
};

/// Body of a window: (row base as an f64 index without the innermost position, the column as
/// an index, the voxel's n indices as f64 with the innermost one the column's).
using WindowBody = function_ref<Value(OpBuilder &, Location, ValueRange idx, Value column)>;

/// The generic over `rows` x `length` from row `offset` of a grid whose outer axes have
/// `outer` sizes (f64), each outer index shifted by `lead` and the column by `lead` too.
Value buildWindow(PatternRewriter &rw, Location loc, const Window &w, Type elem, Value offset,
                  Value rows, Value length, ArrayRef<Value> outer, double lead, WindowBody body) {
  SmallVector<Value> inv;
  for (Value s : outer)
    inv.push_back(rw.create<arith::DivFOp>(loc, constant(rw, loc, rw.getF64Type(), 1.0), s));
  Value first = w.f64Of(rw, loc, offset);
  auto type = RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic}, elem);
  Value init = rw.create<tensor::EmptyOp>(loc, type, ValueRange{rows, length});
  AffineMap id = rw.getMultiDimIdentityMap(2);
  auto parallel = utils::IteratorType::parallel;
  return rw
      .create<linalg::GenericOp>(
          loc, type, ValueRange{}, ValueRange{init}, ArrayRef<AffineMap>{id},
          ArrayRef<utils::IteratorType>{parallel, parallel},
          [&](OpBuilder &b, Location l, ValueRange) {
            auto c = [&](double v) { return constant(b, l, b.getF64Type(), v); };
            Value column = b.create<linalg::IndexOp>(l, 1);
            SmallVector<Value> idx(w.n);
            idx[w.n - 1] = b.create<arith::AddFOp>(l, w.f64Of(b, l, column), c(lead));
            Value rest =
                b.create<arith::AddFOp>(l, w.f64Of(b, l, b.create<linalg::IndexOp>(l, 0)), first);
            for (int64_t d = w.n - 2; d >= 0; --d) {
              Value q = b.create<math::FloorOp>(
                  l, b.create<arith::MulFOp>(l, b.create<arith::AddFOp>(l, rest, c(0.5)), inv[d]));
              Value i = b.create<arith::SubFOp>(l, rest, b.create<arith::MulFOp>(l, q, outer[d]));
              idx[d] = b.create<arith::AddFOp>(l, i, c(lead));
              rest = q;
            }
            b.create<linalg::YieldOp>(l, body(b, l, idx, column));
          })
      .getResult(0);
}

/// The row base of a voxel: `pad` + sum over the outer axes of index * stride + `lead`.
Value rowBase(OpBuilder &b, Location l, const Window &w, ValueRange idx, Value pad, double lead) {
  Value acc = b.create<arith::AddFOp>(l, pad, constant(b, l, b.getF64Type(), lead));
  for (int64_t d = 0; d + 1 < w.n; ++d)
    acc = b.create<math::FmaOp>(l, idx[d], w.stride[d], acc);
  return Window::indexOf(b, l, acc);
}

/// The voxel's neighbours, each read once: x(s) is the input at base + the offset of shift s.
struct Neighbours {
  OpBuilder &b;
  Location l;
  Value input, base;
  const std::map<Shift, Value> &offsets;
  std::map<Shift, Value> read = {};
  Value operator()(const Shift &s) {
    auto it = read.find(s);
    if (it == read.end()) {
      Value at = b.create<arith::AddIOp>(l, base, offsets.at(s));
      it = read.emplace(s, b.create<tensor::ExtractOp>(l, input, ValueRange{at})).first;
    }
    return it->second;
  }
};

Window windowOf(PatternRewriter &rw, Location loc, ValueRange args, int64_t n) {
  Window w{n, {}, {}};
  w.size.assign(args.begin(), args.begin() + n);
  w.stride.resize(n);
  Value prod = constant(rw, loc, rw.getF64Type(), 1.0);
  for (int64_t d = n - 1; d >= 0; --d) {
    w.stride[d] = prod;
    prod = rw.create<arith::MulFOp>(loc, prod, w.size[d]);
  }
  return w;
}

// The energy at every interior voxel of the window, in MONAI's rounding order.
struct DdfEnergyLowering : OpRewritePattern<DdfEnergyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DdfEnergyOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank(), k = op.getOrder();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    ValueRange args = op.getArgs();
    Window w = windowOf(rw, loc, args, n);
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
                   b.create<arith::AddIOp>(l, rowBase(b, l, w, idx, zero, double(k)), column),
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
      return energy;
    };
    SmallVector<Value> outer(interior.begin(), interior.end() - 1);
    rw.replaceOp(op, buildWindow(rw, loc, w, ft, op.getWindowOffset(), op.getWindowRows(), length,
                                 outer, double(k), body));
    return success();
  }
};

// coefficient * sum_t 2 m_t c_t^2 sum_j a_j A'_t(u - o_j) at every voxel of the window.
struct DdfEnergyGradLowering : OpRewritePattern<DdfEnergyGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DdfEnergyGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank(), k = op.getOrder();
    auto ft = cast<FloatType>(cast<RankedTensorType>(op.getInput().getType()).getElementType());
    ValueRange args = op.getArgs();
    Window w = windowOf(rw, loc, args, n);
    auto c = [&](double v) { return constant(rw, loc, rw.getF64Type(), v); };
    // P = 2 k (stride_0 + ... + stride_(n-1)) elements before the channel.
    Value strides = c(0.0);
    for (int64_t d = 0; d < n; ++d)
      strides = rw.create<arith::AddFOp>(loc, strides, w.stride[d]);
    Value pad = rw.create<arith::MulFOp>(loc, strides, c(2.0 * k));
    Value coefficient = args[3 * n];
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
      factor.push_back(scalarIn(rw, loc, rw.create<arith::MulFOp>(loc, f, coefficient), ft));
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
    // The interior's bounds per axis, k and S_d - 1 - k (f64).
    SmallVector<Value> hi;
    for (int64_t d = 0; d < n; ++d)
      hi.push_back(rw.create<arith::SubFOp>(loc, w.size[d], c(1.0 + k)));
    Value input = op.getInput();
    Value length = Window::indexOf(rw, loc, w.size[n - 1]);
    auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
      Neighbours x{b, l, input, b.create<arith::AddIOp>(l, rowBase(b, l, w, idx, pad, 0.0), column),
                   offsets};
      // Whether u - o is interior: per axis k <= u_d - o_d <= S_d - 1 - k.
      std::map<std::pair<int64_t, int64_t>, Value> axisInside;
      auto inside = [&](const Shift &o) {
        Value all;
        for (int64_t d = 0; d < n; ++d) {
          auto key = std::make_pair(d, o[d]);
          auto it = axisInside.find(key);
          if (it == axisInside.end()) {
            Value at =
                b.create<arith::SubFOp>(l, idx[d], constant(b, l, b.getF64Type(), double(o[d])));
            Value ok = b.create<arith::AndIOp>(
                l,
                b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, at,
                                        constant(b, l, b.getF64Type(), double(k))),
                b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, at, hi[d]));
            it = axisInside.emplace(key, ok).first;
          }
          all = all ? b.create<arith::AndIOp>(l, all, it->second).getResult() : it->second;
        }
        return all;
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
          Value kept = b.create<arith::SelectOp>(l, inside(tj.first), a, zero);
          Value scaled =
              tj.second == 1.0
                  ? kept
                  : b.create<arith::MulFOp>(l, constant(b, l, ft, tj.second), kept).getResult();
          sum = plus(sum, scaled);
        }
        grad = plus(grad, b.create<arith::MulFOp>(l, factor[ti], sum));
      }
      return grad;
    };
    SmallVector<Value> outer(w.size.begin(), w.size.end() - 1);
    rw.replaceOp(op, buildWindow(rw, loc, w, ft, op.getWindowOffset(), op.getWindowRows(), length,
                                 outer, 0.0, body));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateDdfLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<DdfEnergyLowering, DdfEnergyGradLowering>(patterns.getContext());
}
