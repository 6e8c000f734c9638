// med.gaussian_noise and med.rician_noise -> per-voxel Philox4x32-10 and Box-Muller.
//
// One Philox block (four 32-bit words) feeds four voxels: voxel i uses the block of counter
// i / 4; voxels 4g and 4g + 1 take the cosine and the sine of one Box-Muller pair (words 0, 1),
// voxels 4g + 2 and 4g + 3 those of a second pair (words 2, 3). The sine is formed as the cosine
// of the angle less pi/2, so every voxel costs one log, one sqrt and one cos whichever form runs.
//
// Two forms, the same value per voxel:
// - a linalg.generic, one voxel per iteration: elementwise fusion folds it into its neighbours
//   (and into a gather's epilogue or prologue), but each voxel computes its whole block;
// - when the noise is alone in its kernel (its input is the kernel's input and its result the
//   kernel's output, so there is nothing to fuse), a loop over aligned groups of four voxels
//   that computes each block and each pair's log and sqrt once; the partial groups before and
//   after it (at most three voxels each) are computed once each, outside any loop.
#include "FastMath.h"
#include "LoweringUtils.h"
#include "Philox.h"

#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <array>

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

// What one noise op needs inside its loops: parameters converted once, outside them.
struct NoiseParams {
  FloatType ct;
  Value on, mean, std, key0, key1;
};

std::array<Value, 4> blockOf(OpBuilder &b, Location l, const NoiseParams &p, Value group) {
  return philoxBlock(b, l, group, p.key0, p.key1);
}

// A word as a uniform in (0, 1) of the compute type: (u + 0.5) / 2^32.
Value uniform(OpBuilder &b, Location l, FloatType ct, Value word) {
  Value u = b.create<arith::UIToFPOp>(l, ct, b.create<arith::TruncIOp>(l, b.getI32Type(), word));
  return b.create<arith::MulFOp>(l, b.create<arith::AddFOp>(l, u, constant(b, l, ct, 0.5)),
                                 constant(b, l, ct, 0x1p-32));
}

// Box-Muller's radius sqrt(-2 log u) from a pair's first word.
Value radius(OpBuilder &b, Location l, FloatType ct, Value word) {
  Value lg = logOf(b, l, uniform(b, l, ct, word));
  return b.create<math::SqrtOp>(l, b.create<arith::MulFOp>(l, constant(b, l, ct, -2.0), lg));
}

// radius * cos(2 pi u - shift) for a pair's second word; shift is 0 (cosine) or pi/2 (sine).
Value normal(OpBuilder &b, Location l, FloatType ct, Value r, Value word, Value shift) {
  Value angle =
      b.create<arith::MulFOp>(l, constant(b, l, ct, 6.283185307179586), uniform(b, l, ct, word));
  angle = b.create<arith::SubFOp>(l, angle, shift);
  return b.create<arith::MulFOp>(l, r, cosOf(b, l, angle));
}

// The noisy value of input element x (compute type) given its standard normal.
Value addNoise(OpBuilder &b, Location l, const NoiseParams &p, Value x, Value n) {
  Value noise = b.create<arith::AddFOp>(l, p.mean, b.create<arith::MulFOp>(l, p.std, n));
  return b.create<arith::SelectOp>(l, p.on, b.create<arith::AddFOp>(l, x, noise), x);
}

// One voxel's standard normal from its global index `pos` (i64): block pos / 4, pair and
// cosine/sine from pos % 4.
Value voxelNormal(OpBuilder &b, Location l, const NoiseParams &p, Value pos) {
  auto i64 = [&](int64_t v) {
    return b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(v)).getResult();
  };
  auto w = blockOf(b, l, p, b.create<arith::ShRUIOp>(l, pos, i64(2)));
  Value k = b.create<arith::AndIOp>(l, pos, i64(3));
  Value second = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge, k, i64(2));
  Value odd = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne,
                                      b.create<arith::AndIOp>(l, k, i64(1)), i64(0));
  Value a = b.create<arith::SelectOp>(l, second, w[2], w[0]);
  Value c = b.create<arith::SelectOp>(l, second, w[3], w[1]);
  Value shift =
      b.create<arith::SelectOp>(l, odd, constant(b, l, p.ct, M_PI_2), constant(b, l, p.ct, 0.0));
  return normal(b, l, p.ct, radius(b, l, p.ct, a), c, shift);
}

