// med.coarse_dropout -> one elementwise linalg.generic. Each element finds its voxel from its
// global flat index as med.bias_field does, tests it against the call's boxes (a box past
// `count` never holds), and takes the fill value (a per-voxel Philox uniform in f64, as
// rt::voxelUniform, scaled to [low, high)) or its stored value, which is copied as it is.
#include "LoweringUtils.h"
#include "Philox.h"
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

struct CoarseDropoutLowering : OpRewritePattern<CoarseDropoutOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CoarseDropoutOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    const int64_t n = static_cast<int64_t>(op.getSpatialRank().convertToDouble());
    FloatType f64 = rw.getF64Type();
    ValueRange args = op.getArgs();
    SmallVector<Value> size(args.begin(), args.begin() + n), inv;
    for (int64_t d = 0; d < n; ++d)
      inv.push_back(rw.create<arith::DivFOp>(loc, constant(rw, loc, f64, 1.0), size[d]));
    // Per box and axis [start, start + size); whether the box is among the first `count`.
    const int64_t boxes = (static_cast<int64_t>(args.size()) - n) / (2 * n);
    SmallVector<SmallVector<std::pair<Value, Value>>> box(boxes);
    SmallVector<Value> used;
    for (int64_t h = 0; h < boxes; ++h) {
      for (int64_t d = 0; d < n; ++d) {
        Value start = args[n + (h * n + d) * 2], extent = args[n + (h * n + d) * 2 + 1];
        box[h].push_back({start, rw.create<arith::AddFOp>(loc, start, extent)});
      }
      used.push_back(rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT,
                                              constant(rw, loc, f64, double(h)), op.getCount()));
    }
    Value on = applied(rw, loc, op.getApply());
    Value span = rw.create<arith::SubFOp>(loc, op.getHigh(), op.getLow());
    Value key0 = philoxKey(rw, loc, op.getKey0()), key1 = philoxKey(rw, loc, op.getKey1());
    const bool holes = op.getDropoutHoles(), range = op.getFillRange();

    Value input = op.getInput();
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Type element = resultType.getElementType();
    const int64_t rank = resultType.getRank();
    VoxelIndex index(rw, loc, input, op.getIndexBase());
    Value init = rw.create<tensor::EmptyOp>(loc, tensor::getMixedSizes(rw, loc, input), element);
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    auto generic = rw.create<linalg::GenericOp>(
        loc, resultType, ValueRange{input}, ValueRange{init}, ArrayRef<AffineMap>{id, id},
        iterators, [&](OpBuilder &b, Location l, ValueRange blockArgs) {
          Value global = index.at(b, l);
          SmallVector<Value> o = voxelCoordinates(b, l, global, size, inv);
          Value inside = b.create<arith::ConstantOp>(l, b.getBoolAttr(false));
          for (int64_t h = 0; h < boxes; ++h) {
            Value in = used[h];
            for (int64_t d = 0; d < n; ++d) {
              Value lo =
                  b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, o[d], box[h][d].first);
              Value hi =
                  b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, o[d], box[h][d].second);
              in = b.create<arith::AndIOp>(l, in, b.create<arith::AndIOp>(l, lo, hi));
            }
            inside = b.create<arith::OrIOp>(l, inside, in);
          }
          Value fill = op.getLow();
          if (range) {
            // Word i % 4 of block i / 4, as (u + 0.5) / 2^32, then low + (high - low) u.
            Value i = b.create<arith::IndexCastUIOp>(l, b.getI64Type(), global);
            auto i64 = [&](int64_t v) {
              return b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(v)).getResult();
            };
            auto w = philoxBlock(b, l, b.create<arith::ShRUIOp>(l, i, i64(2)), key0, key1);
            Value k = b.create<arith::AndIOp>(l, i, i64(3));
            Value word = w[3];
            for (int64_t j = 2; j >= 0; --j)
              word = b.create<arith::SelectOp>(
                  l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, k, i64(j)), w[j], word);
            Value u = b.create<arith::UIToFPOp>(l, f64,
                                                b.create<arith::TruncIOp>(l, b.getI32Type(), word));
            u = b.create<arith::MulFOp>(l, b.create<arith::AddFOp>(l, u, constant(b, l, f64, 0.5)),
                                        constant(b, l, f64, 0x1p-32));
            fill = b.create<arith::AddFOp>(l, op.getLow(), b.create<arith::MulFOp>(l, span, u));
          }
          Value filled = fromCompute(b, l, fill, element);
          Value take = holes ? inside
                             : b.create<arith::XOrIOp>(
                                   l, inside, b.create<arith::ConstantOp>(l, b.getBoolAttr(true)));
          take = b.create<arith::AndIOp>(l, on, take);
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, take, filled, blockArgs[0]).getResult());
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::med::lowering::populateDropoutLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<CoarseDropoutLowering>(patterns.getContext());
}
