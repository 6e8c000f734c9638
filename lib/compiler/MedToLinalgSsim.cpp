// convert-med-to-linalg, SSIM's window passes: med.ssim_pass and med.ssim_adjoint as one
// stencil window (StencilLowering.h) over the pass's output grid, reading the K taps along the
// pass's axis at loop-invariant offsets (a valid window: every read is inside the input, no
// bounds tests; the adjoint's inputs carry their zero padding).
#include "LoweringUtils.h"
#include "StencilLowering.h"
#include "med/MedOps.h"

#include <optional>
#include <vector>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

/// SSIM's terms at one voxel from the five filtered fields m = (m_x, m_y, m_xx, m_yy, m_xy):
/// L = (2 m_x m_y + c1) / B1 and C = (2 s_xy + c2) / B2, each op created in a fixed order.
struct SsimTerms {
  OpBuilder &b;
  Location l;
  Value two, mx, my, b1, b2, lum, cs;

  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(l, x, y); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(l, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(l, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(l, x, y); }

  SsimTerms(OpBuilder &b, Location l, ArrayRef<Value> m, Value c1, Value c2)
      : b(b), l(l), two(constant(b, l, cast<FloatType>(m[0].getType()), 2.0)), mx(m[0]), my(m[1]) {
    Value sx = sub(m[2], mul(mx, mx));
    Value sy = sub(m[3], mul(my, my));
    Value sxy = sub(m[4], mul(mx, my));
    b2 = add(add(sx, sy), c2);
    cs = div(add(mul(two, sxy), c2), b2);
    b1 = add(add(mul(mx, mx), mul(my, my)), c1);
    lum = div(add(mul(mul(two, mx), my), c1), b1);
  }

  /// The maps in the order of compute_ssim_and_cs (and MONAI's): {ssim, cs}.
  SmallVector<Value> maps() { return {mul(lum, cs), cs}; }

  /// SSIM's derivatives by m_x, m_xx and m_xy times g (the incoming gradient), ssim = L C:
  /// dL/dm_x = 2 (m_y - m_x L) / B1, dC/dm_x = 2 (m_x C - m_y) / B2, dC/dm_xx = -C / B2 and
  /// dC/dm_xy = 2 / B2.
  SmallVector<Value> coefficients(Value g) {
    Value dLum = div(mul(two, sub(my, mul(mx, lum))), b1);
    Value dCs = div(mul(two, sub(mul(mx, cs), my)), b2);
    Value gLum = mul(g, lum);
    Value aX = mul(g, add(mul(cs, dLum), mul(lum, dCs)));
    Value aXX = b.create<arith::NegFOp>(l, div(mul(gLum, cs), b2));
    Value aXY = div(mul(gLum, two), b2);
    return {aX, aXX, aXY};
  }
};

/// The K taps along `axis`, their loop-invariant offsets in `w` and the weights (the first K
/// `args` after the n sizes) in the element type.
struct Taps {
  SmallVector<Shift> shift;
  std::map<Shift, Value> offsets;
  SmallVector<Value> weight;
  Taps(OpBuilder &b, Location l, const Window &w, ValueRange args, int64_t axis, int64_t size,
       FloatType ft) {
    for (int64_t j = 0; j < size; ++j) {
      Shift s{0, 0, 0};
      s[axis] = j;
      shift.push_back(s);
      offsets.emplace(s, w.offsetOf(b, l, s));
      weight.push_back(scalarIn(b, l, args[w.n + j], ft));
    }
  }
};

/// The output grid of a valid pass: the input's sizes, K - 1 fewer along `axis`.
SmallVector<Value> validGrid(OpBuilder &b, Location l, const Window &w, int64_t axis,
                             int64_t size) {
  SmallVector<Value> out(w.size);
  out[axis] =
      b.create<arith::SubFOp>(l, w.size[axis], constant(b, l, b.getF64Type(), double(size - 1)));
  return out;
}

/// sum_j w_j f(base + j e_axis) for each field f that `fieldsAt` reads at a tap.
SmallVector<Value> filtered(OpBuilder &b, Location l, const Taps &t,
                            function_ref<SmallVector<Value>(const Shift &)> fieldsAt) {
  SmallVector<Value> acc;
  for (size_t j = 0; j < t.shift.size(); ++j) {
    SmallVector<Value> f = fieldsAt(t.shift[j]);
    acc.resize(f.size());
    for (size_t k = 0; k < f.size(); ++k) {
      Value term = b.create<arith::MulFOp>(l, t.weight[j], f[k]);
      acc[k] = acc[k] ? b.create<arith::AddFOp>(l, acc[k], term).getResult() : term;
    }
  }
  return acc;
}

/// What both passes share: the window over the input grid (the first n args), the output grid
/// of a valid filter along `axis`, the taps, and the generic that writes the window of rows.
struct ValidPass {
  Window w;
  SmallVector<Value> outSize;
  Taps taps;
  ValidPass(OpBuilder &b, Location l, ValueRange args, int64_t n, int64_t axis, int64_t size,
            FloatType ft)
      : w(Window::of(b, l, args.take_front(n))), outSize(validGrid(b, l, w, axis, size)),
        taps(b, l, w, args, axis, size, ft) {}

