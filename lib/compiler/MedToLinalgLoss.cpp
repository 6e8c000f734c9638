// convert-med-to-linalg, the loss kernels: med.dice_sums (terms folded in the input type over
// groups of 64 x 16 elements, then in f64 through 16 lanes: sumInGroups) and med.dice_grad (an
// elementwise map over the input and target); med.softmax_dice_sums and med.softmax_dice_grad,
// the same over the rows of a (channels x voxels) block, with the softmax across the rows
// formed per voxel.
#include "LossLowering.h"
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include <array>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

Value mlir::med::lowering::sigmoid(OpBuilder &b, Location l, Value x) {
  auto ft = cast<FloatType>(x.getType());
  Value one = constant(b, l, ft, 1.0);
  Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, x));
  return b.create<arith::DivFOp>(l, one, b.create<arith::AddFOp>(l, one, e));
}

namespace {

/// One element's Dice terms: p t, p (p p with squared) and t (t t), formed in that order.
std::array<Value, 3> overlapTerms(OpBuilder &b, Location l, Value p, Value t, bool squared) {
  return {b.create<arith::MulFOp>(l, p, t),
          squared ? b.create<arith::MulFOp>(l, p, p).getResult() : p,
          squared ? b.create<arith::MulFOp>(l, t, t).getResult() : t};
}

} // namespace

void mlir::med::lowering::replaceBySums(PatternRewriter &rw, Operation *op, ValueRange rows,
                                        int64_t kinds, TermsFn terms) {
  SmallVector<Value> values = sumInGroups(rw, op->getLoc(), rows, kinds, terms);
  rw.replaceOp(op,
               rw.create<tensor::FromElementsOp>(op->getLoc(), op->getResult(0).getType(), values));
}

// The bulk, whole groups of 64 x 16 elements, is first folded per group and lane in the input
// type: a loop without f64 in it, which LLVM vectorises at the full float32 width (with f64
// accumulators it picks half that width, and libmvec's narrower exp). The group partials, and the
// elements after the last whole group, then go through the usual 16-lane f64 fold.
SmallVector<Value> mlir::med::lowering::sumInGroups(OpBuilder &rw, Location loc, ValueRange rows,
                                                    int64_t kinds, TermsFn terms) {
  constexpr int64_t kLanes = 16, kGroup = 64;
  auto ft = cast<FloatType>(cast<RankedTensorType>(rows.front().getType()).getElementType());
  FloatType f64 = rw.getF64Type();
  auto widen = [&](OpBuilder &b, Location l, ValueRange in, ValueRange acc) {
    SmallVector<Value> next;
    for (size_t k = 0; k < acc.size(); ++k)
      next.push_back(b.create<arith::AddFOp>(l, acc[k], toCompute(b, l, in[k], f64)));
    return next;
  };
  // Split every input into whole groups (a groups x 64 x 16 grid) and the rest.
  Value n = rw.create<tensor::DimOp>(loc, rows.front(), 0);
  Value span = rw.create<arith::ConstantIndexOp>(loc, kGroup * kLanes);
  Value groups = rw.create<arith::DivUIOp>(loc, n, span);
  Value bulk = rw.create<arith::MulIOp>(loc, groups, span);
  Value rest = rw.create<arith::SubIOp>(loc, n, bulk);
  OpFoldResult zero = rw.getIndexAttr(0), one = rw.getIndexAttr(1);
  auto gridType = RankedTensorType::get({ShapedType::kDynamic, kGroup, kLanes}, ft);
  SmallVector<Value> grids, tails;
  for (Value r : rows) {
    Value head = rw.create<tensor::ExtractSliceOp>(loc, r, ArrayRef<OpFoldResult>{zero},
                                                   ArrayRef<OpFoldResult>{bulk},
                                                   ArrayRef<OpFoldResult>{one});
    grids.push_back(rw.create<tensor::ExpandShapeOp>(
        loc, gridType, head, ArrayRef<ReassociationIndices>{{0, 1, 2}},
        ArrayRef<OpFoldResult>{groups, rw.getIndexAttr(kGroup), rw.getIndexAttr(kLanes)}));
    tails.push_back(rw.create<tensor::ExtractSliceOp>(loc, r, ArrayRef<OpFoldResult>{bulk},
                                                      ArrayRef<OpFoldResult>{rest},
                                                      ArrayRef<OpFoldResult>{one}));
  }
  // Group partials: (groups x 16) per kind, in the input type.
  auto partialType = RankedTensorType::get({ShapedType::kDynamic, kLanes}, ft);
  Value fzero = constant(rw, loc, ft, 0.0);
  SmallVector<Value> partials;
  for (int64_t k = 0; k < kinds; ++k) {
    Value empty = rw.create<tensor::EmptyOp>(loc, partialType, ValueRange{groups});
    partials.push_back(rw.create<linalg::FillOp>(loc, fzero, empty).getResult(0));
  }
  MLIRContext *ctx = rw.getContext();
  AffineMap cube = rw.getMultiDimIdentityMap(3);
  AffineMap perLane =
      AffineMap::get(3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(2, ctx)}, ctx);
  SmallVector<AffineMap> maps(grids.size(), cube);
  maps.append(partials.size(), perLane);
  auto red = utils::IteratorType::reduction, par = utils::IteratorType::parallel;
  auto fold = rw.create<linalg::GenericOp>(
      loc, ValueRange(partials).getTypes(), grids, partials, maps, ArrayRef{par, red, par},
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> t = terms(b, l, args.take_front(grids.size()));
        SmallVector<Value> next;
        for (int64_t k = 0; k < kinds; ++k)
          next.push_back(b.create<arith::AddFOp>(l, args[grids.size() + k], t[k]));
        b.create<linalg::YieldOp>(l, next);
      });
  SmallVector<Value> flat;
  for (Value p : fold.getResults())
    flat.push_back(
        rw.create<tensor::CollapseShapeOp>(loc, RankedTensorType::get({ShapedType::kDynamic}, ft),
                                           p, ArrayRef<ReassociationIndices>{{0, 1}}));
  SmallVector<Type> types(kinds, f64);
  SmallVector<Value> fromGroups =
      reduceThroughLanes(rw, loc, flat, kLanes, types, types, widen, addLanes);
  SmallVector<Value> fromRest = reduceThroughLanes(
      rw, loc, tails, kLanes, types, types,
      [&](OpBuilder &b, Location l, ValueRange in, ValueRange acc) {
        return widen(b, l, terms(b, l, in), acc);
      },
      addLanes);
  SmallVector<Value> values;
  for (int64_t k = 0; k < kinds; ++k)
    values.push_back(rw.create<arith::AddFOp>(loc, fromGroups[k], fromRest[k]));
  return values;
}

