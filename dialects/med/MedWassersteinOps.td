//===- MedWassersteinOps.td - med Wasserstein Dice kernels -----------------------------------===//
//
// GeneralizedWassersteinDiceLoss's voxel work, split like the Dice and focal kernels: a reduction
// kernel giving per class the voxels labelled with it and the sum of their Wasserstein distances,
// the loss over those sums on the host (class weights, the reduction), and a gradient kernel
// whose operand holds the loss's derivatives with respect to those sums, each times its row of
// the distance matrix. The matrix is an f64 operand, so one compiled kernel serves every matrix
// of a class count.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_WASSERSTEIN_OPS_TD
#define MED_WASSERSTEIN_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Med_WassersteinSumsOp : Med_Op<"wasserstein_sums", [Pure]> {
  let summary = "Per class, the labelled voxels and their summed Wasserstein distances: GWDL's forward kernel";
  let description = [{
    `input` holds one item's logits, `C` channels (a static size, C >= 2) by voxels; `target` is a
    rank-1 label map whose value `v` stands for class `trunc(v)` (MONAI's one_hot of a float
    label; a value outside (-1, C), or NaN, is no class). `matrix` holds the C x C class
    distances `M[k][c]` row by row. Per voxel `p_c = e_c / sum_k e_k` with `e_c = exp(x_c - m)`
    (the softmax over the C rows, `m` the largest logit) and, for a voxel of class `k`, the
    Wasserstein distance `w = sum_c M[k][c] p_c`. The result holds `[n_0 .. n_(C-1), s_0 ..
    s_(C-1)]`: the voxels of each class and the sum of their `w`, formed in the input type (the
    matrix rounded to it), summed per lane over groups of 64 x 16 voxels in that type and the
    group partials in f64. The counts add up to the voxel count exactly when every label names
    a class.

    ```mlir
    %s = med.wasserstein_sums %x, %labels, %m : tensor<3x?xf32>, tensor<?xf32>, tensor<9xf64> -> tensor<6xf64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   TensorOf<[F64]>:$matrix);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $matrix attr-dict `:` type($input) `,` "
                       "type($target) `,` type($matrix) `->` type($result)";
  let hasVerifier = 1;
}

def Med_WassersteinGradOp : Med_Op<"wasserstein_grad", [Pure]> {
  let summary = "The gradient of GWDL with respect to its logits: its backward kernel";
  let description = [{
    With `p` and the labels as in `med.wasserstein_sums` and `coefficients` holding the C x C
    values `G[k][c] = (d loss / d s_k) M[k][c]` row by row (rounded to the input type): for a
    voxel of class `k`, `g_c = G[k][c]` and the result is `p_c (g_c - sum_j p_j g_j)` per channel,
    the derivative through the softmax; 0 for a voxel of no class.

    ```mlir
    %g = med.wasserstein_grad %x, %labels, %k : tensor<3x?xf32>, tensor<?xf32>, tensor<9xf64> -> tensor<3x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   TensorOf<[F64]>:$coefficients);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $coefficients attr-dict `:` type($input) `,` "
                       "type($target) `,` type($coefficients) `->` type($result)";
  let hasVerifier = 1;
}

#endif // MED_WASSERSTEIN_OPS_TD