  /// The base of the voxel's first tap in the input: its row's base plus the column.
  Value base(OpBuilder &b, Location l, ValueRange idx, Value column) const {
    Value zero = constant(b, l, b.getF64Type(), 0.0);
    return b.create<arith::AddIOp>(l, w.rowBase(b, l, idx, zero, 0.0), column);
  }

  SmallVector<Value> build(OpBuilder &rw, Location loc, Type elem, int64_t results, Value offset,
                           Value rows, WindowBody body) const {
    SmallVector<Value> outer(outSize.begin(), outSize.end() - 1);
    return buildWindow(rw, loc, w, elem, results, offset, rows,
                       Window::indexOf(rw, loc, outSize.back()), outer, 0.0, body);
  }
};

struct SsimPassLowering : OpRewritePattern<SsimPassOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SsimPassOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank(), size = op.getKernelSize(), axis = op.getAxis();
    Type elem = cast<RankedTensorType>(op.getInputs().front().getType()).getElementType();
    auto ft = cast<FloatType>(elem);
    ValueRange args = op.getArgs();
    ValidPass pass(rw, loc, args, n, axis, size, ft);
    const Taps &taps = pass.taps;
    Value c1, c2;
    if (op.getLast()) {
      c1 = scalarIn(rw, loc, args[n + size], ft);
      c2 = scalarIn(rw, loc, args[n + size + 1], ft);
    }
    // G lies on the output grid, whose strides differ from the input's along the outer axes.
    std::optional<Window> grid;
    if (op.getCoefficients())
      grid = Window::of(rw, loc, pass.outSize);
    ValueRange in = op.getInputs();
    const bool first = op.getFirst();
    auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
      Value base = pass.base(b, l, idx, column);
      std::vector<Neighbours> x;
      for (Value v : in.take_front(first ? 2 : 5))
        x.push_back(Neighbours{b, l, v, base, taps.offsets});
      SmallVector<Value> fields = filtered(b, l, taps, [&](const Shift &s) {
        if (!first)
          return SmallVector<Value>{x[0](s), x[1](s), x[2](s), x[3](s), x[4](s)};
        Value xv = x[0](s), yv = x[1](s); // x, y, x x, y y, x y
        return SmallVector<Value>{xv, yv, b.create<arith::MulFOp>(l, xv, xv),
                                  b.create<arith::MulFOp>(l, yv, yv),
                                  b.create<arith::MulFOp>(l, xv, yv)};
      });
      if (!op.getLast())
        return fields;
      SsimTerms terms(b, l, fields, c1, c2);
      if (!grid)
        return terms.maps();
      Value zero = constant(b, l, b.getF64Type(), 0.0);
      Value at = b.create<arith::AddIOp>(l, grid->rowBase(b, l, idx, zero, 0.0), column);
      Value g = b.create<tensor::ExtractOp>(l, in[5], ValueRange{at});
      return terms.coefficients(g);
    };
    rw.replaceOp(op, pass.build(rw, loc, elem, int64_t(op.getResultCount()), op.getWindowOffset(),
                                op.getWindowRows(), body));
    return success();
  }
};

// The adjoint: the same valid window over the zero-padded fields (the weights come reversed),
// and with `last` (axis 0, where the padded fields and the image share strides) the gradient
// a_x + 2 x a_xx + y a_xy with x and y read at the voxel itself.
struct SsimAdjointLowering : OpRewritePattern<SsimAdjointOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SsimAdjointOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank(), size = op.getKernelSize(), axis = op.getAxis();
    Type elem = cast<RankedTensorType>(op.getInputs().front().getType()).getElementType();
    auto ft = cast<FloatType>(elem);
    ValidPass pass(rw, loc, op.getArgs(), n, axis, size, ft);
    const Taps &taps = pass.taps;
    ValueRange in = op.getInputs();
    auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
      Value base = pass.base(b, l, idx, column);
      std::vector<Neighbours> f;
      for (Value v : in.take_front(3))
        f.push_back(Neighbours{b, l, v, base, taps.offsets});
      SmallVector<Value> a = filtered(b, l, taps, [&](const Shift &s) {
        return SmallVector<Value>{f[0](s), f[1](s), f[2](s)};
      });
      if (!op.getLast())
        return a;
      Value x = b.create<tensor::ExtractOp>(l, in[3], ValueRange{base});
      Value y = b.create<tensor::ExtractOp>(l, in[4], ValueRange{base});
      Value twoX = b.create<arith::MulFOp>(l, constant(b, l, ft, 2.0), x);
      Value g = b.create<arith::AddFOp>(
          l, b.create<arith::AddFOp>(l, a[0], b.create<arith::MulFOp>(l, twoX, a[1])),
          b.create<arith::MulFOp>(l, y, a[2]));
      return SmallVector<Value>{g};
    };
    rw.replaceOp(op, pass.build(rw, loc, elem, op.getLast() ? 1 : 3, op.getWindowOffset(),
                                op.getWindowRows(), body));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateSsimLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SsimPassLowering, SsimAdjointLowering>(patterns.getContext());
}
