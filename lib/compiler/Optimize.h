// The LLVM optimisation pipeline the JIT runs on generated kernels (internal to lib/compiler).
#pragma once

#include <functional>

#include "llvm/Support/Error.h"

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace med::compiler {

/// O3 for the host TargetMachine, with glibc's vector math library (libmvec) registered so loops
/// that call log/cos/pow/exp vectorise instead of calling the scalar libm per element. Loads
/// libmvec into the process once, so JIT'ed and disk-cached objects resolve its symbols. Leaves
/// only the packed entry `_mlir__mlir_ciface_med_kernel` external (the kernel and its C wrapper
/// are inlined into it). The TargetMachine must outlive the returned function. `unroll` off
/// skips LLVM's loop unrolling: the statistics kernels lay their accumulators out in explicit
/// lanes already, and unrolling those loops cost a third of their compile time and made the
/// moments and error-sum kernels 3x slower (2M floats: 2.2 -> 0.64 ms, 2.1 -> 0.78 ms).
std::function<llvm::Error(llvm::Module *)> makeKernelOptimizer(llvm::TargetMachine *tm,
                                                               bool unroll = true);

/// Whether libmvec was found and is used (part of the kernel cache key).
bool vectorMathAvailable();

} // namespace med::compiler
