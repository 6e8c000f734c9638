//===- MedDdfOps.td - med displacement-field regulariser kernels ------------------------------===//
//
// BendingEnergyLoss and DiffusionLoss as stencils over one channel of a dense displacement field
// (one vector component of one item): a map kernel giving the energy at every interior voxel
// (the host sums it, or it is reduction "none"'s map) and gradient kernels giving the derivative
// of the summed energy, or of the map weighted voxel by voxel, at every voxel. `order` is the derivative: 1 for DiffusionLoss (first derivatives, interior one voxel in
// from every face), 2 for BendingEnergyLoss (second derivatives, two voxels in). Sizes, ratios and
// scales are f64 operands, so one compiled kernel per dtype, rank and order serves every field.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_DDF_OPS_TD
#define MED_DDF_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Med_DdfEnergyOp : Med_Op<"ddf_energy", [Pure]> {
  let summary = "A displacement-field regulariser's energy per interior voxel of one channel";
  let description = [{
    `input` is one channel of the field, flat, row-major over n spatial axes (n = 1, 2 or 3) of
    sizes S_0 .. S_(n-1). `args` are those sizes, then n ratios r_d, then n scales s_d (all f64
    exact for the sizes). The interior is k <= v_d <= S_d - 1 - k on every axis, k = `order`;
    the result is the window of its rows (a row: the interior voxels along the innermost axis)
    from `window_offset`, `window_rows` of them, each S_(n-1) - 2k long.

    With D_d(q) = ((x[q + e_d] - x[q - e_d]) / 2) r_d, the central difference along axis d
    (ratios and scales rounded to the input type), the energy at v is, in the input type:
    - order 1 (DiffusionLoss): D_0(v)^2 + D_1(v)^2 + ... summed in axis order;
    - order 2 (BendingEnergyLoss): for d1 in axis order, ((D_d1(v + e_d1) - D_d1(v - e_d1)) / 2
      s_d1)^2, then 2 ((D_d1(v + e_d2) - D_d1(v - e_d2)) / 2 s_d2)^2 for each d2 > d1, added in
      that order.
    These are MONAI's formulas with its rounding (r_d = S_d / S_c for component c when
    normalizing, else 1; s_d = S_d when normalizing, else 1).

    ```mlir
    %e = med.ddf_energy %x [%off, %rows] (%s0, %s1, %s2, %r0, %r1, %r2, %k0, %k1, %k2) {order = 2} : tensor<?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, Index:$window_offset,
                   Index:$window_rows, Variadic<F64>:$args, I64Attr:$order);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `[` $window_offset `,` $window_rows `]` `(` $args `)` attr-dict "
                       "`:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The spatial rank n: args are 3 n values.
    int64_t getSpatialRank() { return int64_t(getArgs().size()) / 3; }
  }];
}

def Med_DdfEnergyGradOp : Med_Op<"ddf_energy_grad", [Pure]> {
  let summary = "The gradient of a channel's summed ddf_energy times a coefficient";
  let description = [{
    The derivative of `coefficient` times the sum of `med.ddf_energy` over the whole interior
    with respect to every voxel of the channel. `args` are those of `med.ddf_energy`, then the
    coefficient. `input` holds the channel with P = 2 k (stride_0 + ... + stride_(n-1)) elements
    before and after it (stride_d: the elements between neighbours along axis d), so that every
    read of a border voxel's stencil stays inside the buffer; what they hold does not matter.
    The result is the window of the channel's rows (whole rows of S_(n-1) voxels) from
    `window_offset`.

    Writing the energy as sum over terms t of m_t A_t(v)^2, A_t(v) = c_t sum_j a_j x[v + o_j]
    (m_t 2 for a mixed second derivative, else 1), the gradient at u is coefficient times
    sum_t 2 m_t c_t^2 sum_j a_j A'_t(u - o_j), where A'_t(w) = sum_i a_i x[w + o_i] when w is
    interior and 0 otherwise; formed in the input type.

    ```mlir
    %g = med.ddf_energy_grad %x [%off, %rows] (%s0, %s1, %r0, %r1, %k0, %k1, %c) {order = 1} : tensor<?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, Index:$window_offset,
                   Index:$window_rows, Variadic<F64>:$args, I64Attr:$order);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `[` $window_offset `,` $window_rows `]` `(` $args `)` attr-dict "
                       "`:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The spatial rank n: args are 3 n values and the coefficient.
    int64_t getSpatialRank() { return (int64_t(getArgs().size()) - 1) / 3; }
  }];
}

def Med_DdfEnergyWeightedGradOp : Med_Op<"ddf_energy_weighted_grad", [Pure]> {
  let summary = "The gradient of a channel's ddf_energy map weighted voxel by voxel";
  let description = [{
    The derivative of sum over interior voxels v of g[v] times `med.ddf_energy` at v with
    respect to every voxel of the channel: reduction "none"'s backward, g being the incoming
    gradient of the energy map. `input` and `weights` are laid out alike, the channel with P
    elements before and after it as for `med.ddf_energy_grad`; `weights` holds g at the
    interior voxels and 0 elsewhere on the channel. `args` are those of `med.ddf_energy`.
    In the terms of `med.ddf_energy_grad`, the gradient at u is
    sum_t 2 m_t c_t^2 sum_j a_j g[u - o_j] A'_t(u - o_j), formed in the input type.

    ```mlir
    %g = med.ddf_energy_weighted_grad %x, %w [%off, %rows] (%s0, %s1, %r0, %r1, %k0, %k1) {order = 1} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$weights,
                   Index:$window_offset, Index:$window_rows, Variadic<F64>:$args,
                   I64Attr:$order);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $weights `[` $window_offset `,` $window_rows `]` `(` $args `)` "
                       "attr-dict `:` type($input) `,` type($weights) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The spatial rank n: args are 3 n values.
    int64_t getSpatialRank() { return int64_t(getArgs().size()) / 3; }
  }];
}

#endif // MED_DDF_OPS_TD
