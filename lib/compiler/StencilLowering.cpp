#include "StencilLowering.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::med::lowering;

Window Window::of(OpBuilder &b, Location l, ValueRange sizes) {
  Window w{int64_t(sizes.size()), {}, {}};
  w.size.assign(sizes.begin(), sizes.end());
  w.stride.resize(w.n);
  Value prod = constant(b, l, b.getF64Type(), 1.0);
  for (int64_t d = w.n - 1; d >= 0; --d) {
    w.stride[d] = prod;
    prod = b.create<arith::MulFOp>(l, prod, w.size[d]);
  }
  return w;
}

Value Window::f64Of(OpBuilder &b, Location l, Value index) {
  return b.create<arith::UIToFPOp>(l, b.getF64Type(),
                                   b.create<arith::IndexCastUIOp>(l, b.getI64Type(), index));
}

Value Window::indexOf(OpBuilder &b, Location l, Value exact) {
  return b.create<arith::IndexCastOp>(l, b.getIndexType(),
                                      b.create<arith::FPToSIOp>(l, b.getI64Type(), exact));
}

Value Window::offsetOf(OpBuilder &b, Location l, const Shift &s) const {
  Value acc = constant(b, l, b.getF64Type(), 0.0);
  for (int64_t d = 0; d < n; ++d)
    if (s[d])
      acc = b.create<math::FmaOp>(l, constant(b, l, b.getF64Type(), double(s[d])), stride[d], acc);
  return indexOf(b, l, acc);
}

Value Window::rowBase(OpBuilder &b, Location l, ValueRange idx, Value pad, double lead) const {
  Value acc = b.create<arith::AddFOp>(l, pad, constant(b, l, b.getF64Type(), lead));
  for (int64_t d = 0; d + 1 < n; ++d)
    acc = b.create<math::FmaOp>(l, idx[d], stride[d], acc);
  return indexOf(b, l, acc);
}

SmallVector<Value> mlir::med::lowering::buildWindow(OpBuilder &rw, Location loc, const Window &w,
                                                    Type elem, int64_t results, Value offset,
                                                    Value rows, Value length, ArrayRef<Value> outer,
                                                    double lead, WindowBody body) {
  SmallVector<Value> inv;
  for (Value s : outer)
    inv.push_back(rw.create<arith::DivFOp>(loc, constant(rw, loc, rw.getF64Type(), 1.0), s));
  Value first = Window::f64Of(rw, loc, offset);
  auto type = RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic}, elem);
  SmallVector<Value> inits;
  for (int64_t r = 0; r < results; ++r)
    inits.push_back(rw.create<tensor::EmptyOp>(loc, type, ValueRange{rows, length}));
  SmallVector<AffineMap> maps(results, rw.getMultiDimIdentityMap(2));
  SmallVector<Type> types(results, type);
  auto parallel = utils::IteratorType::parallel;
  auto generic = rw.create<linalg::GenericOp>(
      loc, types, ValueRange{}, inits, maps, ArrayRef<utils::IteratorType>{parallel, parallel},
      [&](OpBuilder &b, Location l, ValueRange) {
        auto c = [&](double v) { return constant(b, l, b.getF64Type(), v); };
        Value column = b.create<linalg::IndexOp>(l, 1);
        SmallVector<Value> idx(w.n);
        idx[w.n - 1] = b.create<arith::AddFOp>(l, Window::f64Of(b, l, column), c(lead));
        Value rest =
            b.create<arith::AddFOp>(l, Window::f64Of(b, l, b.create<linalg::IndexOp>(l, 0)), first);
        for (int64_t d = w.n - 2; d >= 0; --d) {
          Value q = b.create<math::FloorOp>(
              l, b.create<arith::MulFOp>(l, b.create<arith::AddFOp>(l, rest, c(0.5)), inv[d]));
          Value i = b.create<arith::SubFOp>(l, rest, b.create<arith::MulFOp>(l, q, outer[d]));
          idx[d] = b.create<arith::AddFOp>(l, i, c(lead));
          rest = q;
        }
        b.create<linalg::YieldOp>(l, body(b, l, idx, column));
      });
  return SmallVector<Value>(generic.getResults());
}

Value Neighbours::operator()(const Shift &s) {
  auto it = read.find(s);
  if (it == read.end()) {
    Value at = b.create<arith::AddIOp>(l, base, offsets.at(s));
    it = read.emplace(s, b.create<tensor::ExtractOp>(l, input, ValueRange{at})).first;
  }
  return it->second;
}

Value Bounds::inside(OpBuilder &b, Location l, ValueRange idx, const Shift &s) {
  Value all;
  for (size_t d = 0; d < lo.size(); ++d) {
    auto key = std::make_pair(int64_t(d), s[d]);
    auto it = memo.find(key);
    if (it == memo.end()) {
      Value at = b.create<arith::AddFOp>(l, idx[d], constant(b, l, b.getF64Type(), double(s[d])));
      Value ok = b.create<arith::AndIOp>(
          l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, at, lo[d]),
          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, at, hi[d]));
      it = memo.emplace(key, ok).first;
    }
    all = all ? b.create<arith::AndIOp>(l, all, it->second).getResult() : it->second;
  }
  return all;
}