namespace {

// [sum p t, sum p (p p), sum t (t t)] as a tensor<3xf64> by sumInGroups.
struct DiceSumsLowering : OpRewritePattern<DiceSumsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DiceSumsOp op, PatternRewriter &rw) const override {
    const bool useSigmoid = op.getSigmoid(), squared = op.getSquared();
    auto terms = [&](OpBuilder &b, Location l, ValueRange in) {
      std::array<Value, 3> o =
          overlapTerms(b, l, useSigmoid ? sigmoid(b, l, in[0]) : in[0], in[1], squared);
      return SmallVector<Value>(o.begin(), o.end());
    };
    replaceBySums(rw, op, ValueRange{op.getInput(), op.getTarget()}, 3, terms);
    return success();
  }
};

struct DiceGradLowering : OpRewritePattern<DiceGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DiceGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const bool useSigmoid = op.getSigmoid(), squared = op.getSquared();
    Value dInter = scalarIn(rw, loc, op.getDInter(), ft);
    Value dPred = scalarIn(rw, loc, op.getDPred(), ft);
    auto gradient = [&](OpBuilder &b, Location l, Value x, Value t) {
      Value p = useSigmoid ? sigmoid(b, l, x) : x;
      Value dp = dPred;
      if (squared)
        dp = b.create<arith::MulFOp>(l, dPred, b.create<arith::AddFOp>(l, p, p)); // d(p p)/dp = 2 p
      Value g = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, dInter, t), dp);
      if (useSigmoid) {
        Value one = constant(b, l, ft, 1.0);
        Value slope = b.create<arith::MulFOp>(l, p, b.create<arith::SubFOp>(l, one, p));
        g = b.create<arith::MulFOp>(l, g, slope);
      }
      return g;
    };
    rw.replaceOp(op, mapPairs(rw, loc, op.getInput(), op.getTarget(), gradient));
    return success();
  }
};

} // namespace

SmallVector<Value> mlir::med::lowering::rowsOf(OpBuilder &b, Location l, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  if (type.getRank() == 1)
    return {t};
  auto row = RankedTensorType::get({type.getDimSize(1)}, type.getElementType());
  OpFoldResult one = b.getIndexAttr(1);
  OpFoldResult n = type.isDynamicDim(1) ? OpFoldResult(b.create<tensor::DimOp>(l, t, 1).getResult())
                                        : OpFoldResult(b.getIndexAttr(type.getDimSize(1)));
  SmallVector<Value> rows;
  for (int64_t c = 0; c < type.getDimSize(0); ++c)
    rows.push_back(b.create<tensor::ExtractSliceOp>(
        l, row, t, ArrayRef<OpFoldResult>{b.getIndexAttr(c), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{one, n}, ArrayRef<OpFoldResult>{one, one}));
  return rows;
}

Value mlir::med::lowering::oneHotEntry(OpBuilder &b, Location l, Value v, int64_t c) {
  auto ft = cast<FloatType>(v.getType());
  Value above =
      c == 0
          ? b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v, constant(b, l, ft, -1.0))
          : b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, v, constant(b, l, ft, double(c)));
  Value below =
      b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, v, constant(b, l, ft, double(c) + 1.0));
  Value hit = b.create<arith::AndIOp>(l, above, below);
  return b.create<arith::SelectOp>(l, hit, constant(b, l, ft, 1.0), constant(b, l, ft, 0.0));
}

