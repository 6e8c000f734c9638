//===- MedLnccOps.td - med local normalised cross-correlation kernels --------------------------===//
//
// LocalNormalizedCrossCorrelationLoss as stencils over one channel of the prediction and the
// target: the window sums of p, t, p^2, t^2 and p t are formed directly over the K^n window (no
// separable passes, so nothing is written between them), then MONAI's per-voxel formula. Three
// kernels: the map of the correlation, the per-voxel coefficients of its gradient with respect to
// the window sums, and the gradient itself (the window's adjoint). The window's weights, sizes and
// smoothing terms are f64 operands, so one compiled kernel per dtype, rank and window size serves
// every kernel type.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_LNCC_OPS_TD
#define MED_LNCC_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Med_LnccOp<string mnemonic> : Med_Op<mnemonic, [Pure, AttrSizedOperandSegments]> {
  let assemblyFormat = "$inputs `[` $window_offset `,` $window_rows `]` `(` $args `)` attr-dict "
                       "`:` type($inputs) `->` type(results)";
  let hasVerifier = 1;
}

def Med_LnccMapOp : Med_LnccOp<"lncc_map"> {
  let summary = "The local normalised cross-correlation of one channel, a window of its rows";
  let description = [{
    `inputs` are one channel of the prediction p and of the target t, flat, row-major over n
    spatial axes (n = 1, 2 or 3) of sizes S_0 .. S_(n-1), each with P = h (stride_0 + ... +
    stride_(n-1)) elements before and after it (h = `kernel_size` / 2; what they hold does not
    matter). `args` are the n sizes, the K = `kernel_size` weights of the 1-D window w, its
    volume (sum of the n-fold product), smooth_nr and smooth_dr. The result is the window of the
    channel's rows (whole rows of S_(n-1) voxels) from `window_offset`.

    At voxel v, with S_x = sum over offsets o in [-h, h]^n of w(o_0) .. w(o_(n-1)) x[v + o]
    (voxels outside the image count 0, MONAI's zero padding): cross = S_pt - (S_p / vol) S_t,
    var_t = max(S_tt - (S_t / vol) S_t, dr), var_p likewise, and the result is (cross^2 + nr) /
    (var_t var_p), all in the input type.

    ```mlir
    %m = med.lncc_map %p, %t [%off, %rows] (%s0, %s1, %w0, %w1, %w2, %vol, %nr, %dr) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Variadic<RankedTensorOf<[F32, F64]>>:$inputs, Index:$window_offset,
                   Index:$window_rows, Variadic<F64>:$args, I64Attr:$kernel_size);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let extraClassDeclaration = [{
    /// The spatial rank n: args are n sizes, K weights and 3 scalars.
    int64_t getSpatialRank() { return int64_t(getArgs().size()) - getKernelSize() - 3; }
  }];
}

def Med_LnccCoefficientsOp : Med_LnccOp<"lncc_coefficients"> {
  let summary = "The derivatives of coefficient times the correlation by the window sums";
  let description = [{
    With the operands of `med.lncc_map` and one more arg, the coefficient g (the loss's
    derivative with respect to each voxel's correlation): three windows of rows, the
    derivatives of g ncc(v) with respect to S_p, S_pp and S_pt at v:
    a_pt = g 2 cross / D, a_pp = -g ncc m / var_p, a_p = -g 2 cross S_t / (vol D) - 2 a_pp S_p /
    vol, where D = var_t var_p and m = 1 when the variance exceeds dr, 1/2 when it equals it
    (ATen's maximum splits a tie), 0 otherwise; in the input type. With a third input, the
    incoming gradient of reduction "none"'s map laid out like p, g is its value at v and the
    coefficient arg is absent.

    ```mlir
    %a:3 = med.lncc_coefficients %p, %t [%off, %rows] (%s0, %w0, %w1, %w2, %vol, %nr, %dr, %g) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
    %b:3 = med.lncc_coefficients %p, %t, %gmap [%off, %rows] (%s0, %w0, %w1, %w2, %vol, %nr, %dr) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Variadic<RankedTensorOf<[F32, F64]>>:$inputs, Index:$window_offset,
                   Index:$window_rows, Variadic<F64>:$args, I64Attr:$kernel_size);
  let results = (outs RankedTensorOf<[F32, F64]>:$a_p, RankedTensorOf<[F32, F64]>:$a_pp,
                 RankedTensorOf<[F32, F64]>:$a_pt);
  let extraClassDeclaration = [{
    /// The spatial rank n: args are n sizes, K weights, 3 scalars and the coefficient (unless
    /// a third input gives g per voxel).
    int64_t getSpatialRank() {
      return int64_t(getArgs().size()) - getKernelSize() - (getInputs().size() == 3 ? 3 : 4);
    }
  }];
}

def Med_LnccGradOp : Med_LnccOp<"lncc_grad"> {
  let summary = "The gradient with respect to the prediction from the three coefficient maps";
  let description = [{
    `inputs` are p, t and the maps a_p, a_pp, a_pt of `med.lncc_coefficients` over the whole
    channel, all five flat with the padding of `med.lncc_map`; `args` the n sizes and the K
    weights. At voxel u, sum over offsets o of w(o) [u - o inside the image] (a_p(u - o) + 2 p[u]
    a_pp(u - o) + t[u] a_pt(u - o)), in the input type, for a window of the channel's rows.

    ```mlir
    %g = med.lncc_grad %p, %t, %ap, %app, %apt [%off, %rows] (%s0, %w0, %w1, %w2) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Variadic<RankedTensorOf<[F32, F64]>>:$inputs, Index:$window_offset,
                   Index:$window_rows, Variadic<F64>:$args, I64Attr:$kernel_size);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let extraClassDeclaration = [{
    /// The spatial rank n: args are n sizes and K weights.
    int64_t getSpatialRank() { return int64_t(getArgs().size()) - getKernelSize(); }
  }];
}

#endif // MED_LNCC_OPS_TD
