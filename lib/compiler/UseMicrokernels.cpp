// med-use-microkernels: ops alone in their kernel become calls of the runtime's microkernels
// (runtime/include/med/runtime/ukernels.h). See Passes.td for when an op qualifies.
#include "Microkernels.h"

#include "med/MedOps.h"
#include "med/compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::med {
#define GEN_PASS_DEF_MEDUSEMICROKERNELS
#include "med/compiler/Passes.h.inc"
} // namespace mlir::med

using namespace mlir;
using namespace mlir::med;

namespace {

// The function argument a kernel buffer comes from, if `v` is one.
BlockArgument kernelBuffer(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || !isa<func::FuncOp>(arg.getOwner()->getParentOp()))
    return {};
  return arg;
}

// The resample's output buffer when the op qualifies (Passes.td), else null.
BlockArgument qualifyingOutput(ResampleOp op) {
  if (op.getMode() != "bilinear" ||
      (op.getPaddingMode() != "zeros" && op.getPaddingMode() != "border") || op.getBounded() ||
      op.getDisplacement())
    return {};
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto outType = cast<RankedTensorType>(op.getResult().getType());
  if (!inType.getElementType().isF32() || !outType.getElementType().isF32())
    return {};
  auto source = op.getInput().getDefiningOp<bufferization::ToTensorOp>();
  if (!source || !kernelBuffer(source.getMemref()) || !op.getResult().hasOneUse())
    return {};
  auto sink = dyn_cast<bufferization::MaterializeInDestinationOp>(*op.getResult().user_begin());
  if (!sink)
    return {};
  auto dest = kernelBuffer(sink.getDest());
  auto destType = dest ? dyn_cast<MemRefType>(dest.getType()) : MemRefType();
  if (!destType || destType.getRank() != 2)
    return {};
  return dest;
}

// The address of a buffer's first element (aligned pointer + offset * 4) and its strides.
std::pair<Value, ValueRange> addressOf(OpBuilder &b, Location l, Value buffer) {
  auto meta = b.create<memref::ExtractStridedMetadataOp>(l, buffer);
  Value base = b.create<memref::ExtractAlignedPointerAsIndexOp>(l, buffer);
  Value bytes = b.create<arith::MulIOp>(l, meta.getOffset(),
                                        b.create<arith::ConstantIndexOp>(l, sizeof(float)));
  return {b.create<arith::AddIOp>(l, base, bytes), meta.getStrides()};
}

void callResample(ResampleOp op, BlockArgument dest, func::FuncOp callee) {
  OpBuilder b(op);
  Location l = op.getLoc();
  auto idx = [&](int64_t v) { return b.create<arith::ConstantIndexOp>(l, v).getResult(); };
  auto source = op.getInput().getDefiningOp<bufferization::ToTensorOp>();
  auto [in, inStrides] = addressOf(b, l, source.getMemref());
  (void)inStrides;
  auto [out, outStrides] = addressOf(b, l, dest);
  // The op's f64 arguments in a stack array whose address is passed.
  const auto count = static_cast<int64_t>(op.getArgs().size());
  auto args = b.create<memref::AllocaOp>(l, MemRefType::get({count}, b.getF64Type()));
  for (int64_t i = 0; i < count; ++i)
    b.create<memref::StoreOp>(l, op.getArgs()[i], args, ValueRange{idx(i)});
  Value argsAt = b.create<memref::ExtractAlignedPointerAsIndexOp>(l, args);
  const int64_t padding = op.getPaddingMode() == "border" ? 1 : 0;
  b.create<func::CallOp>(l, callee,
                         ValueRange{in, out, outStrides[0], op.getWindowOffset(),
                                    op.getWindowRows(), idx(op.getSpatialRank()), idx(padding),
                                    argsAt});
}

struct MedUseMicrokernelsPass : mlir::med::impl::MedUseMicrokernelsBase<MedUseMicrokernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<ResampleOp, BlockArgument>> found;
    module.walk([&](ResampleOp op) {
      if (BlockArgument dest = qualifyingOutput(op))
        found.emplace_back(op, dest);
    });
    if (found.empty())
      return;
    auto callee = module.lookupSymbol<func::FuncOp>(kResampleLinearF32);
    if (!callee) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      SmallVector<Type> params(8, b.getIndexType());
      callee = b.create<func::FuncOp>(module.getLoc(), kResampleLinearF32,
                                      b.getFunctionType(params, {}));
      callee.setPrivate();
    }
    for (auto [op, dest] : found) {
      auto sink = cast<bufferization::MaterializeInDestinationOp>(*op.getResult().user_begin());
      callResample(op, dest, callee);
      sink.erase();
      auto source = op.getInput().getDefiningOp<bufferization::ToTensorOp>();
      op.erase();
      if (source->use_empty())
        source.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> mlir::med::createMedUseMicrokernelsPass() {
  return std::make_unique<MedUseMicrokernelsPass>();
}
