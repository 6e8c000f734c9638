// Passes of the Medulla compiler and the pipelines built from them.
#pragma once

#include <memory>

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
class DialectRegistry;
namespace med {

/// med ops -> linalg.generic on tensors (one generic per op).
std::unique_ptr<Pass> createConvertMedToLinalgPass();
/// Fuses elementwise linalg.generic producers into their consumers.
std::unique_ptr<Pass> createMedFusePointwisePass();
/// Calls the runtime's microkernels for ops alone in their kernel (CPU pipeline only).
std::unique_ptr<Pass> createMedUseMicrokernelsPass();

/// The whole CPU lowering: med -> linalg -> fused loops -> bufferized -> LLVM dialect. The input
/// is a module whose kernels take 1-D memrefs and carry `llvm.emit_c_interface`. Without
/// `microkernels`, no op becomes a call of the runtime's microkernels (med-use-microkernels).
void buildLowerToLLVMPipeline(OpPassManager &pm, bool microkernels = true);

/// Registers the passes above and the `med-lower-to-llvm` pipeline with the global registry
/// (for med-opt).
void registerMedPassesAndPipelines();

/// Every dialect and interface model the compiler uses: med, the upstream dialects it lowers
/// through, their bufferization models and the LLVM IR translations. Nothing else, to keep
/// med-opt and the JIT small.
void registerMedCompilerDialects(DialectRegistry &registry);

#define GEN_PASS_DECL
#include "med/compiler/Passes.h.inc"

} // namespace med
} // namespace mlir
