// med.bias_field -> one elementwise linalg.generic. Each element finds its voxel from its global
// flat index (row-major: channel, then the spatial axes) with f64 reciprocal-and-floor steps, exact
// on integers below 2^40 as in the resample's row arithmetic, evaluates the Legendre polynomials
// of each axis' linspace coordinate and sums the terms in the op's order, all in f64 and with
// the reference's operation order (no contraction into FMAs), so the field equals the host's
// to the bit. Along a row only the innermost coordinate changes; LLVM hoists the rest.
#include "FastMath.h"
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

struct BiasFieldLowering : OpRewritePattern<BiasFieldOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BiasFieldOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = static_cast<int64_t>(op.getSpatialRank().convertToDouble());
    const int64_t degree = static_cast<int64_t>(op.getDegree().convertToDouble());
    Type f64 = rw.getF64Type();
    auto c = [&](OpBuilder &b, double v) { return constant(b, loc, b.getF64Type(), v); };
    ValueRange args = op.getArgs();
    SmallVector<Value> size(args.begin(), args.begin() + n), coeff(args.begin() + n, args.end());
    // Loop invariants per axis: 1 / size, linspace's step and midpoint (ATen's linspace: from
    // the start below the middle, from the end above it).
    SmallVector<Value> inv(n), step(n), half(n), last(n);
    for (int64_t d = 0; d < n; ++d) {
      inv[d] = rw.create<arith::DivFOp>(loc, c(rw, 1.0), size[d]);
      last[d] = rw.create<arith::SubFOp>(loc, size[d], c(rw, 1.0));
      step[d] = rw.create<arith::DivFOp>(loc, c(rw, 2.0), last[d]);
      half[d] = rw.create<math::FloorOp>(loc, rw.create<arith::MulFOp>(loc, size[d], c(rw, 0.5)));
    }
    // The terms' exponents, in MONAI's order.
    SmallVector<std::array<int64_t, 3>> terms;
    for (int64_t i = 0; i <= degree; ++i)
      if (n == 2)
        for (int64_t j = 0; j <= i; ++j)
          terms.push_back({i, j, 0});
      else
        for (int64_t j = 0; j <= degree - i; ++j)
          for (int64_t k = 0; k <= degree - i - j; ++k)
            terms.push_back({i, j, k});

    Value input = op.getInput();
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    const int64_t rank = resultType.getRank();
    VoxelIndex index(rw, loc, input, op.getIndexBase());
    Value init = rw.create<tensor::EmptyOp>(loc, tensor::getMixedSizes(rw, loc, input),
                                            resultType.getElementType());
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    auto generic = rw.create<linalg::GenericOp>(
        loc, resultType, ValueRange{input}, ValueRange{init}, ArrayRef<AffineMap>{id, id},
        iterators, [&](OpBuilder &b, Location l, ValueRange blockArgs) {
          SmallVector<Value> o = voxelCoordinates(b, l, index.at(b, l), size, inv);
          // Legendre polynomials of each axis' coordinate.
          SmallVector<SmallVector<Value>> P(n);
          for (int64_t d = 0; d < n; ++d) {
            Value low =
                b.create<arith::AddFOp>(l, c(b, -1.0), b.create<arith::MulFOp>(l, step[d], o[d]));
            Value high = b.create<arith::SubFOp>(
                l, c(b, 1.0),
                b.create<arith::MulFOp>(l, step[d], b.create<arith::SubFOp>(l, last[d], o[d])));
            Value x = b.create<arith::SelectOp>(
                l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, o[d], half[d]), low, high);
            // One voxel: linspace(-1, 1, 1) is [-1].
            x = b.create<arith::SelectOp>(
                l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, last[d], c(b, 0.0)),
                c(b, -1.0), x);
            x = b.create<arith::ExtFOp>(
                l, f64, b.create<arith::TruncFOp>(l, b.getF32Type(), x).getResult());
            P[d] = {c(b, 1.0), x};
            for (int64_t k = 1; k < degree; ++k) {
              Value t = b.create<arith::MulFOp>(
                  l, b.create<arith::MulFOp>(l, c(b, 2.0 * k + 1.0), x), P[d][k]);
              t = b.create<arith::SubFOp>(l, t,
                                          b.create<arith::MulFOp>(l, c(b, double(k)), P[d][k - 1]));
              P[d].push_back(b.create<arith::DivFOp>(l, t, c(b, k + 1.0)));
            }
          }
          Value field = c(b, 0.0);
          for (size_t t = 0; t < terms.size(); ++t) {
            Value term = b.create<arith::MulFOp>(l, P[0][terms[t][0]], P[1][terms[t][1]]);
            if (n == 3)
              term = b.create<arith::MulFOp>(l, term, P[2][terms[t][2]]);
            field = b.create<arith::AddFOp>(l, field, b.create<arith::MulFOp>(l, coeff[t], term));
          }
          Value x = toCompute(b, l, blockArgs[0], b.getF64Type());
          Value y = b.create<arith::MulFOp>(l, x, fastExpF64(b, l, field));
          b.create<linalg::YieldOp>(l, fromCompute(b, l, y, resultType.getElementType()));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateBiasFieldLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<BiasFieldLowering>(patterns.getContext());
}
