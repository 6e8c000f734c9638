//===- Passes.td - Medulla compiler passes ----------------------------------------------------===//

#ifndef MED_COMPILER_PASSES_TD
#define MED_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMedToLinalg : Pass<"convert-med-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower med intensity ops to linalg.generic on tensors";
  let description = [{
    Each med op becomes one `linalg.generic` (an elementwise map), preceded by a full reduction
    when the op needs whole-image statistics (`scale_intensity` with `minv`/`maxv`). Element
    conversions follow the dialect's rule: compute in f32 (f64 if an operand or result is f64),
    convert to the result element type at the end.
  }];
  let constructor = "mlir::med::createConvertMedToLinalgPass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::arith::ArithDialect",
                           "mlir::tensor::TensorDialect", "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect"];
}

def MedFusePointwise : Pass<"med-fuse-pointwise", "mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise linalg.generic ops into one loop nest";
  let description = [{
    Folds every elementwise producer into its consumers, so a chain of intensity ops reads its
    input once and writes its output once. A producer feeding a reduction is recomputed inside
    the reduction rather than materialised. An elementwise producer read by a gather
    (`tensor.extract`, as `med.resample` lowers) is evaluated at each read instead, so the
    intensity ops before a resample become its prologue.
  }];
  let constructor = "mlir::med::createMedFusePointwisePass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def MedUseMicrokernels : Pass<"med-use-microkernels", "mlir::ModuleOp"> {
  let summary = "Replace ops alone in their kernel by calls to the runtime's microkernels (CPU)";
  let description = [{
    An op that reads the kernel's input buffer as it is (`bufferization.to_tensor` of a function
    argument) and whose result only goes to the kernel's output buffer
    (`bufferization.materialize_in_destination` into a function argument) becomes a call of a
    microkernel (runtime/include/med/runtime/ukernels.h) on the two buffers' addresses:
    `med.resample` in mode "bilinear" with padding "zeros" or "border", float32 in and out,
    neither bounded nor displaced, calls `med_uk_resample_linear_f32` (its f64 arguments
    through a stack array); `med.gaussian_noise` on flat float32 buffers calls
    `med_uk_gaussian_noise_f32`; `med.coarse_dropout` on flat float32 buffers, unless it fills
    everything outside its boxes with random values, calls `med_uk_coarse_dropout_f32` (its
    f64 arguments through a stack array).
    Nothing fuses with such an op, so the call loses nothing, and the microkernel computes the
    generated code's values bit for bit. A module with `med.microkernels = false` (a schedule
    that asks for generated code only) is left as it is. Part of the CPU pipeline only: fusion
    passes stay target-independent.
  }];
  let constructor = "mlir::med::createMedUseMicrokernelsPass()";
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

#endif // MED_COMPILER_PASSES_TD