Value asI64(OpBuilder &b, Location l, Value index) {
  return b.create<arith::IndexCastUIOp>(l, b.getI64Type(), index);
}

// Whether the noise has nothing to fuse with: a flat input that enters the kernel as it is,
// and a result that leaves it as it is. (Patterns run top-down, so a lowered producer shows
// up as a linalg op here and keeps the fusable form.)
bool aloneInKernel(GaussianNoiseOp op) {
  if (cast<RankedTensorType>(op.getInput().getType()).getRank() != 1)
    return false;
  Operation *producer = op.getInput().getDefiningOp();
  if (producer && !isa<bufferization::ToTensorOp>(producer))
    return false;
  for (Operation *user : op.getResult().getUsers())
    if (!isa<func::ReturnOp, bufferization::MaterializeInDestinationOp>(user))
      return false;
  return true;
}

// The grouped form: a loop over the groups of four that lie wholly in the buffer (from the first
// multiple of four of the global index), then the partial groups before and after them (the head
// and the tail, at most three voxels each) as straight-line code. (A loop over single voxels
// there would be vectorised by LLVM like any loop and cost more compile time than the grouped
// loop itself, for at most six voxels.) All written into one tensor.
Value buildGrouped(OpBuilder &b, Location l, GaussianNoiseOp op, const NoiseParams &p) {
  Value input = op.getInput();
  auto type = cast<RankedTensorType>(op.getResult().getType());
  auto idx = [&](int64_t v) { return b.create<arith::ConstantIndexOp>(l, v).getResult(); };
  Value n = b.create<tensor::DimOp>(l, input, 0);
  Value base = op.getIndexBase();
  // head = min((4 - base % 4) % 4, n); groups = (n - head) / 4.
  Value head = b.create<arith::RemUIOp>(
      l, b.create<arith::SubIOp>(l, idx(4), b.create<arith::RemUIOp>(l, base, idx(4))), idx(4));
  head = b.create<arith::MinUIOp>(l, head, n);
  Value groups = b.create<arith::DivUIOp>(l, b.create<arith::SubIOp>(l, n, head), idx(4));
  Value tailStart = b.create<arith::AddIOp>(l, head, b.create<arith::MulIOp>(l, groups, idx(4)));
  Value init = b.create<tensor::EmptyOp>(l, ArrayRef<OpFoldResult>{n}, type.getElementType());

  // The four standard normals of the group whose first voxel has global index `global` (i64).
  auto groupNormals = [&](OpBuilder &nb, Value global) {
    Value group = nb.create<arith::ShRUIOp>(
        l, global, nb.create<arith::ConstantOp>(l, nb.getI64IntegerAttr(2)));
    auto w = blockOf(nb, l, p, group);
    Value zero = constant(nb, l, p.ct, 0.0), quarter = constant(nb, l, p.ct, M_PI_2);
    Value r0 = radius(nb, l, p.ct, w[0]), r1 = radius(nb, l, p.ct, w[2]);
    return std::array<Value, 4>{
        normal(nb, l, p.ct, r0, w[1], zero), normal(nb, l, p.ct, r0, w[1], quarter),
        normal(nb, l, p.ct, r1, w[3], zero), normal(nb, l, p.ct, r1, w[3], quarter)};
  };
  // acc with voxel i (local index) set from its normal.
  auto put = [&](OpBuilder &nb, Value acc, Value i, Value normal) {
    Value x = toCompute(nb, l, nb.create<tensor::ExtractOp>(l, input, ValueRange{i}), p.ct);
    Value y = fromCompute(nb, l, addNoise(nb, l, p, x, normal), type.getElementType());
    return nb.create<tensor::InsertOp>(l, y, acc, ValueRange{i}).getResult();
  };
  Value acc = b.create<scf::ForOp>(
                   l, idx(0), groups, idx(1), ValueRange{init},
                   [&](OpBuilder &nb, Location, Value g, ValueRange it) {
                     Value first =
                         nb.create<arith::AddIOp>(l, head, nb.create<arith::MulIOp>(l, g, idx(4)));
                     auto n4 =
                         groupNormals(nb, asI64(nb, l, nb.create<arith::AddIOp>(l, base, first)));
                     Value out = it[0];
                     for (int64_t k = 0; k < 4; ++k)
                       out = put(nb, out, nb.create<arith::AddIOp>(l, first, idx(k)), n4[k]);
                     nb.create<scf::YieldOp>(l, out);
                   })
                  .getResult(0);
  // The group holding local voxels [lo, hi) (within one group; none when lo == hi): its first
  // voxel is local lo - (base + lo) % 4, which may lie before the buffer, so each voxel is
  // written only when it lies in [lo, hi).
  auto partial = [&](Value acc, Value lo, Value hi) {
    auto ifOp = b.create<scf::IfOp>(
        l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, lo, hi),
        [&](OpBuilder &t, Location) {
          Value globalLo = asI64(t, l, t.create<arith::AddIOp>(l, base, lo));
          Value c3 = t.create<arith::ConstantOp>(l, t.getI64IntegerAttr(3));
          Value globalFirst = t.create<arith::AndIOp>(
              l, globalLo,
              t.create<arith::XOrIOp>(l, c3,
                                      t.create<arith::ConstantOp>(l, t.getI64IntegerAttr(-1))));
          auto n4 = groupNormals(t, globalFirst);
          Value out = acc;
          for (int64_t k = 0; k < 4; ++k) {
            // Local index of voxel k: global - base, valid when lo <= it < hi.
            Value global = t.create<arith::AddIOp>(
                l, globalFirst, t.create<arith::ConstantOp>(l, t.getI64IntegerAttr(k)));
            Value inside = t.create<arith::AndIOp>(
                l, t.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge, global, globalLo),
                t.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, global,
                                        asI64(t, l, t.create<arith::AddIOp>(l, base, hi))));
            Value i = t.create<arith::IndexCastUIOp>(
                l, t.getIndexType(), t.create<arith::SubIOp>(l, global, asI64(t, l, base)));
            Value cur = out;
            out = t.create<scf::IfOp>(
                       l, inside,
                       [&](OpBuilder &w, Location) {
                         w.create<scf::YieldOp>(l, put(w, cur, i, n4[k]));
                       },
                       [&](OpBuilder &e, Location) { e.create<scf::YieldOp>(l, cur); })
                      .getResult(0);
          }
          t.create<scf::YieldOp>(l, out);
        },
        [&](OpBuilder &e, Location) { e.create<scf::YieldOp>(l, acc); });
    return ifOp.getResult(0);
  };
  acc = partial(acc, idx(0), head);
  return partial(acc, tailStart, n);
}

