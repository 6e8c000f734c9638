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

// The function argument a kernel buffer comes from, if `v` is one whose innermost stride is 1
// (the microkernels index it as a plain array).
BlockArgument kernelBuffer(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || !isa<func::FuncOp>(arg.getOwner()->getParentOp()))
    return {};
  auto type = dyn_cast<MemRefType>(arg.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!type || failed(getStridesAndOffset(type, strides, offset)) || strides.empty() ||
      strides.back() != 1)
    return {};
  return arg;
}

// The buffer a lone op's result is materialised into, when that is its only use and the buffer
// is a kernel argument of `rank` dimensions.
BlockArgument soleDestination(Value result, int64_t rank) {
  if (!result.hasOneUse())
    return {};
  auto sink = dyn_cast<bufferization::MaterializeInDestinationOp>(*result.user_begin());
  BlockArgument dest = sink ? kernelBuffer(sink.getDest()) : BlockArgument();
  if (!dest || cast<MemRefType>(dest.getType()).getRank() != rank)
    return {};
  return dest;
}

// Whether `input` is a kernel's input buffer read as it is.
bool readsKernelInput(Value input) {
  auto source = input.getDefiningOp<bufferization::ToTensorOp>();
  return source && kernelBuffer(source.getMemref());
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
  if (!readsKernelInput(op.getInput()))
    return {};
  return soleDestination(op.getResult(), 2);
}

// The output buffer of an op on flat float32 buffers (its input operand 0) that reads the
// kernel's input as it is and writes only the kernel's output, else null.
BlockArgument flatF32Output(Operation *op) {
  auto inType = cast<RankedTensorType>(op->getOperand(0).getType());
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  if (inType.getRank() != 1 || !inType.getElementType().isF32() ||
      !outType.getElementType().isF32() || !readsKernelInput(op->getOperand(0)))
    return {};
  return soleDestination(op->getResult(0), 1);
}

// The noise's output buffer when it qualifies: flat float32 (not after a resample).
BlockArgument qualifyingOutput(GaussianNoiseOp op) { return flatF32Output(op); }

// The dropout's output buffer when it qualifies: flat float32, and not a random fill of
// everything outside the boxes (there the generated code draws as fast, voxel by voxel).
BlockArgument qualifyingOutput(CoarseDropoutOp op) {
  if (op.getFillRange() && !op.getDropoutHoles())
    return {};
  return flatF32Output(op);
}

// The op's f64 arguments in a stack array; its address.
Value stackArray(OpBuilder &b, Location l, ValueRange values) {
  const auto count = static_cast<int64_t>(values.size());
  auto array = b.create<memref::AllocaOp>(l, MemRefType::get({count}, b.getF64Type()));
  for (int64_t i = 0; i < count; ++i)
    b.create<memref::StoreOp>(l, values[i], array,
                              ValueRange{b.create<arith::ConstantIndexOp>(l, i)});
  return b.create<memref::ExtractAlignedPointerAsIndexOp>(l, array);
}

// The address of a buffer's first element (aligned pointer + offset * 4) and its strides.
std::pair<Value, ValueRange> addressOf(OpBuilder &b, Location l, Value buffer) {
  auto meta = b.create<memref::ExtractStridedMetadataOp>(l, buffer);
  Value base = b.create<memref::ExtractAlignedPointerAsIndexOp>(l, buffer);
  Value bytes = b.create<arith::MulIOp>(l, meta.getOffset(),
                                        b.create<arith::ConstantIndexOp>(l, sizeof(float)));
  return {b.create<arith::AddIOp>(l, base, bytes), meta.getStrides()};
}

// The callee `name` of `type`, declared in `module` on first use.
func::FuncOp declare(ModuleOp module, StringRef name, FunctionType type) {
  if (auto callee = module.lookupSymbol<func::FuncOp>(name))
    return callee;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto callee = b.create<func::FuncOp>(module.getLoc(), name, type);
  callee.setPrivate();
  return callee;
}

// A flat op's first call arguments: the input and output chunks' addresses and the chunk's
// length.
struct FlatBuffers {
  Value in, out, count;
};
FlatBuffers flatBuffers(OpBuilder &b, Location l, Operation *op, BlockArgument dest) {
  auto source = op->getOperand(0).getDefiningOp<bufferization::ToTensorOp>();
  return {addressOf(b, l, source.getMemref()).first, addressOf(b, l, dest).first,
          b.create<memref::DimOp>(l, source.getMemref(), 0)};
}

