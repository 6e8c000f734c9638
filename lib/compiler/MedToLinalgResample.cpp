// med.resample -> one linalg.generic over the output window (rows x row length) that gathers
// from the input (three for area, below).
//
// Each row recovers its (channel, outer voxel indices) from its global row number once; along
// the row only the innermost index changes, so the position is one FMA per axis from a
// row-invariant base that LLVM hoists out of the inner loop. The row arithmetic runs in f64 on
// exact integers (a multiply by the reciprocal and a floor instead of an integer division): for
// indices below 2^40 the quotient of (g + 0.5) / n is at least 0.5 / n away from an integer, far
// more than the rounding error, so the floor is exact.
//
// Bilinear: per axis once, the two neighbours' weights and inside flags, and a base coordinate
// clamped into [0, size - 2], so that base and base + 1 are always inside: one flat index per
// voxel, and the 2^n corners are read at loop-invariant offsets from it, each counting with the
// weight of the neighbour it is (or not at all). Flags and clamps run in the compute type
// (coordinates are integers below 2^24 inside any image). The flat index is an exact f64
// integer turned into an index by the 2^52 bias (one add and a bitcast, vectorised) instead of
// fptosi, which AVX2 has only for 32-bit results. Whether the corner loads become gather
// instructions is the target's choice (HostTuning.h: scalar loads on AMD Zen).
//
// Displaced (a dense deformation): each voxel first adds its displacement d(o), read from the
// f32 planes of the displacement operand, to its index; rows are then no copies.
//
// Area: the input box between the images of the output voxel's corners, summed and divided by
// its extents. A box spans at most 2 voxels per axis when the scale is <= 1 (or exactly 2), at
// most 3 when it is < 2: those read a fixed 2^n or 3^n voxels with selects and vectorise like
// bilinear, other boxes are loops. The choice is per call, between three generics, because LLVM
// does not unswitch a loop this large.
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <functional>

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

// 0 of an element type: a float, or a signless integer cast to a signed/unsigned one.
Value zeroOf(OpBuilder &b, Location l, Type t) {
  if (isa<FloatType>(t))
    return b.create<arith::ConstantOp>(l, t, b.getFloatAttr(t, 0.0));
  Value z = b.create<arith::ConstantOp>(
      l, b.getIntegerAttr(b.getIntegerType(t.getIntOrFloatBitWidth()), 0));
  if (!t.isSignlessInteger())
    z = b.create<UnrealizedConversionCastOp>(l, t, z).getResult(0);
  return z;
}

// Area: the sum of the input voxels in the box [lo, hi) (exact f64 integers per axis, inside the
// input, lo <= hi) of channel `channelBase`, in the compute type and in row-major order as
// interpolate's area mode (adaptive average pooling) adds them: nested loops, the innermost axis
// inside.
Value boxSum(OpBuilder &b, Location l, Value input, ArrayRef<Value> lo, ArrayRef<Value> hi,
             ArrayRef<Value> stride, Value channelBase, FloatType ct) {
  auto index = [&](Value v) {
    return b
        .create<arith::IndexCastOp>(l, b.getIndexType(),
                                    b.create<arith::FPToSIOp>(l, b.getI64Type(), v))
        .getResult();
  };
  Value one = b.create<arith::ConstantIndexOp>(l, 1);
  // Each level adds its index times its stride.
  std::function<Value(int64_t, Value, Value)> level = [&](int64_t d, Value base, Value acc) {
    auto loop = b.create<scf::ForOp>(
        l, index(lo[d]), index(hi[d]), one, ValueRange{acc},
        [&](OpBuilder &nb, Location nl, Value iv, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value at = b.create<arith::AddIOp>(nl, base, b.create<arith::MulIOp>(nl, iv, stride[d]));
          Value next =
              d + 1 < static_cast<int64_t>(lo.size())
                  ? level(d + 1, at, iter[0])
                  : b.create<arith::AddFOp>(
                         nl, iter[0],
                         toCompute(b, nl, b.create<tensor::ExtractOp>(nl, input, ValueRange{at}),
                                   ct))
                        .getResult();
          b.create<scf::YieldOp>(nl, next);
        });
    return loop.getResult(0);
  };
  return level(0, index(channelBase), constant(b, l, ct, 0.0));
}

// The mean from the sum of the box [lo, hi): divided by the extent along each axis in turn (as
// adaptive average pooling divides); an empty box gives 0.
Value boxMean(OpBuilder &b, Location l, Value sum, ArrayRef<Value> lo, ArrayRef<Value> hi,
              FloatType ct) {
  Value zero = constant(b, l, ct, 0.0), mean = sum, empty;
  for (size_t d = 0; d < lo.size(); ++d) {
    Value extent = scalarIn(b, l, b.create<arith::SubFOp>(l, hi[d], lo[d]), ct);
    mean = b.create<arith::DivFOp>(l, mean, extent);
    Value none = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, extent, zero);
    empty = empty ? b.create<arith::OrIOp>(l, empty, none).getResult() : none;
  }
  return b.create<arith::SelectOp>(l, empty, zero, mean);
}

