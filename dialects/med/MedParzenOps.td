//===- MedParzenOps.td - med Parzen-window kernels ---------------------------------------------===//
//
// GlobalMutualInformationLoss's Gaussian Parzen windows: the weights of a block of voxels on B
// bins, from each voxel's sum of exponentials (the joint histogram is then one small matrix
// product per block, on the host), and the gradient of a
// joint-histogram loss by the first image's voxels. The bin centres and the Gaussian's factor
// are operands, so one compiled kernel per dtype and bin count serves every sigma_ratio.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_PARZEN_OPS_TD
#define MED_PARZEN_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Med_ParzenSumsOp : Med_Op<"parzen_sums", [Pure]> {
  let summary = "Each voxel's sum of its Gaussian Parzen exponentials over B bins";
  let description = [{
    For each voxel v of `input` (rank 1): `sum_i e_i` with `e_i = exp(-preterm (x - c_i)^2)`,
    x the voxel clamped to [0, 1] and c_i the B `centres`, in the input type: the denominator
    of `med.parzen_window`, formed by a kernel of its own so that the window's loop does not
    form it again per bin.

    ```mlir
    %s = med.parzen_sums %x, %centres, %preterm : tensor<?xf32>, tensor<23xf64> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F64]>:$centres,
                   F64:$preterm);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $centres `,` $preterm attr-dict `:` type($input) `,` "
                       "type($centres) `->` type($result)";
  let hasVerifier = 1;
}

def Med_ParzenWindowOp : Med_Op<"parzen_window", [Pure]> {
  let summary = "The normalised Gaussian Parzen weights of a block of voxels on B bins";
  let description = [{
    For each bin i of the B = size of `centres` and voxel v of `input` (rank 1), with `sums`
    the voxels' `med.parzen_sums`: `e_i / sums_v`, e_i as there, in the input type (MONAI's
    Gaussian window), as B rows of the block.

    ```mlir
    %w = med.parzen_window %x, %s, %centres, %preterm : tensor<?xf32>, tensor<?xf32>, tensor<23xf64> -> tensor<23x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$sums,
                   RankedTensorOf<[F64]>:$centres, F64:$preterm);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $sums `,` $centres `,` $preterm attr-dict `:` type($input) `,` "
                       "type($sums) `,` type($centres) `->` type($result)";
  let hasVerifier = 1;
}

def Med_ParzenWindowGradOp : Med_Op<"parzen_window_grad", [Pure]> {
  let summary = "The gradient by the first image's voxels of a loss of the joint Parzen histogram";
  let description = [{
    With a and b the Parzen weights of `med.parzen_window` of `input` and `other` at a voxel
    and `joint` (B x B entries, row-major) the loss's derivatives by the joint histogram's
    entries over the voxel count: `d_i = sum_j joint_ij b_j`, then through the normalisation
    and the Gaussian, `q_i = -2 preterm (x - c_i)`:
    `(sum_i d_i a_i q_i - (sum_i d_i a_i)(sum_k a_k q_k))`, times 1 where the unclamped voxel
    lies in [0, 1] and 0 elsewhere (the clamp's derivative, as ATen's). In the input type.

    ```mlir
    %g = med.parzen_window_grad %x, %y, %centres, %joint, %preterm : tensor<?xf32>, tensor<?xf32>, tensor<23xf64>, tensor<529xf64> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$other,
                   RankedTensorOf<[F64]>:$centres, RankedTensorOf<[F64]>:$joint, F64:$preterm);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $other `,` $centres `,` $joint `,` $preterm attr-dict `:` "
                       "type($input) `,` type($other) `,` type($centres) `,` type($joint) `->` "
                       "type($result)";
  let hasVerifier = 1;
}

#endif // MED_PARZEN_OPS_TD
