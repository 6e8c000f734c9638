//===- MedHausdorffOps.td - med Hausdorff distance-transform loss kernels --------------------===//
//
// HausdorffDTLoss's voxel work once the distance fields are known (the host computes them with
// the exact Euclidean distance transform of lib/metrics): a reduction kernel giving a slab's sum
// of the weighted squared error, the mean and reduction on the host, and a gradient kernel
// whose coefficient is the loss's derivative with respect to that sum. `alpha` is an f64
// operand, so one compiled kernel per dtype serves every exponent.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_HAUSDORFF_OPS_TD
#define MED_HAUSDORFF_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Med_HausdorffDTSumsOp : Med_Op<"hausdorff_dt_sums", [Pure]> {
  let summary = "The summed distance-weighted squared error of one slab: HausdorffDTLoss's forward";
  let description = [{
    Per element of the flat `input`, `target` and the two distance fields `input_field` and
    `target_field` at the same place, MONAI's term `(x - t)^2 (f_x^alpha + f_t^alpha)`, with
    `f^alpha` formed as `exp(alpha log f)` (fields are >= 0; 1 whatever f when alpha is 0, as
    pow), all in the input type. The result is `[sum term]`: terms summed per lane over groups
    of 64 x 16 elements in the input type, the group partials in f64.

    ```mlir
    %s = med.hausdorff_dt_sums %x, %t, %fx, %ft, %alpha : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   RankedTensorOf<[F32, F64]>:$input_field,
                   RankedTensorOf<[F32, F64]>:$target_field, F64:$alpha);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $input_field `,` $target_field `,` $alpha attr-dict "
                       "`:` type($input) `,` type($target) `,` type($input_field) `,` "
                       "type($target_field) `->` type($result)";
  let hasVerifier = 1;
}

def Med_HausdorffDTGradOp : Med_Op<"hausdorff_dt_grad", [Pure]> {
  let summary = "The gradient of HausdorffDTLoss with respect to its input: its backward kernel";
  let description = [{
    With the weight `w = f_x^alpha + f_t^alpha` of `med.hausdorff_dt_sums` (the fields carry no
    gradient, as in MONAI): `coefficient * 2 (x - t) w` per element, `coefficient` (the loss's
    derivative with respect to the slab's sum) rounded to the input type.

    ```mlir
    %g = med.hausdorff_dt_grad %x, %t, %fx, %ft, %k, %alpha : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   RankedTensorOf<[F32, F64]>:$input_field,
                   RankedTensorOf<[F32, F64]>:$target_field, F64:$coefficient, F64:$alpha);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $input_field `,` $target_field `,` $coefficient `,` "
                       "$alpha attr-dict `:` type($input) `,` type($target) `,` "
                       "type($input_field) `,` type($target_field) `->` type($result)";
  let hasVerifier = 1;
}

#endif // MED_HAUSDORFF_OPS_TD
