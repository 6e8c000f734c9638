//===- MedFilterOps.td - med window filters -----------------------------------------------------===//
//
// Separable filters as one pass per spatial axis (MONAI's GaussianSmooth and
// RandGaussianSmooth). A pass reads each output voxel's neighbours along its axis, so it gathers
// as med.resample does: it reads the whole image and yields a window of output rows, and a kernel
// holds one of them.
//
//===------------------------------------------------------------------------------------------===//

#ifndef MED_FILTER_OPS_TD
#define MED_FILTER_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Med_FilterAxisOp : Med_Op<"filter_axis", [Pure, AttrSizedOperandSegments]> {
  let summary = "Correlate a channel-first image with a 1-D kernel along one axis, zero padding";
  let description = [{
    `input` is a channel-first image of `spatial_rank` (2 or 3) spatial axes, flattened in C
    order; the result has the same shape, viewed as rows of its innermost axis, and holds
    `window_rows` of them from flat index `window_offset` (a multiple of the row length), as
    `med.resample`'s result does. `args` holds the spatial shape (`spatial_rank` values) and
    then the T taps of the kernel (T odd, R = (T - 1) / 2):

      out[c, o] = sum_{t = 0}^{T-1} w_t * in[c, o + (t - R) e_axis]

    summed in t order, where neighbours outside the image contribute nothing (zero padding, as
    `torch.nn.functional.conv1d` with padding R) and neither do taps whose weight is exactly 0
    (their product is dropped, so an Inf neighbour gives no 0 * Inf NaN: a kernel of T taps can
    carry a shorter one, zero-padded, and one compiled kernel serves every sigma of a random
    draw). `axis` (0-based, spatial) and
    `spatial_rank` are integers held as f64 attributes, as traced chains write attributes. The
    sum runs in f32 (f64 when the result is f64); the result is a float. There is no
    `displacement` (the operand exists so that traced chains build every gathering op alike).

    ```mlir
    %r = med.filter_axis %x [%off, %rows] (%d0, %d1, %d2, %w0, %w1, %w2, %w3, %w4)
        {axis = 1.0 : f64, spatial_rank = 3.0 : f64} : tensor<?xi16> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, Index:$window_offset, Index:$window_rows,
                   Variadic<F64>:$args, Optional<RankedTensorOf<[F32]>>:$displacement,
                   F64Attr:$axis, F64Attr:$spatial_rank);
  let results = (outs Med_ImageTensor:$result);
  let assemblyFormat = [{
    $input `[` $window_offset `,` $window_rows `]` `(` $args `)`
    (`displaced` `by` $displacement^ `:` type($displacement))?
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getRank() { return static_cast<int64_t>(getSpatialRank().convertToDouble()); }
    int64_t getAxisIndex() { return static_cast<int64_t>(getAxis().convertToDouble()); }
    /// The spatial shape and the taps among `args`.
    mlir::ValueRange getShape() { return getArgs().take_front(getRank()); }
    mlir::ValueRange getTaps() { return getArgs().drop_front(getRank()); }
  }];
}

#endif // MED_FILTER_OPS_TD