Value mlir::med::lowering::powNonNegative(OpBuilder &b, Location l, Value q, Value e,
                                          Value isZero) {
  auto ft = cast<FloatType>(q.getType());
  Value p = b.create<math::ExpOp>(l, b.create<arith::MulFOp>(l, e, b.create<math::LogOp>(l, q)));
  return b.create<arith::SelectOp>(l, isZero, constant(b, l, ft, 1.0), p);
}

Value mlir::med::lowering::isZeroF64(OpBuilder &b, Location l, Value v) {
  return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, v,
                                 constant(b, l, b.getF64Type(), 0.0));
}

Value mlir::med::lowering::mapElements(OpBuilder &rw, Location loc, ValueRange inputs,
                                       ElementMapFn f) {
  auto type = cast<RankedTensorType>(inputs.front().getType());
  SmallVector<Value> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dims.push_back(rw.create<tensor::DimOp>(loc, inputs.front(), d));
  Value init = rw.create<tensor::EmptyOp>(loc, type, dims);
  AffineMap id = rw.getMultiDimIdentityMap(type.getRank());
  SmallVector<AffineMap> maps(inputs.size() + 1, id);
  SmallVector<utils::IteratorType> iterators(type.getRank(), utils::IteratorType::parallel);
  auto g = rw.create<linalg::GenericOp>(loc, TypeRange{type}, inputs, ValueRange{init}, maps,
                                        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
                                          b.create<linalg::YieldOp>(
                                              l, f(b, l, args.take_front(inputs.size())));
                                        });
  return g.getResult(0);
}

Value mlir::med::lowering::mapPairs(OpBuilder &rw, Location loc, Value input, Value target,
                                    PairMapFn f) {
  return mapElements(
      rw, loc, ValueRange{input, target},
      [&](OpBuilder &b, Location l, ValueRange in) { return f(b, l, in[0], in[1]); });
}

Value mlir::med::lowering::mapVoxels(OpBuilder &rw, Location loc, Value input, Value target,
                                     Value upstream, UpstreamVoxelMapFn f) {
  auto type = cast<RankedTensorType>(input.getType());
  const int64_t C = type.getDimSize(0);
  const bool labels = cast<RankedTensorType>(target.getType()).getRank() == 1;
  SmallVector<Value> channel;
  for (int64_t c = 0; c < C; ++c)
    channel.push_back(rw.create<arith::ConstantIndexOp>(loc, c));
  Value n = rw.create<tensor::DimOp>(loc, input, 1);
  SmallVector<Value> dims;
  if (type.isDynamicDim(1))
    dims.push_back(n);
  Value init = rw.create<tensor::EmptyOp>(loc, type, dims);
  Value zero = rw.create<arith::ConstantIndexOp>(loc, 0);
  Value step = rw.create<arith::ConstantIndexOp>(loc, 1);
  auto loop = rw.create<scf::ForOp>(
      loc, zero, n, step, ValueRange{init}, [&](OpBuilder &b, Location l, Value v, ValueRange acc) {
        SmallVector<Value> x, t, up;
        for (int64_t c = 0; c < C; ++c) {
          x.push_back(b.create<tensor::ExtractOp>(l, input, ValueRange{channel[c], v}));
          if (!labels)
            t.push_back(b.create<tensor::ExtractOp>(l, target, ValueRange{channel[c], v}));
          if (upstream)
            up.push_back(b.create<tensor::ExtractOp>(l, upstream, ValueRange{channel[c], v}));
        }
        if (labels)
          t.push_back(b.create<tensor::ExtractOp>(l, target, ValueRange{v}));
        SmallVector<Value> values = f(b, l, x, t, up);
        Value out = acc[0];
        for (int64_t c = 0; c < C; ++c)
          out = b.create<tensor::InsertOp>(l, values[c], out, ValueRange{channel[c], v});
        b.create<scf::YieldOp>(l, out);
      });
  return loop.getResult(0);
}

Value mlir::med::lowering::mapVoxels(OpBuilder &rw, Location loc, Value input, Value target,
                                     VoxelMapFn f) {
  return mapVoxels(rw, loc, input, target, Value(),
                   [&](OpBuilder &b, Location l, ValueRange x, ValueRange t, ValueRange) {
                     return f(b, l, x, t);
                   });
}