struct GaussianNoiseLowering : OpRewritePattern<GaussianNoiseOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GaussianNoiseOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    NoiseParams p;
    p.ct = computeType(op);
    p.on = applied(rw, loc, op.getApply());
    p.key0 = philoxKey(rw, loc, op.getKey0());
    p.key1 = philoxKey(rw, loc, op.getKey1());
    p.mean = scalarIn(rw, loc, op.getMean(), p.ct);
    p.std = scalarIn(rw, loc, op.getStd(), p.ct);
    if (aloneInKernel(op)) {
      rw.replaceOp(op, buildGrouped(rw, loc, op, p));
      return success();
    }
    VoxelIndex index(rw, loc, op.getInput(), op.getIndexBase());
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      return addNoise(b, l, p, x, voxelNormal(b, l, p, asI64(b, l, index.at(b, l))));
    });
    rw.replaceOp(op, r);
    return success();
  }
};

// med.rician_noise: two standard normals per voxel, one per key pair, each as
// med.gaussian_noise forms it; always the one-voxel-per-iteration form (it fuses).
struct RicianNoiseLowering : OpRewritePattern<RicianNoiseOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RicianNoiseOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto key = [&](Value k) { return philoxKey(rw, loc, k); };
    NoiseParams first;
    first.ct = computeType(op);
    first.on = applied(rw, loc, op.getApply());
    first.mean = scalarIn(rw, loc, op.getMean(), first.ct);
    first.std =
        scalarIn(rw, loc, rw.create<arith::MulFOp>(loc, op.getStd(), op.getScale()), first.ct);
    first.key0 = key(op.getKey0());
    first.key1 = key(op.getKey1());
    NoiseParams second = first;
    second.key0 = key(op.getKey2());
    second.key1 = key(op.getKey3());
    VoxelIndex index(rw, loc, op.getInput(), op.getIndexBase());
    Value r = buildMap(rw, loc, op, {}, [&](OpBuilder &b, Location l, Value x, ValueRange) {
      Value pos = asI64(b, l, index.at(b, l));
      auto noise = [&](const NoiseParams &p) -> Value {
        return b.create<arith::AddFOp>(
            l, p.mean, b.create<arith::MulFOp>(l, p.std, voxelNormal(b, l, p, pos)));
      };
      Value a = b.create<arith::AddFOp>(l, x, noise(first));
      Value n2 = noise(second);
      Value sum = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, a, a),
                                          b.create<arith::MulFOp>(l, n2, n2));
      return b.create<arith::SelectOp>(l, first.on, b.create<math::SqrtOp>(l, sum), x).getResult();
    });
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

