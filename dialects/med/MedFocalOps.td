//===- MedFocalOps.td - med focal loss kernels -----------------------------------------------===//
//
// FocalLoss's voxel work, split like the Dice kernels (MedOps.td): a reduction kernel giving the
// per-(item, class) sums of the focal term, a formula over the sums on the host (class weights,
// the softmax form's alpha, the reduction), and a gradient kernel whose per-(item, class)
// coefficients are the loss's derivatives with respect to those sums. The focal parameters are
// f64 operands, so one compiled kernel serves every gamma and alpha. Reduction "none" returns the
// loss map itself: the `_terms` ops write it, and their gradients take its incoming gradient.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_FOCAL_OPS_TD
#define MED_FOCAL_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Med_FocalSumsOp : Med_Op<"focal_sums", [Pure]> {
  let summary = "The voxel sum of a sigmoid focal loss over one (item, class): its forward kernel";
  let description = [{
    Per element `x` of the flat `input` (logits) and `t` of `target` at the same place, MONAI's
    sigmoid focal term: `bce = x - x t - logsigmoid(x)`, `f = exp(gamma * logsigmoid(-x (2 t -
    1)))` and `term = f * bce`, times `t alpha + (1 - t) (1 - alpha)` when `alpha` is given, with
    `logsigmoid(v) = min(v, 0) - log1p(exp(-|v|))`. `gamma`, `alpha` and `1 - alpha` are rounded
    to the input type, where all the arithmetic runs (FocalLoss computes in f32, as MONAI). The
    result is `[sum term]`: terms summed per lane over groups of 64 x 16 consecutive elements in
    the input type, the group partials in f64.

    ```mlir
    %s = med.focal_sums %x, %t, %gamma, %alpha : tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   F64:$gamma, Optional<F64>:$alpha);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $gamma (`,` $alpha^)? attr-dict `:` type($input) "
                       "`,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_FocalGradOp : Med_Op<"focal_grad", [Pure]> {
  let summary = "The gradient of a sigmoid focal loss with respect to its logits: its backward kernel";
  let description = [{
    With the terms of `med.focal_sums`, `z = x (1 - 2 t)` and `s(v) = 1 / (1 + exp(-v))`:
    `g = coefficient * a * (f gamma s(-z) (1 - 2 t) bce + f (s(x) - t))` per element, where
    `a` is the alpha factor (1 without `alpha`) and `coefficient` the loss's derivative with
    respect to that (item, class)'s sum, rounded to the input type like `gamma` and `alpha`.

    ```mlir
    %g = med.focal_grad %x, %t, %k, %gamma : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   F64:$coefficient, F64:$gamma, Optional<F64>:$alpha);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $coefficient `,` $gamma (`,` $alpha^)? attr-dict "
                       "`:` type($input) `,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_SoftmaxFocalSumsOp : Med_Op<"softmax_focal_sums", [Pure]> {
  let summary = "The voxel sums of a softmax focal loss over one item's classes: its forward kernel";
  let description = [{
    `input` holds one item's logits, `C` channels (a static size, C >= 1) by voxels: the classes
    `first` .. `first + C - 1`. Per voxel `l_c = x_c - m - log(sum_k exp(x_k - m))` (the log
    softmax over the C rows, `m` the largest logit), `p_c = exp(l_c)` and the focal term is
    `-(1 - p_c)^gamma * l_c * t_c`. `target` is either per-class targets of the input's type
    (then `first` must be 0: the caller passes the rows it means), or a rank-1 label map whose
    value `v` stands for the one-hot vector of class `trunc(v)` (MONAI's one_hot; a value outside
    (-1, first + C), or NaN, is no class), so row `c` reads `trunc(v) == first + c`. The result
    holds the C class sums of the term, summed per lane over groups of 64 x 16 voxels in the
    input type and the group partials in f64; with a label map one more value follows, the
    number of voxels whose label names one of the classes 0 .. first + C - 1, which equals the
    voxel count exactly when every label is valid.

    ```mlir
    %s = med.softmax_focal_sums %x, %labels, %gamma {first = 1} : tensor<2x?xf32>, tensor<?xf32> -> tensor<3xf64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   F64:$gamma, DefaultValuedAttr<I64Attr, "0">:$first);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $gamma attr-dict `:` type($input) `,` "
                       "type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_SoftmaxFocalGradOp : Med_Op<"softmax_focal_grad", [Pure]> {
  let summary = "The gradient of a softmax focal loss with respect to its logits: its backward kernel";
  let description = [{
    With `l`, `p` and `t` as in `med.softmax_focal_sums`, `q_c = 1 - p_c` and `coefficients` the
    loss's derivatives with respect to the C class sums (rounded to the input type):
    `u_c = coefficient_c * t_c * (gamma q_c^(gamma - 1) p_c l_c - q_c^gamma)` (the first product
    is 0 when gamma is 0) and the result is `u_c - p_c sum_k u_k` per voxel and channel: the
    derivative of the term with respect to `l`, through the log softmax.

    ```mlir
    %g = med.softmax_focal_grad %x, %labels, %k, %gamma : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   TensorOf<[F64]>:$coefficients, F64:$gamma,
                   DefaultValuedAttr<I64Attr, "0">:$first);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $coefficients `,` $gamma attr-dict `:` "
                       "type($input) `,` type($target) `,` type($coefficients) `->` type($result)";
  let hasVerifier = 1;
}

def Med_FocalTermsOp : Med_Op<"focal_terms", [Pure]> {
  let summary = "The sigmoid focal term of every element, scaled: FocalLoss's forward for reduction none";
  let description = [{
    Per element, the term of `med.focal_sums` (with the alpha factor when `alpha` is given)
    times `coefficient` (the class weight of the slab the kernel reads), all in the input type:
    the loss map MONAI returns with reduction "none".

    ```mlir
    %m = med.focal_terms %x, %t, %k, %gamma : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   F64:$coefficient, F64:$gamma, Optional<F64>:$alpha);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $coefficient `,` $gamma (`,` $alpha^)? attr-dict "
                       "`:` type($input) `,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_FocalTermsGradOp : Med_Op<"focal_terms_grad", [Pure]> {
  let summary = "The gradient of a sigmoid focal loss map: FocalLoss's backward for reduction none";
  let description = [{
    `med.focal_grad` with the coefficient of each element `coefficient * upstream` (the
    incoming gradient of the map at that element, times the slab's class weight).

    ```mlir
    %g = med.focal_terms_grad %x, %t, %up, %k, %gamma : tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   RankedTensorOf<[F32, F64]>:$upstream, F64:$coefficient, F64:$gamma,
                   Optional<F64>:$alpha);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $upstream `,` $coefficient `,` $gamma (`,` $alpha^)? "
                       "attr-dict `:` type($input) `,` type($target) `,` type($upstream) `->` "
                       "type($result)";
  let hasVerifier = 1;
}

def Med_SoftmaxFocalTermsOp : Med_Op<"softmax_focal_terms", [Pure]> {
  let summary = "The softmax focal term of every voxel and class, scaled: the map for reduction none";
  let description = [{
    Per voxel and channel `c`, the term of `med.softmax_focal_sums` times `coefficients[c]` (the
    class's weight and alpha factor), in the input type: a (C x voxels) block like the input.

    ```mlir
    %m = med.softmax_focal_terms %x, %labels, %k, %gamma {first = 1} : tensor<2x?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<2x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   TensorOf<[F64]>:$coefficients, F64:$gamma,
                   DefaultValuedAttr<I64Attr, "0">:$first);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $coefficients `,` $gamma attr-dict `:` "
                       "type($input) `,` type($target) `,` type($coefficients) `->` type($result)";
  let hasVerifier = 1;
}

def Med_SoftmaxFocalTermsGradOp : Med_Op<"softmax_focal_terms_grad", [Pure]> {
  let summary = "The gradient of a softmax focal loss map: the backward for reduction none";
  let description = [{
    `med.softmax_focal_grad` with the coefficient of each voxel and class
    `coefficients[c] * upstream[c][v]` (the incoming gradient of the map, a block like the input).

    ```mlir
    %g = med.softmax_focal_terms_grad %x, %labels, %up, %k, %gamma : tensor<3x?xf32>, tensor<?xf32>, tensor<3x?xf32>, tensor<3xf64> -> tensor<3x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   RankedTensorOf<[F32, F64]>:$upstream, TensorOf<[F64]>:$coefficients,
                   F64:$gamma, DefaultValuedAttr<I64Attr, "0">:$first);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $upstream `,` $coefficients `,` $gamma attr-dict "
                       "`:` type($input) `,` type($target) `,` type($upstream) `,` "
                       "type($coefficients) `->` type($result)";
  let hasVerifier = 1;
}

#endif // MED_FOCAL_OPS_TD
