//===- MedSsimOps.td - med SSIM window kernels -------------------------------------------------===//
//
// SSIM's Gaussian (or uniform) window is a product of 1-D windows, so its five filtered fields
// (the means of x, y, x x, y y and x y) are formed one axis at a time: one pass per spatial axis,
// each a valid (unpadded) 1-D filter of every field, the first forming the products, the last
// ending with SSIM's formula. The weights are f64 operands, so one compiled kernel per dtype,
// rank, axis and window size serves every sigma.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_SSIM_OPS_TD
#define MED_SSIM_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Med_SsimPassOp : Med_Op<"ssim_pass", [Pure, AttrSizedOperandSegments]> {
  let summary = "One axis of SSIM's separable window over the five fields of one channel";
  let description = [{
    `inputs` are flat channels, row-major over n spatial axes (n = 2 or 3) of sizes S_0 ..
    S_(n-1): x and y when `first`, else the five fields m_x, m_y, m_xx, m_yy, m_xy filtered along
    the axes before `axis`. `args` are those sizes, the K = `kernel_size` weights w, and with
    `last` the constants c1 and c2. Along `axis` the output has S_axis - K + 1 voxels (a valid
    window), elsewhere the input's; the results are the window of its rows (whole rows) from
    `window_offset`: at o, f'(o) = sum_j w_j f(o + j e_axis) for each field f, where with
    `first` the fields are x, y, x x, y y, x y (the products formed first, as MONAI does).
    With `last` the two results are SSIM's maps instead, in the input type:
    cs = (2 (m_xy - m_x m_y) + c2) / ((m_xx - m_x m_x) + (m_yy - m_y m_y) + c2) and
    ssim = ((2 m_x m_y + c1) / (m_x m_x + m_y m_y + c1)) cs; otherwise five results.
    With `last` and `coefficients` a sixth input G (the incoming gradient of the ssim map, on
    the output grid) and no c1, c2 in `args` beyond the usual: the three results are SSIM's
    derivatives times G by m_x, m_xx and m_xy, what `med.ssim_adjoint` takes back to the image.

    ```mlir
    %f:5 = med.ssim_pass %x, %y [%off, %rows] (%s0, %s1, %w0, %w1, %w2) {axis = 0, kernel_size = 3, first} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Variadic<RankedTensorOf<[F32, F64]>>:$inputs, Index:$window_offset,
                   Index:$window_rows, Variadic<F64>:$args, I64Attr:$axis, I64Attr:$kernel_size,
                   UnitAttr:$first, UnitAttr:$last, UnitAttr:$coefficients);
  let results = (outs Variadic<RankedTensorOf<[F32, F64]>>:$results);
  let assemblyFormat = "$inputs `[` $window_offset `,` $window_rows `]` `(` $args `)` attr-dict "
                       "`:` type($inputs) `->` type($results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The spatial rank n: args are n sizes, K weights and, with `last`, c1 and c2.
    int64_t getSpatialRank() {
      return int64_t(getArgs().size()) - getKernelSize() - (getLast() ? 2 : 0);
    }
    /// How many fields the pass reads: x, y first; five after; and G with `coefficients`.
    size_t getFieldCount() { return getFirst() ? 2 : getCoefficients() ? 6 : 5; }
    /// How many results it yields: five fields, or the two maps, or three derivatives.
    size_t getResultCount() { return !getLast() ? 5 : getCoefficients() ? 3 : 2; }
  }];
}

def Med_SsimAdjointOp : Med_Op<"ssim_adjoint", [Pure, AttrSizedOperandSegments]> {
  let summary = "One axis of the adjoint of SSIM's window, back towards the image";
  let description = [{
    `inputs` are three flat fields (the derivatives by m_x, m_xx and m_xy of
    `med.ssim_pass` with `coefficients`, taken back along the axes before this one), each
    zero-padded by K - 1 voxels on both ends of `axis`, over n axes of sizes S_0 .. S_(n-1)
    (the padded sizes); with `last` also x and y of the image. `args` are those sizes and the K
    = `kernel_size` weights in reverse order. The output grid is the input's with S_axis - K + 1
    voxels along `axis` (the image's size there), each field f'(o) = sum_j w_j f(o + j e_axis)
    (a valid window over the padding: the adjoint of the forward pass). With `last`, which needs
    `axis` 0 (the other axes already the image's, so x and y share the fields' strides), the
    one result is the gradient by x: a_x + 2 x a_xx + y a_xy; otherwise three results.

    ```mlir
    %g = med.ssim_adjoint %a, %b, %c, %x, %y [%off, %rows] (%s0, %s1, %w1, %w0) {axis = 0, kernel_size = 2, last} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Variadic<RankedTensorOf<[F32, F64]>>:$inputs, Index:$window_offset,
                   Index:$window_rows, Variadic<F64>:$args, I64Attr:$axis, I64Attr:$kernel_size,
                   UnitAttr:$last);
  let results = (outs Variadic<RankedTensorOf<[F32, F64]>>:$results);
  let assemblyFormat = "$inputs `[` $window_offset `,` $window_rows `]` `(` $args `)` attr-dict "
                       "`:` type($inputs) `->` type($results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The spatial rank n: args are n sizes and K weights.
    int64_t getSpatialRank() { return int64_t(getArgs().size()) - getKernelSize(); }
  }];
}

#endif // MED_SSIM_OPS_TD