// Philox4x32-10 (the same function as runtime/src/rng.cpp) with every 32-bit word held in the
// low half of an i64 whose high half is zero: the 32x32->64 products then need no extensions and
// the words no truncations, so vectorised rounds stay in 64-bit lanes (a multiply of zero-extended
// halves, shifts, ands, xors) instead of shuffling between 32- and 64-bit lanes. Returns the
// four words, still as i64.
static std::array<Value, 4> philox(OpBuilder &b, Location l, std::array<Value, 4> c,
                                   std::array<Value, 2> k) {
  auto i64 = [&](uint64_t v) {
    return b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(static_cast<int64_t>(v))).getResult();
  };
  Value m0 = i64(0xD2511F53u), m1 = i64(0xCD9E8D57u), mask = i64(0xFFFFFFFFu), shift = i64(32);
  Value w0 = i64(0x9E3779B9u), w1 = i64(0xBB67AE85u);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) { // loop-invariant: computed once per kernel call
      k[0] = b.create<arith::AndIOp>(l, b.create<arith::AddIOp>(l, k[0], w0), mask);
      k[1] = b.create<arith::AndIOp>(l, b.create<arith::AddIOp>(l, k[1], w1), mask);
    }
    Value p0 = b.create<arith::MulIOp>(l, m0, c[0]);
    Value p1 = b.create<arith::MulIOp>(l, m1, c[2]);
    Value hi0 = b.create<arith::ShRUIOp>(l, p0, shift), lo0 = b.create<arith::AndIOp>(l, p0, mask);
    Value hi1 = b.create<arith::ShRUIOp>(l, p1, shift), lo1 = b.create<arith::AndIOp>(l, p1, mask);
    c = {b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, hi1, c[1]), k[0]), lo1,
         b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, hi0, c[3]), k[1]), lo0};
  }
  return c;
}

std::array<Value, 4> mlir::med::lowering::philoxBlock(OpBuilder &b, Location l, Value group,
                                                      Value key0, Value key1) {
  Value c32 = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(32));
  Value low = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(0xFFFFFFFFll));
  Value zero = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(0));
  return philox(
      b, l,
      {b.create<arith::AndIOp>(l, group, low), b.create<arith::ShRUIOp>(l, group, c32), zero, zero},
      {key0, key1});
}

Value mlir::med::lowering::philoxKey(OpBuilder &b, Location l, Value f64Key) {
  return b.create<arith::ExtUIOp>(l, b.getI64Type(),
                                  b.create<arith::FPToUIOp>(l, b.getI32Type(), f64Key));
}

void mlir::med::lowering::populateNoiseLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GaussianNoiseLowering, RicianNoiseLowering>(patterns.getContext());
}