void callNoise(GaussianNoiseOp op, BlockArgument dest, func::FuncOp callee) {
  OpBuilder b(op);
  Location l = op.getLoc();
  auto [in, out, count] = flatBuffers(b, l, op, dest);
  b.create<func::CallOp>(l, callee,
                         ValueRange{in, out, count, op.getIndexBase(), op.getApply(), op.getMean(),
                                    op.getStd(), op.getKey0(), op.getKey1()});
}

void callResample(ResampleOp op, BlockArgument dest, func::FuncOp callee) {
  OpBuilder b(op);
  Location l = op.getLoc();
  auto idx = [&](int64_t v) { return b.create<arith::ConstantIndexOp>(l, v).getResult(); };
  auto source = op.getInput().getDefiningOp<bufferization::ToTensorOp>();
  auto [in, inStrides] = addressOf(b, l, source.getMemref());
  (void)inStrides;
  auto [out, outStrides] = addressOf(b, l, dest);
  Value argsAt = stackArray(b, l, op.getArgs());
  const int64_t padding = op.getPaddingMode() == "border" ? 1 : 0;
  b.create<func::CallOp>(l, callee,
                         ValueRange{in, out, outStrides[0], op.getWindowOffset(),
                                    op.getWindowRows(), idx(op.getSpatialRank()), idx(padding),
                                    argsAt});
}

void callDropout(CoarseDropoutOp op, BlockArgument dest, func::FuncOp callee) {
  OpBuilder b(op);
  Location l = op.getLoc();
  auto idx = [&](int64_t v) { return b.create<arith::ConstantIndexOp>(l, v).getResult(); };
  auto [in, out, count] = flatBuffers(b, l, op, dest);
  const int64_t flags = (op.getDropoutHoles() ? 1 : 0) | (op.getFillRange() ? 2 : 0);
  b.create<func::CallOp>(
      l, callee,
      ValueRange{in, out, count, op.getIndexBase(), op.getApply(), op.getLow(), op.getHigh(),
                 op.getKey0(), op.getKey1(), op.getCount(),
                 idx(static_cast<int64_t>(op.getSpatialRank().convertToDouble())),
                 idx(static_cast<int64_t>(op.getArgs().size())), stackArray(b, l, op.getArgs()),
                 idx(flags)});
}

struct MedUseMicrokernelsPass : mlir::med::impl::MedUseMicrokernelsBase<MedUseMicrokernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Schedule::microkernels(false): every op stays in generated code.
    if (auto allowed = module->getAttrOfType<BoolAttr>("med.microkernels");
        allowed && !allowed.getValue())
      return;
    Builder b(module.getContext());
    Type index = b.getIndexType(), f64 = b.getF64Type();
    SmallVector<Operation *> done;
    module.walk([&](ResampleOp op) {
      if (BlockArgument dest = qualifyingOutput(op)) {
        SmallVector<Type> params(8, index);
        callResample(op, dest, declare(module, kResampleLinearF32, b.getFunctionType(params, {})));
        done.push_back(op);
      }
    });
    module.walk([&](GaussianNoiseOp op) {
      if (BlockArgument dest = qualifyingOutput(op)) {
        SmallVector<Type> params{index, index, index, index, f64, f64, f64, f64, f64};
        callNoise(op, dest, declare(module, kGaussianNoiseF32, b.getFunctionType(params, {})));
        done.push_back(op);
      }
    });
    module.walk([&](CoarseDropoutOp op) {
      if (BlockArgument dest = qualifyingOutput(op)) {
        SmallVector<Type> params{index, index, index, index, f64,   f64,   f64,
                                 f64,   f64,   f64,   index, index, index, index};
        callDropout(op, dest, declare(module, kCoarseDropoutF32, b.getFunctionType(params, {})));
        done.push_back(op);
      }
    });
    // The replaced op, its sink and, once unused, its source.
    for (Operation *op : done) {
      cast<bufferization::MaterializeInDestinationOp>(*op->getResult(0).user_begin()).erase();
      auto source = op->getOperand(0).getDefiningOp<bufferization::ToTensorOp>();
      op->erase();
      if (source->use_empty())
        source.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> mlir::med::createMedUseMicrokernelsPass() {
  return std::make_unique<MedUseMicrokernelsPass>();
}
