//===- MedParzenOps.td - med Parzen-window kernels ---------------------------------------------===//
//
// GlobalMutualInformationLoss's Parzen windows. Gaussian: the weights of a block of voxels on
// B bins, from each voxel's sum of exponentials (the joint histogram is then one small matrix
// product per block, on the host), and the gradient of a joint-histogram loss by the first
// image's voxels; the bin centres and the Gaussian's factor are operands, so one compiled kernel
// per dtype and bin count serves every sigma_ratio. B-spline: the same three kernels for MONAI's
// cubic (prediction) and box (target) windows, the image's bin size and minimum as operands.
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

def Med_BsplineSumsOp : Med_Op<"bspline_sums", [Pure]> {
  let summary = "Each voxel's sum of its B-spline Parzen weights over B bins";
  let description = [{
    GlobalMutualInformationLoss's b-spline windows (MONAI's): a voxel x of `input` (rank 1) is
    taken to bin coordinates `t = clamp(x / s - m, 2, B - 3)` with `scale` = (s, m), the image's
    bin size and normalised minimum, and weighs bin i (0 <= i < B) by the B-spline of `order` 3
    (cubic) or 0 (a box, 1/2 at a tie) of `a = |i - t|`. The result is `sum_i w_i`, in the
    input type: the denominator of `med.bspline_window`.

    ```mlir
    %s = med.bspline_sums %x, %scale {bins = 16 : i64, order = 3 : i64} : tensor<?xf32>, tensor<2xf64> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F64]>:$scale,
                   I64Attr:$bins, I64Attr:$order);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale) `->` "
                       "type($result)";
  let hasVerifier = 1;
}

def Med_BsplineWindowOp : Med_Op<"bspline_window", [Pure]> {
  let summary = "The normalised B-spline Parzen weights of a block of voxels on B bins";
  let description = [{
    For each bin i of the B rows of the result and voxel v of `input` (rank 1): the weight of
    `med.bspline_sums` over the voxel's `sums`, in the input type, as B rows of the block.

    ```mlir
    %w = med.bspline_window %x, %s, %scale {order = 3 : i64} : tensor<?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<16x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$sums,
                   RankedTensorOf<[F64]>:$scale, I64Attr:$order);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $sums `,` $scale attr-dict `:` type($input) `,` type($sums) "
                       "`,` type($scale) `->` type($result)";
  let hasVerifier = 1;
}

def Med_BsplineWindowGradOp : Med_Op<"bspline_window_grad", [Pure]> {
  let summary = "The gradient by the first image's voxels of a loss of the joint b-spline histogram";
  let description = [{
    With a the cubic weights of `input` (scale `scale`) and b the box weights of `other` (scale
    `other_scale`) at a voxel, as `med.bspline_window` forms them, and `joint` (B x B entries,
    row-major) the loss's derivatives by the joint histogram's entries over the voxel count:
    `d_i = sum_j joint_ij b_j`; with e_i the unnormalised cubic weights, S their sum and e'_i
    their derivatives by t (`a`'s derivative taken as sign(t - i), 0 at a tie), the result is
    `((sum_i d_i e'_i) - (sum_i d_i e_i)(sum_k e'_k) / S) / (S s)`, times 1 where the unclamped
    t lies in [2, B - 3] and 0 elsewhere (the clamp's derivative, as ATen's). The derivative by
    x with the scale held; the scale's own share (through the image's extrema) is the caller's.
    In the input type.

    ```mlir
    %g = med.bspline_window_grad %x, %y, %sx, %sy, %joint : tensor<?xf32>, tensor<?xf32>, tensor<2xf64>, tensor<2xf64>, tensor<256xf64> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$other,
                   RankedTensorOf<[F64]>:$scale, RankedTensorOf<[F64]>:$other_scale,
                   RankedTensorOf<[F64]>:$joint);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $other `,` $scale `,` $other_scale `,` $joint attr-dict `:` "
                       "type($input) `,` type($other) `,` type($scale) `,` type($other_scale) "
                       "`,` type($joint) `->` type($result)";
  let hasVerifier = 1;
}

#endif // MED_PARZEN_OPS_TD
