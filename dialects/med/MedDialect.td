//===- MedDialect.td - the med dialect --------------------------------------------------------===//
//
// `med` expresses MONAI's per-sample work (transforms, later losses and metrics) as operations on
// ranked tensors, so a whole chain can be fused and compiled.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_DIALECT_TD
#define MED_DIALECT_TD

include "mlir/IR/OpBase.td"

def Med_Dialect : Dialect {
  let name = "med";
  let cppNamespace = "::mlir::med";
  let summary = "MONAI's transforms, losses and metrics as fusable tensor operations";
  let description = [{
    Each `med` operation is one MONAI transform (or one step of one) with MONAI's semantics,
    parameters and defaults. Static choices (modes, keys, bounds) are attributes; values that
    change per sample (random draws) will be operands.

    Operations work on ranked tensors whose element type is the storage type of the image
    (`ui8`, `i8`, `ui16`, `i16`, `i32`, `i64`, `f32`, `f64`; signless integers are signed, as in
    torch). An operation computes in `f32`, or in `f64` when its operand or result is `f64`, and
    converts to the result element type at the end, truncating toward zero for integers as
    `Tensor.to(dtype)` does.
  }];
}

/// Element types an image may be stored in.
def Med_ElementType : AnyTypeOf<[UI8, I8, UI16, I16, I32, I64, F32, F64]>;

/// A ranked tensor holding (part of) an image.
def Med_ImageTensor : RankedTensorOf<[UI8, I8, UI16, I16, I32, I64, F32, F64]>;

class Med_Op<string mnemonic, list<Trait> traits = []> : Op<Med_Dialect, mnemonic, traits>;

#endif // MED_DIALECT_TD