struct ResampleLowering : OpRewritePattern<ResampleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ResampleOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getSpatialRank();
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Type elem = resultType.getElementType();
    FloatType ct = computeType(op);
    Type f64 = rw.getF64Type();
    const bool linear = op.getMode() == "bilinear";
    // Bicubic (2-D): padding applies to each of the 4 x 4 taps, not to the position.
    const bool cubic = op.getMode() == "bicubic";
    // interpolate's nearest index: floorf of a float32 product, which the f64 FMA of the map
    // computes exactly (24-bit factors) before the rounding to float32 here.
    const bool floorMode = op.getMode() == "floor";
    // Area: the box between the images of the voxel's corners o and o + 1 (padding ignored).
    const bool area = op.getMode() == "area";
    const bool reflectCorners = op.getPaddingMode() == "reflection_corners";
    const bool reflection = op.getPaddingMode() == "reflection" || reflectCorners;
    const bool border = op.getPaddingMode() == "border";
    const bool wrap = op.getPaddingMode() == "wrap"; // numpy's wrap pad: p modulo the size

    // Loop invariants: shapes (f64 integers), strides of the input, the matrix.
    SmallVector<Value> in(op.getInShape()), out(op.getOutShape()), m(op.getMatrix());
    const bool bounded = op.getBounded(), zeroOutside = op.getZeroOutside();
    SmallVector<Value> bounds(op.getBounds()); // lo0, hi0, lo1, hi1, ... when bounded
    auto c = [&](OpBuilder &b, double v) { return constant(b, loc, b.getF64Type(), v); };
    auto mul = [&](OpBuilder &b, Value x, Value y) {
      return b.create<arith::MulFOp>(loc, x, y).getResult();
    };
    auto add = [&](OpBuilder &b, Value x, Value y) {
      return b.create<arith::AddFOp>(loc, x, y).getResult();
    };
    auto cmp = [&](OpBuilder &b, arith::CmpFPredicate pred, Value x, Value y) {
      return b.create<arith::CmpFOp>(loc, pred, x, y).getResult();
    };
    // An index coordinate clamped into [0, hi] by compare-and-select: one max and one min
    // instruction, and a NaN lands on 0.
    auto clampIndex = [&](OpBuilder &b, Value x, Value hi) {
      Value zero = constant(b, loc, cast<FloatType>(x.getType()), 0.0);
      Value pos =
          b.create<arith::SelectOp>(loc, cmp(b, arith::CmpFPredicate::OGT, x, zero), x, zero);
      return b.create<arith::SelectOp>(loc, cmp(b, arith::CmpFPredicate::OLT, pos, hi), pos, hi)
          .getResult();
    };
    // An exact integer in [0, 2^52) as an index without fptosi, which AVX2 cannot vectorise for
    // 64-bit results: adding 2^52 puts the integer in the mantissa's low bits.
    auto exactIndex = [&](OpBuilder &b, Value flat) {
      Value biased = b.create<arith::BitcastOp>(loc, b.getI64Type(), add(b, flat, c(b, 0x1p52)));
      Value bits = b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(0x4330000000000000));
      return b
          .create<arith::IndexCastOp>(loc, b.getIndexType(),
                                      b.create<arith::SubIOp>(loc, biased, bits))
          .getResult();
    };
    // t >= 0 mirrored at multiples of span until it lies in [0, span]: fmod(t, span) as
    // t - span * floor(t / span), exact when the floor is; a quotient rounded up to an integer
    // lands within rounding of an edge, where the clamp that follows decides anyway.
    auto mirror = [&](OpBuilder &b, Value t, Value span) {
      Value flips = b.create<math::FloorOp>(loc, b.create<arith::DivFOp>(loc, t, span));
      Value extra = b.create<math::FmaOp>(loc, b.create<arith::NegFOp>(loc, span), flips, t);
      Value half = mul(b, flips, c(b, 0.5));
      Value even =
          cmp(b, arith::CmpFPredicate::OEQ, b.create<math::FloorOp>(loc, half).getResult(), half);
      Value mirrored = b.create<arith::SubFOp>(loc, span, extra);
      return b.create<arith::SelectOp>(loc, even, extra, mirrored).getResult();
    };
    // grid_sample's reflection without align_corners: mirrored at -0.5 and size - 0.5 (the
    // image's edges).
    auto reflect = [&](OpBuilder &b, Value x, Value size) {
      Value t = b.create<math::AbsFOp>(loc, add(b, x, c(b, 0.5)));
      return b.create<arith::SubFOp>(loc, mirror(b, t, size), c(b, 0.5)).getResult();
    };
    // With align_corners: mirrored at 0 and size - 1 (the outer voxel centres); an axis of one
    // voxel has no span and maps every position to 0.
    auto reflectAtCentres = [&](OpBuilder &b, Value x, Value size) {
      Value span = b.create<arith::SubFOp>(loc, size, c(b, 1.0));
      Value inside = mirror(b, b.create<math::AbsFOp>(loc, x), span);
      Value single = cmp(b, arith::CmpFPredicate::OEQ, span, c(b, 0.0));
      return b.create<arith::SelectOp>(loc, single, c(b, 0.0), inside).getResult();
    };
    SmallVector<Value> inv(n), inStride(n);
    Value prod = c(rw, 1.0);
    for (int64_t d = n - 1; d >= 0; --d) {
      inv[d] = rw.create<arith::DivFOp>(loc, c(rw, 1.0), out[d]);
      inStride[d] = prod;
      prod = mul(rw, prod, in[d]);
    }
    Value inChannel = prod; // voxels per input channel
    // A displacement: output strides and voxels per plane, to read d(o) at o.
    Value displacement = op.getDisplacement();
    SmallVector<Value> outStride(n);
    Value outPlane = c(rw, 1.0);
    if (displacement)
      for (int64_t d = n - 1; d >= 0; --d) {
        outStride[d] = outPlane;
        outPlane = mul(rw, outPlane, out[d]);
      }
    // Area: the strides as indices for the loops, and whether every box holds at most two or
    // three voxels per axis: a box spans ceil(f + r) voxels for a scale r = in / out and a
    // fraction f < 1 of its start, so at most 2 when r <= 1 (exactly 2 when r is 2) and at most
    // 3 when r < 2. Between 1 and 2, with r exactly in / out and an integer shift, the fractions
    // are the multiples of 1 / q for in / out = p / q in lowest terms, the largest (q - 1) / q,
    // so at most 2 when p <= q + 1, that is when in - out divides out (128 -> 96: boxes of 2,
    // 8 reads a voxel instead of 27; 7.1 -> 3.2 ms on one thread).
    SmallVector<Value> inStrideIndex;
    Value boxesOf2, boxesOf3;
    auto all = [&](Value acc, Value ok) {
      return acc ? rw.create<arith::AndIOp>(loc, acc, ok).getResult() : ok;
    };
    if (area)
      for (int64_t d = 0; d < n; ++d) {
        inStrideIndex.push_back(rw.create<arith::IndexCastOp>(
            loc, rw.getIndexType(), rw.create<arith::FPToSIOp>(loc, rw.getI64Type(), inStride[d])));
        Value scale = m[d * (n + 1) + d], shift = m[d * (n + 1) + n];
        Value r = rw.create<math::AbsFOp>(loc, scale);
        Value excess = rw.create<arith::SubFOp>(loc, in[d], out[d]);
        Value ratio = rw.create<arith::AndIOp>(
            loc,
            rw.create<arith::AndIOp>(loc, cmp(rw, arith::CmpFPredicate::OGT, scale, c(rw, 1.0)),
                                     cmp(rw, arith::CmpFPredicate::OEQ, scale,
                                         rw.create<arith::DivFOp>(loc, in[d], out[d]))),
            rw.create<arith::AndIOp>(
                loc,
                cmp(rw, arith::CmpFPredicate::OEQ, shift, rw.create<math::FloorOp>(loc, shift)),
                cmp(rw, arith::CmpFPredicate::OEQ, rw.create<arith::RemFOp>(loc, out[d], excess),
                    c(rw, 0.0))));
        Value two = rw.create<arith::OrIOp>(
            loc, cmp(rw, arith::CmpFPredicate::OLE, r, c(rw, 1.0)),
            rw.create<arith::OrIOp>(loc, cmp(rw, arith::CmpFPredicate::OEQ, r, c(rw, 2.0)), ratio));
        boxesOf2 = all(boxesOf2, two);
        boxesOf3 = all(boxesOf3, cmp(rw, arith::CmpFPredicate::OLT, r, c(rw, 2.0)));
      }
    Value offset = rw.create<arith::UIToFPOp>(
        loc, f64, rw.create<arith::IndexCastUIOp>(loc, rw.getI64Type(), op.getWindowOffset()));
    // The window's first row, and the row length as an index (the result's second dimension).
    Value firstRow =
        rw.create<math::FloorOp>(loc, mul(rw, add(rw, offset, c(rw, 0.5)), inv[n - 1]));
    Value rowLength = rw.create<arith::IndexCastOp>(
        loc, rw.getIndexType(), rw.create<arith::FPToSIOp>(loc, rw.getI64Type(), out[n - 1]));
    Value inMax[3];
    for (int64_t d = 0; d < n; ++d)
      inMax[d] = rw.create<arith::SubFOp>(loc, in[d], c(rw, 1.0));

    // Rows that are plain copies: nearest mode, the innermost output axis steps the innermost
    // input axis by +1 and no other. Such a row whose first voxel sits on the grid and which
    // lies wholly inside the input reads one contiguous run; the branch on it is invariant in
    // the inner loop, so LLVM unswitches it into a vectorised copy loop (flips, Rotate90 about
    // outer axes, integer shifts).
    Value unitRows;
    if (!linear && !area && !cubic) {
      for (int64_t r = 0; r < n; ++r) {
        Value want = c(rw, r == n - 1 ? 1.0 : 0.0);
        Value eq =
            rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, m[r * (n + 1) + n - 1], want);
        unitRows = unitRows ? rw.create<arith::AndIOp>(loc, unitRows, eq).getResult() : eq;
      }
    }

    // Bilinear: the highest base coordinate per axis (size - 2, or 0 for a one-voxel axis),
    // and each corner's offset from its voxel's base index (an axis of one voxel contributes 0,
    // so every read stays inside the input).
    SmallVector<Value> inMaxC(n), hiMaxC(n), baseMaxC(n), cornerOffset;
    if (linear) {
      SmallVector<Value> stepB(n), baseMax(n);
      for (int64_t d = 0; d < n; ++d) {
        Value wide = cmp(rw, arith::CmpFPredicate::OGE, inMax[d], c(rw, 1.0));
        baseMax[d] = rw.create<arith::SelectOp>(
            loc, wide, rw.create<arith::SubFOp>(loc, inMax[d], c(rw, 1.0)), c(rw, 0.0));
        stepB[d] = rw.create<arith::SelectOp>(loc, wide, inStride[d], c(rw, 0.0));
        inMaxC[d] = scalarIn(rw, loc, inMax[d], ct);
        hiMaxC[d] = scalarIn(rw, loc, rw.create<arith::SubFOp>(loc, inMax[d], c(rw, 1.0)), ct);
        baseMaxC[d] = scalarIn(rw, loc, baseMax[d], ct);
      }
      for (int64_t corner = 0; corner < (int64_t(1) << n); ++corner) {
        Value off = c(rw, 0.0);
        for (int64_t d = 0; d < n; ++d)
          if ((corner >> (n - 1 - d)) & 1)
            off = add(rw, off, stepB[d]);
        cornerOffset.push_back(rw.create<arith::IndexCastOp>(
            loc, rw.getIndexType(), rw.create<arith::FPToSIOp>(loc, rw.getI64Type(), off)));
      }
    }
    Value input = op.getInput();
    Value init = rw.create<tensor::EmptyOp>(
        loc, ArrayRef<OpFoldResult>{op.getWindowRows(), rowLength}, elem);
    AffineMap id = rw.getMultiDimIdentityMap(2);
    auto parallel = utils::IteratorType::parallel;
    // Area builds three generics (boxes of at most 2 or 3 voxels per axis, any box) and picks
    // one per call: the choice is invariant, but LLVM does not unswitch a loop this large.
    int64_t areaReach = 0; // the generic being built: voxels read per axis, 0 for loops
    auto body = [&](OpBuilder &b, Location l, ValueRange) {
      auto asF64 = [&](Value index) {
        return b.create<arith::UIToFPOp>(l, f64,
                                         b.create<arith::IndexCastUIOp>(l, b.getI64Type(), index));
      };
      // Row number -> (channel, o_0, ..., o_{n-2}); the column is o_{n-1}.
      SmallVector<Value> o(n);
      o[n - 1] = asF64(b.create<linalg::IndexOp>(l, 1));
      Value rest = add(b, asF64(b.create<linalg::IndexOp>(l, 0)), firstRow);
      for (int64_t d = n - 2; d >= 0; --d) {
        Value q = b.create<math::FloorOp>(l, mul(b, add(b, rest, c(b, 0.5)), inv[d]));
        o[d] = b.create<arith::SubFOp>(l, rest, mul(b, q, out[d]));
        rest = q;
      }
      // Bounded: indices outside the box read as its edge (edge padding of the output), or
      // give 0 with zero_outside.
      Value inBox;
      if (bounded)
        for (int64_t d = 0; d < n; ++d) {
          if (zeroOutside) { // (named first: the order of the ops is the lit tests')
            Value ge = cmp(b, arith::CmpFPredicate::OGE, o[d], bounds[2 * d]);
            Value le = cmp(b, arith::CmpFPredicate::OLE, o[d], bounds[2 * d + 1]);
            Value ok = b.create<arith::AndIOp>(l, ge, le);
            inBox = inBox ? b.create<arith::AndIOp>(l, inBox, ok).getResult() : ok;
          }
          o[d] = b.create<arith::MinimumFOp>(l, b.create<arith::MaximumFOp>(l, o[d], bounds[2 * d]),
                                             bounds[2 * d + 1]);
        }
      // Displaced: o + d(o), the n values at o in the planes of the displacement (f32).
      if (displacement) {
        Value flatOut = c(b, 0.0);
        for (int64_t d = 0; d < n; ++d)
          flatOut = b.create<math::FmaOp>(l, o[d], outStride[d], flatOut);
        SmallVector<Value> shifted(n);
        for (int64_t d = 0; d < n; ++d) {
          Value at =
              d == 0 ? flatOut : b.create<math::FmaOp>(l, c(b, double(d)), outPlane, flatOut);
          Value v = b.create<tensor::ExtractOp>(l, displacement, ValueRange{exactIndex(b, at)});
          shifted[d] = add(b, o[d], b.create<arith::ExtFOp>(l, f64, v));
        }
        o = shifted;
      }
      // The value to store: 0 outside the box with zero_outside.
      auto boxed = [&](Value v) -> Value {
        return inBox ? b.create<arith::SelectOp>(l, inBox, v, zeroOf(b, l, elem)).getResult() : v;
      };
      Value channelBase = mul(b, rest, inChannel);
      // Input position p = M (o, 1): the row-invariant terms first, then the column's.
      SmallVector<Value> p(n), rowStart(n);
      for (int64_t r = 0; r < n; ++r) {
        Value acc = m[r * (n + 1) + n];
        for (int64_t k = 0; k < n; ++k) {
          if (k == n - 1)
            rowStart[r] = acc; // the position of the row's first voxel
          acc = b.create<math::FmaOp>(l, m[r * (n + 1) + k], o[k], acc);
        }
        if (floorMode)
          acc = b.create<arith::ExtFOp>(
              l, f64, b.create<arith::TruncFOp>(l, b.getF32Type(), acc).getResult());
        if (reflection && !cubic)
          acc = reflectCorners ? reflectAtCentres(b, acc, in[r]) : reflect(b, acc, in[r]);
        if (wrap) // p - size floor(p / size), exact for the integer positions of a pad
          acc = b.create<math::FmaOp>(
              l, b.create<arith::NegFOp>(l, in[r]),
              b.create<math::FloorOp>(l, b.create<arith::DivFOp>(l, acc, in[r])), acc);
        if ((border || reflection || wrap) && !area && !cubic) // clamped into the image
          acc = b.create<arith::MinimumFOp>(l, b.create<arith::MaximumFOp>(l, acc, c(b, 0.0)),
                                            inMax[r]);
        p[r] = acc;
      }
      // One nearest sample: its value (0 outside the input) and whether it was inside.
      auto sample = [&](ArrayRef<Value> q) {
        Value inside, flat = channelBase;
        for (int64_t d = 0; d < n; ++d) {
          Value ge = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, q[d], c(b, 0.0));
          Value le = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, q[d], inMax[d]);
          Value ok = b.create<arith::AndIOp>(l, ge, le);
          inside = inside ? b.create<arith::AndIOp>(l, inside, ok).getResult() : ok;
          // Clamped so that the load stays inside the buffer whatever the position.
          flat = b.create<math::FmaOp>(l, clampIndex(b, q[d], inMax[d]), inStride[d], flat);
        }
        Value v = b.create<tensor::ExtractOp>(l, input, ValueRange{exactIndex(b, flat)});
        return std::make_pair(v, inside);
      };
      Value zero = constant(b, l, ct, 0.0);
      if (area) {
        // The box per axis: floor of the lower corner's image and ceil of the upper's,
        // nudged by 1e-7 so that an image that is an integer in exact arithmetic (a multiple
        // of out / in) is not moved past it by the rounding of the f64 scale; others lie at
        // least 1 / out from an integer. Clamped into the input so every read is inside it.
        SmallVector<Value> lo(n), hi(n);
        for (int64_t d = 0; d < n; ++d) {
          Value upper = p[d];
          for (int64_t k = 0; k < n; ++k)
            upper = add(b, upper, m[d * (n + 1) + k]);
          Value first = b.create<math::FloorOp>(l, add(b, p[d], c(b, 1e-7)));
          Value end = b.create<math::CeilOp>(l, add(b, upper, c(b, -1e-7)));
          lo[d] = clampIndex(b, first, in[d]);
          Value past = b.create<arith::SelectOp>(l, cmp(b, arith::CmpFPredicate::OGT, end, lo[d]),
                                                 end, lo[d]);
          hi[d] = b.create<arith::SelectOp>(l, cmp(b, arith::CmpFPredicate::OLT, past, in[d]), past,
                                            in[d]);
        }
        // Boxes of at most areaReach voxels per axis: the areaReach^n voxels from lo, each
        // counted when inside its box (a select, so an Inf outside the box adds nothing), summed
        // in row-major order; the read index is clamped into the input. Vectorised like the
        // bilinear gather. Any box (areaReach 0): loops.
        Value sum = zero;
        int64_t reads = areaReach;
        for (int64_t d = 1; d < n; ++d)
          reads *= areaReach;
        if (areaReach == 0)
          sum = boxSum(b, l, input, lo, hi, inStrideIndex, channelBase, ct);
        for (int64_t voxel = 0; voxel < reads; ++voxel) {
          Value inside, flat = channelBase;
          for (int64_t d = 0, rest = voxel; d < n; ++d) {
            int64_t step = 1;
            for (int64_t k = d + 1; k < n; ++k)
              step *= areaReach;
            Value at = lo[d];
            if (rest / step > 0)
              at = add(b, at, c(b, double(rest / step)));
            rest %= step;
            Value ok = cmp(b, arith::CmpFPredicate::OLT, at, hi[d]);
            inside = inside ? b.create<arith::AndIOp>(l, inside, ok).getResult() : ok;
            Value read = b.create<arith::SelectOp>(
                l, cmp(b, arith::CmpFPredicate::OLT, at, inMax[d]), at, inMax[d]);
            flat = b.create<math::FmaOp>(l, read, inStride[d], flat);
          }
          Value v = toCompute(
              b, l, b.create<tensor::ExtractOp>(l, input, ValueRange{exactIndex(b, flat)}), ct);
          sum = b.create<arith::AddFOp>(l, sum, b.create<arith::SelectOp>(l, inside, v, zero));
        }
        b.create<linalg::YieldOp>(l,
                                  boxed(fromCompute(b, l, boxMean(b, l, sum, lo, hi, ct), elem)));
        return;
      }
      Value result;
      if (cubic) {
        // grid_sample's and interpolate's bicubic (cubic convolution, A = -0.75): per axis the
        // four taps floor(p) - 1 .. floor(p) + 2 and their weights; each tap is mapped by the
        // padding (zeros: 0 outside; border: clamped; reflection: mirrored, then clamped).
        // Summed as ATen does: each of the four rows along the innermost axis first.
        auto k = [&](double v) { return constant(b, l, ct, v); };
        const double a = -0.75;
        auto near = [&](Value x) { // ((A + 2) x - (A + 3)) x x + 1, for |x| <= 1
          Value r = b.create<arith::SubFOp>(l, b.create<arith::MulFOp>(l, k(a + 2), x), k(a + 3));
          return b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, r, x), x), k(1.0));
        };
        auto far = [&](Value x) { // ((A x - 5 A) x + 8 A) x - 4 A, for 1 < |x| < 2
          Value r = b.create<arith::SubFOp>(l, b.create<arith::MulFOp>(l, k(a), x), k(5 * a));
          r = b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, r, x), k(8 * a));
          return b.create<arith::SubFOp>(l, b.create<arith::MulFOp>(l, r, x), k(4 * a));
        };
        SmallVector<SmallVector<Value, 4>> w(n), tap(n), ok(n);
        for (int64_t d = 0; d < n; ++d) {
          Value x0 = b.create<math::FloorOp>(l, p[d]);
          Value t = scalarIn(b, l, b.create<arith::SubFOp>(l, p[d], x0), ct);
          Value u = b.create<arith::SubFOp>(l, k(1.0), t);
          w[d] = {far(b.create<arith::AddFOp>(l, t, k(1.0))), near(t), near(u),
                  far(b.create<arith::AddFOp>(l, u, k(1.0)))};
          for (int64_t i = 0; i < 4; ++i) {
            Value at = add(b, x0, c(b, double(i - 1)));
            if (!border && !reflection) // zeros: a tap outside reads 0
              ok[d].push_back(
                  b.create<arith::AndIOp>(l, cmp(b, arith::CmpFPredicate::OGE, at, c(b, 0.0)),
                                          cmp(b, arith::CmpFPredicate::OLE, at, inMax[d])));
            if (reflection)
              at = reflectCorners ? reflectAtCentres(b, at, in[d]) : reflect(b, at, in[d]);
            tap[d].push_back(clampIndex(b, at, inMax[d]));
          }
        }
        for (int64_t j = 0; j < 4; ++j) {
          Value row;
          for (int64_t i = 0; i < 4; ++i) {
            Value flat = b.create<math::FmaOp>(l, tap[0][j], inStride[0], channelBase);
            flat = b.create<math::FmaOp>(l, tap[1][i], inStride[1], flat);
            Value v = toCompute(
                b, l, b.create<tensor::ExtractOp>(l, input, ValueRange{exactIndex(b, flat)}), ct);
            if (!ok[0].empty())
              v = b.create<arith::SelectOp>(l, b.create<arith::AndIOp>(l, ok[0][j], ok[1][i]), v,
                                            zero);
            Value term = b.create<arith::MulFOp>(l, v, w[1][i]);
            row = row ? b.create<arith::AddFOp>(l, row, term).getResult() : term;
          }
          Value term = b.create<arith::MulFOp>(l, row, w[0][j]);
          result = result ? b.create<arith::AddFOp>(l, result, term).getResult() : term;
        }
        b.create<linalg::YieldOp>(l, boxed(fromCompute(b, l, result, elem)));
        return;
      }
      // Any row: round (or floor) the position, read the voxel, 0 outside (what `sample`
      // does).
      auto generalNearest = [&](OpBuilder &) -> Value {
        SmallVector<Value> q(n);
        for (int64_t d = 0; d < n; ++d)
          q[d] = floorMode ? b.create<math::FloorOp>(l, p[d]).getResult()
                           : b.create<math::RoundEvenOp>(l, p[d]).getResult();
        auto [v, inside] = sample(q);
        Type inElem = v.getType();
        Value picked = b.create<arith::SelectOp>(l, inside, v, zeroOf(b, l, inElem));
        if (inElem != elem)
          picked = fromCompute(b, l, toCompute(b, l, picked, ct), elem);
        return picked;
      };
      if (!linear && (bounded || displacement)) { // no contiguous runs: no fast path
        b.create<linalg::YieldOp>(l, boxed(generalNearest(b)));
        return;
      }
      if (!linear) { // a copy: the stored value itself, converted only if the type changes
        Type inElem = cast<RankedTensorType>(input.getType()).getElementType();
        auto convert = [&](OpBuilder &b, Value picked) {
          return inElem == elem ? picked : fromCompute(b, l, toCompute(b, l, picked, ct), elem);
        };
        // Whether this row is a contiguous run inside the input (see unitRows).
        Value lastColumn = b.create<arith::SubFOp>(l, out[n - 1], c(b, 1.0));
        Value fast = unitRows;
        Value rowBase = channelBase;
        for (int64_t d = 0; d < n; ++d) {
          Value s = rowStart[d];
          Value onGrid = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, s,
                                                 b.create<math::FloorOp>(l, s));
          Value end = d == n - 1 ? add(b, s, lastColumn) : s;
          Value ge = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, s, c(b, 0.0));
          Value le = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, end, inMax[d]);
          fast = b.create<arith::AndIOp>(
              l, fast, b.create<arith::AndIOp>(l, onGrid, b.create<arith::AndIOp>(l, ge, le)));
          Value sc = b.create<arith::MinimumFOp>(l, b.create<arith::MaximumFOp>(l, s, c(b, 0.0)),
                                                 inMax[d]);
          rowBase = b.create<math::FmaOp>(l, sc, inStride[d], rowBase);
        }
        Value column = b.create<linalg::IndexOp>(l, 1); // linalg.index must not nest
        auto ifOp = b.create<scf::IfOp>(
            l, fast,
            [&](OpBuilder &t, Location tl) {
              Value base = t.create<arith::IndexCastOp>(
                  tl, t.getIndexType(), t.create<arith::FPToSIOp>(tl, t.getI64Type(), rowBase));
              Value idx = t.create<arith::AddIOp>(tl, base, column);
              Value v = t.create<tensor::ExtractOp>(tl, input, ValueRange{idx});
              t.create<scf::YieldOp>(tl, convert(t, v));
            },
            [&](OpBuilder &e, Location el) {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPoint(e.getInsertionBlock(), e.getInsertionPoint());
              e.create<scf::YieldOp>(el, generalNearest(b));
            });
        b.create<linalg::YieldOp>(l, ifOp.getResult(0));
        return;
      }
      {
        // Per axis once: the two neighbours lo and lo + 1 with their weights and whether
        // each lies inside the input (the upper one only when the position is off the grid
        // line, so an identity map returns the input exactly, NaN and Inf neighbours
        // included). The voxels read are cb and cb + 1 with cb = lo clamped into
        // [0, size - 2]: always inside, so one flat index per voxel and the 2^n corners at
        // fixed offsets from it. A read voxel counts with the weight of the neighbour it is,
        // and not at all when it is neither (near the border) or that neighbour is outside.
        SmallVector<Value> wA(n), wB(n), okA(n), okB(n);
        Value flat = channelBase;
        // Flags and clamps in the compute type: coordinates are integers below 2^24 inside
        // any image, so float32 compares decide as float64 ones, eight lanes at a time.
        auto k = [&](double v) { return constant(b, l, ct, v); };
        for (int64_t d = 0; d < n; ++d) {
          Value lo64 = b.create<math::FloorOp>(l, p[d]);
          Value w1 = scalarIn(b, l, b.create<arith::SubFOp>(l, p[d], lo64), ct);
          Value w0 = b.create<arith::SubFOp>(l, k(1.0), w1);
          Value lo = scalarIn(b, l, lo64, ct);
          Value okLo = b.create<arith::AndIOp>(l, cmp(b, arith::CmpFPredicate::OGE, lo, k(0.0)),
                                               cmp(b, arith::CmpFPredicate::OLE, lo, inMaxC[d]));
          Value okHi = b.create<arith::AndIOp>(
              l, cmp(b, arith::CmpFPredicate::ONE, w1, k(0.0)),
              b.create<arith::AndIOp>(l, cmp(b, arith::CmpFPredicate::OGE, lo, k(-1.0)),
                                      cmp(b, arith::CmpFPredicate::OLE, lo, hiMaxC[d])));
          Value cb = clampIndex(b, lo, baseMaxC[d]);
          Value atLo = cmp(b, arith::CmpFPredicate::OEQ, cb, lo);
          Value aIsLo = b.create<arith::AndIOp>(l, atLo, okLo);
          Value aIsHi = b.create<arith::AndIOp>(
              l, cmp(b, arith::CmpFPredicate::OEQ, cb, b.create<arith::AddFOp>(l, lo, k(1.0))),
              okHi);
          Value bIsLo = b.create<arith::AndIOp>(
              l, cmp(b, arith::CmpFPredicate::OEQ, b.create<arith::AddFOp>(l, cb, k(1.0)), lo),
              okLo);
          Value bIsHi = b.create<arith::AndIOp>(l, atLo, okHi);
          wA[d] = b.create<arith::SelectOp>(l, aIsLo, w0, w1);
          okA[d] = b.create<arith::OrIOp>(l, aIsLo, aIsHi);
          wB[d] = b.create<arith::SelectOp>(l, bIsLo, w0, w1);
          okB[d] = b.create<arith::OrIOp>(l, bIsLo, bIsHi);
          Value cb64 = cb.getType() == f64 ? cb : b.create<arith::ExtFOp>(l, f64, cb).getResult();
          flat = b.create<math::FmaOp>(l, cb64, inStride[d], flat);
        }
        Value base = exactIndex(b, flat);
        SmallVector<Value> terms;
        for (int64_t corner = 0; corner < (int64_t(1) << n); ++corner) {
          Value w, inside;
          for (int64_t d = 0; d < n; ++d) {
            bool hi = (corner >> (n - 1 - d)) & 1;
            Value wd = hi ? wB[d] : wA[d], ok = hi ? okB[d] : okA[d];
            w = w ? b.create<arith::MulFOp>(l, w, wd).getResult() : wd;
            inside = inside ? b.create<arith::AndIOp>(l, inside, ok).getResult() : ok;
          }
          Value idx = corner == 0
                          ? base
                          : b.create<arith::AddIOp>(l, base, cornerOffset[corner]).getResult();
          Value raw = b.create<tensor::ExtractOp>(l, input, ValueRange{idx});
          Value v = toCompute(b, l, raw, ct);
          terms.push_back(
              b.create<arith::SelectOp>(l, inside, b.create<arith::MulFOp>(l, v, w), zero));
        }
        // Pairwise, term k and k + half, halving (runtime/src/ukernel_resample.h, cornerSum):
        // a tree of depth n, not a chain, so the gather's latency stays short.
        for (size_t half = terms.size() / 2; half >= 1; half /= 2)
          for (size_t k = 0; k < half; ++k)
            terms[k] = b.create<arith::AddFOp>(l, terms[k], terms[k + half]);
        result = terms[0];
      }
      b.create<linalg::YieldOp>(l, boxed(fromCompute(b, l, result, elem)));
    };
    auto build = [&](OpBuilder &gb) {
      return gb
          .create<linalg::GenericOp>(loc, resultType, ValueRange{}, ValueRange{init},
                                     ArrayRef<AffineMap>{id},
                                     ArrayRef<utils::IteratorType>{parallel, parallel}, body)
          .getResult(0);
    };
    if (!area) {
      rw.replaceOp(op, build(rw));
      return success();
    }
    auto withReach = [&](int64_t reach) {
      return [&, reach](OpBuilder &t, Location) {
        areaReach = reach;
        t.create<scf::YieldOp>(loc, build(t));
      };
    };
    auto choice = rw.create<scf::IfOp>(loc, boxesOf2, withReach(2), [&](OpBuilder &e, Location) {
      auto wider = e.create<scf::IfOp>(loc, boxesOf3, withReach(3), withReach(0));
      e.create<scf::YieldOp>(loc, wider.getResult(0));
    });
    rw.replaceOp(op, choice.getResult(0));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateResampleLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ResampleLowering>(patterns.getContext());
}
