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

#endif // MED_COMPILER_PASSES_TD
