// convert-med-to-linalg, SSIM's window passes: med.ssim_pass as one stencil window
// (StencilLowering.h) over the pass's output grid, reading the K taps along the pass's axis at
// loop-invariant offsets (a valid window: every read is inside the input, no bounds tests).
#include "LoweringUtils.h"
#include "StencilLowering.h"
#include "med/MedOps.h"

#include <vector>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

/// SSIM's maps from the five filtered fields, in the order of compute_ssim_and_cs (and MONAI's):
/// {ssim, cs}.
SmallVector<Value> ssimMaps(OpBuilder &b, Location l, ArrayRef<Value> m, Value c1, Value c2) {
  auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(l, x, y).getResult(); };
  auto add = [&](Value x, Value y) { return b.create<arith::AddFOp>(l, x, y).getResult(); };
  auto sub = [&](Value x, Value y) { return b.create<arith::SubFOp>(l, x, y).getResult(); };
  auto div = [&](Value x, Value y) { return b.create<arith::DivFOp>(l, x, y).getResult(); };
  Value two = constant(b, l, cast<FloatType>(m[0].getType()), 2.0);
  Value mx = m[0], my = m[1];
  Value sx = sub(m[2], mul(mx, mx)), sy = sub(m[3], mul(my, my)), sxy = sub(m[4], mul(mx, my));
  Value cs = div(add(mul(two, sxy), c2), add(add(sx, sy), c2));
  Value lum = div(add(mul(mul(two, mx), my), c1), add(add(mul(mx, mx), mul(my, my)), c1));
  return {mul(lum, cs), cs};
}

struct SsimPassLowering : OpRewritePattern<SsimPassOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SsimPassOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank(), size = op.getKernelSize(), axis = op.getAxis();
    Type elem = cast<RankedTensorType>(op.getInputs().front().getType()).getElementType();
    auto ft = cast<FloatType>(elem);
    ValueRange args = op.getArgs();
    Window w = Window::of(rw, loc, args.take_front(n));
    auto c = [&](double v) { return constant(rw, loc, rw.getF64Type(), v); };
    // The output grid: the valid window shortens the pass's axis by K - 1.
    SmallVector<Value> outSize(w.size);
    outSize[axis] = rw.create<arith::SubFOp>(loc, w.size[axis], c(double(size - 1)));
    std::map<Shift, Value> offsets;
    SmallVector<Shift> taps;
    SmallVector<Value> weight;
    for (int64_t j = 0; j < size; ++j) {
      Shift s{0, 0, 0};
      s[axis] = j;
      taps.push_back(s);
      offsets.emplace(s, w.offsetOf(rw, loc, s));
      weight.push_back(scalarIn(rw, loc, args[n + j], ft));
    }
    Value c1, c2;
    if (op.getLast()) {
      c1 = scalarIn(rw, loc, args[n + size], ft);
      c2 = scalarIn(rw, loc, args[n + size + 1], ft);
    }
    ValueRange in = op.getInputs();
    auto body = [&](OpBuilder &b, Location l, ValueRange idx, Value column) {
      Value base = b.create<arith::AddIOp>(
          l, w.rowBase(b, l, idx, constant(b, l, b.getF64Type(), 0.0), 0.0), column);
      std::vector<Neighbours> x;
      for (Value v : in)
        x.push_back(Neighbours{b, l, v, base, offsets});
      SmallVector<Value> fields(5);
      for (int64_t j = 0; j < size; ++j) {
        SmallVector<Value> f;
        if (op.getFirst()) { // x, y, x x, y y, x y
          Value xv = x[0](taps[j]), yv = x[1](taps[j]);
          f = {xv, yv, b.create<arith::MulFOp>(l, xv, xv), b.create<arith::MulFOp>(l, yv, yv),
               b.create<arith::MulFOp>(l, xv, yv)};
        } else {
          for (int k = 0; k < 5; ++k)
            f.push_back(x[k](taps[j]));
        }
        for (int k = 0; k < 5; ++k) {
          Value term = b.create<arith::MulFOp>(l, weight[j], f[k]);
          fields[k] = fields[k] ? b.create<arith::AddFOp>(l, fields[k], term).getResult() : term;
        }
      }
      return op.getLast() ? ssimMaps(b, l, fields, c1, c2) : fields;
    };
    SmallVector<Value> outer(outSize.begin(), outSize.end() - 1);
    rw.replaceOp(op, buildWindow(rw, loc, w, elem, op.getLast() ? 2 : 5, op.getWindowOffset(),
                                 op.getWindowRows(), Window::indexOf(rw, loc, outSize[n - 1]),
                                 outer, 0.0, body));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateSsimLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SsimPassLowering>(patterns.getContext());
}
