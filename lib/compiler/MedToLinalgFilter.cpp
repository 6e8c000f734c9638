// med.filter_axis -> one linalg.generic over the output window (rows x row length).
//
// The output has the input's shape, so an output voxel's flat index is also its input index and
// its neighbours along the axis sit at fixed offsets (t - R) * stride. Each tap reads
// flat + (the offset when the neighbour is inside the image, else 0) and counts only when inside
// and of nonzero weight (a select, so a value read in place of an outside neighbour never
// enters the sum). For an axis other than the innermost, the position along it depends on the
// row only: the inside tests and the chosen offsets are row-invariant, LLVM hoists them, and the
// taps become contiguous loads along the row. Along the innermost axis the position is the
// column, so the offsets vary per voxel (gathers or scalar loads, HostTuning.h).
#include "LoweringUtils.h"
#include "med/MedOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::med;
using namespace mlir::med::lowering;

namespace {

struct FilterAxisLowering : OpRewritePattern<FilterAxisOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FilterAxisOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = op.getRank(), axis = op.getAxisIndex();
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Type elem = resultType.getElementType();
    FloatType ct = elem.isF64() ? rw.getF64Type() : rw.getF32Type();
    auto index = [&](Value f64) {
      return rw
          .create<arith::IndexCastOp>(loc, rw.getIndexType(),
                                      rw.create<arith::FPToSIOp>(loc, rw.getI64Type(), f64))
          .getResult();
    };
    // Loop invariants: sizes, the axis' stride, the rows per step along the axis.
    SmallVector<Value> size;
    for (Value s : op.getShape())
      size.push_back(index(s));
    Value stride = rw.create<arith::ConstantIndexOp>(loc, 1);
    for (int64_t d = axis + 1; d < n; ++d)
      stride = rw.create<arith::MulIOp>(loc, stride, size[d]);
    Value rowsPerStep = rw.create<arith::ConstantIndexOp>(loc, 1);
    for (int64_t d = axis + 1; d < n - 1; ++d)
      rowsPerStep = rw.create<arith::MulIOp>(loc, rowsPerStep, size[d]);
    Value rowLength = size[n - 1], len = size[axis];
    Value firstRow = rw.create<arith::DivUIOp>(loc, op.getWindowOffset(), rowLength);
    Value zeroIdx = rw.create<arith::ConstantIndexOp>(loc, 0);
    Value zero = constant(rw, loc, ct, 0.0);
    ValueRange taps = op.getTaps();
    const int64_t count = static_cast<int64_t>(taps.size()), radius = (count - 1) / 2;
    SmallVector<Value> weight, nonzero, offset, shift;
    for (int64_t t = 0; t < count; ++t) {
      weight.push_back(scalarIn(rw, loc, taps[t], ct));
      nonzero.push_back(rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, taps[t],
                                                 constant(rw, loc, rw.getF64Type(), 0.0)));
      shift.push_back(rw.create<arith::ConstantIndexOp>(loc, t - radius));
      offset.push_back(rw.create<arith::MulIOp>(loc, shift.back(), stride));
    }
    Value input = op.getInput();
    Value init = rw.create<tensor::EmptyOp>(
        loc, ArrayRef<OpFoldResult>{op.getWindowRows(), rowLength}, elem);
    AffineMap id = rw.getMultiDimIdentityMap(2);
    auto parallel = utils::IteratorType::parallel;
    auto generic = rw.create<linalg::GenericOp>(
        loc, resultType, ValueRange{}, ValueRange{init}, ArrayRef<AffineMap>{id},
        ArrayRef<utils::IteratorType>{parallel, parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value row = b.create<arith::AddIOp>(l, firstRow, b.create<linalg::IndexOp>(l, 0));
          Value column = b.create<linalg::IndexOp>(l, 1);
          Value flat =
              b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, row, rowLength), column);
          // The voxel's index along the axis: its column, or a function of its row.
          Value pos =
              axis == n - 1
                  ? column
                  : b.create<arith::RemUIOp>(l, b.create<arith::DivUIOp>(l, row, rowsPerStep), len)
                        .getResult();
          Value sum = zero;
          for (int64_t t = 0; t < count; ++t) {
            Value at = b.create<arith::AddIOp>(l, pos, shift[t]);
            Value inside = b.create<arith::AndIOp>(
                l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, at, zeroIdx),
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, at, len));
            Value read = b.create<arith::AddIOp>(
                l, flat, b.create<arith::SelectOp>(l, inside, offset[t], zeroIdx));
            Value v = toCompute(b, l, b.create<tensor::ExtractOp>(l, input, ValueRange{read}), ct);
            Value use = b.create<arith::AndIOp>(l, inside, nonzero[t]);
            Value term =
                b.create<arith::SelectOp>(l, use, b.create<arith::MulFOp>(l, weight[t], v), zero);
            sum = b.create<arith::AddFOp>(l, sum, term);
          }
          b.create<linalg::YieldOp>(l, fromCompute(b, l, sum, elem));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateFilterLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<FilterAxisLowering>(patterns.getContext());
}