VoxelSoftmax mlir::med::lowering::softmaxAt(OpBuilder &b, Location l, ValueRange x,
                                            ValueRange target) {
  Value m = x.front();
  for (Value v : x.drop_front())
    m = b.create<arith::MaximumFOp>(l, m, v); // NaN propagates, as in ATen's softmax
  SmallVector<Value> e;
  Value total;
  for (Value v : x) {
    e.push_back(b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, v, m)));
    total = total ? b.create<arith::AddFOp>(l, total, e.back()).getResult() : e.back();
  }
  VoxelSoftmax s;
  for (Value v : e)
    s.p.push_back(b.create<arith::DivFOp>(l, v, total));
  if (target.size() == x.size()) {
    s.t.assign(target.begin(), target.end());
    return s;
  }
  for (size_t c = 0; c < x.size(); ++c)
    s.t.push_back(oneHotEntry(b, l, target[0], int64_t(c)));
  return s;
}

SmallVector<Value> mlir::med::lowering::entriesIn(OpBuilder &b, Location l, Value vector, int64_t n,
                                                  FloatType ft) {
  SmallVector<Value> out;
  for (int64_t i = 0; i < n; ++i)
    out.push_back(scalarIn(
        b, l,
        b.create<tensor::ExtractOp>(l, vector, ValueRange{b.create<arith::ConstantIndexOp>(l, i)}),
        ft));
  return out;
}

namespace {

// [sum p_c t_c..., sum p_c (p_c p_c)..., sum t_c (t_c t_c)...] by sumInGroups; the inputs are
// the logit rows followed by the target rows (or the label map).
struct SoftmaxDiceSumsLowering : OpRewritePattern<SoftmaxDiceSumsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxDiceSumsOp op, PatternRewriter &rw) const override {
    const bool squared = op.getSquared();
    const int64_t C = cast<RankedTensorType>(op.getInput().getType()).getDimSize(0);
    SmallVector<Value> rows = rowsOf(rw, op.getLoc(), op.getInput());
    llvm::append_range(rows, rowsOf(rw, op.getLoc(), op.getTarget()));
    auto terms = [&](OpBuilder &b, Location l, ValueRange in) {
      VoxelSoftmax s = softmaxAt(b, l, in.take_front(C), in.drop_front(C));
      SmallVector<Value> t(3 * C);
      for (int64_t c = 0; c < C; ++c) {
        std::array<Value, 3> o = overlapTerms(b, l, s.p[c], s.t[c], squared);
        t[c] = o[0];
        t[C + c] = o[1];
        t[2 * C + c] = o[2];
      }
      return t;
    };
    replaceBySums(rw, op, rows, 3 * C, terms);
    return success();
  }
};

// The softmax's backward of the loss's per-class derivatives, voxel by voxel (mapVoxels).
struct SoftmaxDiceGradLowering : OpRewritePattern<SoftmaxDiceGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxDiceGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    auto ft = cast<FloatType>(type.getElementType());
    const int64_t C = type.getDimSize(0);
    const bool squared = op.getSquared();
    SmallVector<Value> coeff = entriesIn(rw, loc, op.getCoefficients(), 2 * C, ft);
    ArrayRef<Value> dInter = ArrayRef<Value>(coeff).take_front(C),
                    dPred = ArrayRef<Value>(coeff).drop_front(C);
    auto gradient = [&](OpBuilder &b, Location l, ValueRange x, ValueRange t) {
      VoxelSoftmax s = softmaxAt(b, l, x, t);
      SmallVector<Value> grad; // d loss / d p_c
      Value dot;               // sum_k p_k grad_k
      for (int64_t c = 0; c < C; ++c) {
        Value dp = dPred[c];
        if (squared) // d(p p)/dp = 2 p
          dp = b.create<arith::MulFOp>(l, dp, b.create<arith::AddFOp>(l, s.p[c], s.p[c]));
        grad.push_back(
            b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, dInter[c], s.t[c]), dp));
        Value pg = b.create<arith::MulFOp>(l, s.p[c], grad.back());
        dot = dot ? b.create<arith::AddFOp>(l, dot, pg).getResult() : pg;
      }
      SmallVector<Value> g;
      for (int64_t c = 0; c < C; ++c)
        g.push_back(b.create<arith::MulFOp>(l, s.p[c], b.create<arith::SubFOp>(l, grad[c], dot)));
      return g;
    };
    rw.replaceOp(op, mapVoxels(rw, loc, op.getInput(), op.getTarget(), gradient));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateLossLoweringPatterns(RewritePatternSet &patterns) {
  patterns
      .add<DiceSumsLowering, DiceGradLowering, SoftmaxDiceSumsLowering, SoftmaxDiceGradLowering>(
          patterns.getContext());
}
