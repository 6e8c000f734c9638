//===- MedOps.td - med operations -------------------------------------------------------------===//

#ifndef MED_OPS_TD
#define MED_OPS_TD

include "MedDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// An intensity operation: one tensor in, one tensor of the same shape out, each output element
/// a function of the input element at the same place (and, for reductions, of whole-image
/// statistics computed first).
class Med_IntensityOp<string mnemonic, list<Trait> traits = []>
    : Med_Op<mnemonic, !listconcat(traits, [Pure])> {
  let results = (outs Med_ImageTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True when every output element depends on its input element alone (no reduction), so the
    /// op can be fused into one loop and split across threads.
    bool isElementwise();
  }];
}

def Med_ScaleIntensityRangeOp : Med_IntensityOp<"scale_intensity_range"> {
  let summary = "MONAI ScaleIntensityRange: map [a_min, a_max] linearly onto [b_min, b_max]";
  let description = [{
    `out = (x - a_min) / (a_max - a_min)`, then, when `b_min` and `b_max` are given,
    `out = out * (b_max - b_min) + b_min`, then, when `clip` is set, `out` is clamped to
    `[b_min, b_max]`. When `a_min == a_max` MONAI warns and returns `x - a_min (+ b_min)`; so
    does this op. NaN propagates.

    ```mlir
    %1 = med.scale_intensity_range %0 {a_min = -1000.0, a_max = 1000.0, b_min = 0.0,
                                       b_max = 1.0, clip}
        : tensor<1x128x128x128xi16> -> tensor<1x128x128x128xf32>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, F64Attr:$a_min, F64Attr:$a_max,
                   OptionalAttr<F64Attr>:$b_min, OptionalAttr<F64Attr>:$b_max,
                   UnitAttr:$clip);
}

def Med_ShiftIntensityOp : Med_IntensityOp<"shift_intensity"> {
  let summary = "MONAI ShiftIntensity: add a constant offset";
  let description = [{
    `out = x + offset`.

    ```mlir
    %1 = med.shift_intensity %0 {offset = 10.0} : tensor<64x64xf32> -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, F64Attr:$offset);
}

def Med_ScaleIntensityOp : Med_IntensityOp<"scale_intensity"> {
  let summary = "MONAI ScaleIntensity: rescale to [minv, maxv], or multiply by (1 + factor)";
  let description = [{
    With `minv` and `maxv` (MONAI's default, 0 and 1): the image's minimum and maximum are
    computed first, then `out = (x - min) / (max - min) * (maxv - minv) + minv`; a constant
    image gives `x * minv`, as MONAI's `rescale_array`. With `factor` instead:
    `out = x * (1 + factor)`. Exactly one of the two forms must be given. Only the `factor` form
    is elementwise; the other needs a whole-image reduction first.

    ```mlir
    %1 = med.scale_intensity %0 {minv = 0.0, maxv = 1.0} : tensor<96x96xf32> -> tensor<96x96xf32>
    %2 = med.scale_intensity %0 {factor = 0.5} : tensor<96x96xf32> -> tensor<96x96xf32>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, OptionalAttr<F64Attr>:$minv,
                   OptionalAttr<F64Attr>:$maxv, OptionalAttr<F64Attr>:$factor);
}

def Med_ThresholdIntensityOp : Med_IntensityOp<"threshold_intensity"> {
  let summary = "MONAI ThresholdIntensity: keep values on one side of a threshold";
  let description = [{
    With `above` (MONAI's default): `out = x > threshold ? x : cval`; otherwise
    `out = x < threshold ? x : cval`. A NaN input fails both tests and becomes `cval`, as
    `torch.where` does.

    ```mlir
    %1 = med.threshold_intensity %0 {threshold = 0.2, above, cval = 0.0}
        : tensor<1x64x64x64xf32> -> tensor<1x64x64x64xf32>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, F64Attr:$threshold, UnitAttr:$above,
                   DefaultValuedAttr<F64Attr, "0.0">:$cval);
}

def Med_ClipOp : Med_IntensityOp<"clip"> {
  let summary = "Clamp intensities to [min, max] (torch.clamp); either bound may be absent";
  let description = [{
    `out = min(max(x, min), max)`, NaN propagating as in `torch.clamp`.

    ```mlir
    %1 = med.clip %0 {min = 0.0, max = 1.0} : tensor<128xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, OptionalAttr<F64Attr>:$min,
                   OptionalAttr<F64Attr>:$max);
}

#endif // MED_OPS_TD
