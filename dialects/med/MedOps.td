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

def Med_CastOp : Med_IntensityOp<"cast"> {
  let summary = "Convert intensities to the result's element type (torch's Tensor.to)";
  let description = [{
    `out = x` in the result's element type: floating to integer truncates toward zero, as
    `Tensor.to` does; integer to floating and float64 to float32 round to nearest. Compiled
    transforms that compute in floating point and give back the input's integer type (Resize)
    end with it.

    ```mlir
    %1 = med.cast %0 : tensor<64x64xf32> -> tensor<64x64xi16>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input);
}

//===------------------------------------------------------------------------------------------===//
// Operations with runtime operands. Random transforms draw their parameters on the host per call
// (from the counter-based RNG) and pass them as f64 operands, so one compiled kernel serves every
// draw; `apply` (0 or 1) says whether the transform fired (MONAI's `prob`).
//===------------------------------------------------------------------------------------------===//

/// x -> f(x, operands...), elementwise unless noted, result shaped like the input.
class Med_DynamicOp<string mnemonic, dag operands, string format>
    : Med_Op<mnemonic, [Pure]> {
  let arguments = !con((ins Med_ImageTensor:$input), operands);
  let results = (outs Med_ImageTensor:$result);
  let assemblyFormat = format;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isElementwise();
  }];
}

def Med_ShiftByOp : Med_DynamicOp<"shift_by", (ins F64:$apply, F64:$offset),
    "$input `,` $apply `,` $offset attr-dict `:` type($input) `->` type($result)"> {
  let summary = "Add a runtime offset when `apply` is non-zero (RandShiftIntensity)";
  let description = [{
    `out = apply != 0 ? x + offset : x`, converted to the result type.

    ```mlir
    %1 = med.shift_by %0, %apply, %offset : tensor<?xf32> -> tensor<?xf32>
    ```
  }];
}

def Med_ScaleByOp : Med_DynamicOp<"scale_by", (ins F64:$apply, F64:$factor),
    "$input `,` $apply `,` $factor attr-dict `:` type($input) `->` type($result)"> {
  let summary = "Multiply by (1 + factor) when `apply` is non-zero (RandScaleIntensity)";
  let description = [{
    `out = apply != 0 ? x * (1 + factor) : x`, converted to the result type.
  }];
}

def Med_AdjustContrastOp : Med_DynamicOp<"adjust_contrast",
    (ins F64:$apply, F64:$gamma, F64:$min, F64:$max),
    "$input `,` $apply `,` $gamma `,` $min `,` $max attr-dict `:` type($input) `->` type($result)"> {
  let summary = "MONAI AdjustContrast with a runtime gamma (RandAdjustContrast)";
  let description = [{
    With `min`/`max` the image's extrema (computed before the kernel, split at the reduction)
    and `range = max - min`: `out = ((x - min) / (range + 1e-7)) ^ gamma * range + min` when
    `apply` is non-zero, else `x`.
  }];
}

def Med_HistogramShiftOp : Med_DynamicOp<"histogram_shift",
    (ins F64:$apply, F64:$count, Variadic<F64>:$points, F64:$min, F64:$max),
    "$input `,` $apply `,` $count `,` `(` $points `)` `,` $min `,` $max attr-dict `:` type($input) `->` type($result)"> {
  let summary = "MONAI's piecewise-linear intensity map through control points (RandHistogramShift)";
  let description = [{
    With `n = count` control points (3 <= n <= the number of `points`; the rest are unused),
    `min`/`max` the image's extrema (split at the reduction) and `range = max - min`, all in
    the compute type: reference points `xp_i = r_i * range + min` with r_i = i / (n - 1) in f64
    (1 at i = n - 1, as `np.linspace`), floating points `fp_i = points_i * range + min`, and per
    segment k < n - 1 the slope `m_k = (fp_{k+1} - fp_k) / (xp_{k+1} - xp_k)` and intercept
    `b_k = fp_k - m_k * xp_k`. A voxel takes the segment of the last `xp_k < x` with
    1 <= k <= n - 2 (else 0, which is `searchsorted(xp, x) - 1` clamped), `m_k * x + b_k`;
    `fp_0` below `xp_0` and `fp_{n-1}` above `xp_{n-1}`. `x` when `apply` is zero or
    `min == max`.

    ```mlir
    %1 = med.histogram_shift %0, %apply, %n, (%p0, %p1, %p2, %p3), %lo, %hi
        : tensor<?xf32> -> tensor<?xf32>
    ```
  }];
}

def Med_GaussianNoiseOp : Med_DynamicOp<"gaussian_noise",
    (ins F64:$apply, F64:$mean, F64:$std, F64:$key0, F64:$key1, Index:$index_base),
    "$input `,` $apply `,` $mean `,` $std `,` $key0 `,` $key1 `,` $index_base attr-dict `:` type($input) `->` type($result)"> {
  let summary = "Add per-voxel Gaussian noise from the counter-based RNG (RandGaussianNoise)";
  let description = [{
    `out = apply != 0 ? x + (mean + std * n(i)) : x`, where `n(i)` is the standard normal of
    element `i = index_base + position` (the global flat index; `position` is the row-major
    position in the input, a flat image or a window of rows after `med.resample`). One Philox
    block serves four voxels: with g = i / 4 and k = i % 4 the block is
    Philox4x32-10(counter = (g lo, g hi, 0, 0), key = (key0, key1)), each word mapped to
    (u + 0.5) / 2^32; Box-Muller on words (0, 1) for k < 2 and (2, 3) otherwise gives
    `sqrt(-2 log u_a) cos(2 pi u_b - s)`, with s = 0 for even k and pi/2 (the sine) for odd k.
    `key0`/`key1` hold 32-bit unsigned integers. The value of a voxel does not depend on how
    the buffer is split between threads.
  }];
}

def Med_RicianNoiseOp : Med_DynamicOp<"rician_noise",
    (ins F64:$apply, F64:$mean, F64:$std, F64:$scale, F64:$key0, F64:$key1, F64:$key2,
         F64:$key3, Index:$index_base),
    "$input `,` $apply `,` $mean `,` $std `,` $scale `,` $key0 `,` $key1 `,` $key2 `,` $key3 `,` $index_base attr-dict `:` type($input) `->` type($result)"> {
  let summary = "Rician noise from two per-voxel normals of the counter-based RNG (RandRicianNoise)";
  let description = [{
    `out = apply != 0 ? sqrt((x + n1)^2 + n2^2) : x`, with `s = std * scale` (in f64, then the
    compute type), `n1 = mean + s * n(i; key0, key1)` and `n2 = mean + s * n(i; key2, key3)`,
    where `n(i; k)` is the standard normal `med.gaussian_noise` defines for element
    `i = index_base + position` under key `k`. `scale` is the image's standard deviation for
    MONAI's `relative`, else 1.
  }];
}

def Med_CoarseDropoutOp : Med_DynamicOp<"coarse_dropout",
    (ins F64:$apply, F64:$low, F64:$high, F64:$key0, F64:$key1, F64:$count,
         Variadic<F64>:$args, Index:$index_base, F64Attr:$spatial_rank, UnitAttr:$dropout_holes,
         UnitAttr:$fill_range),
    "$input `,` $apply `,` $low `,` $high `,` $key0 `,` $key1 `,` $count `,` `(` $args `)` `,` $index_base attr-dict `:` type($input) `->` type($result)"> {
  let summary = "Fill (or keep only) boxes of a channel-first image (RandCoarseDropout)";
  let description = [{
    For the voxel `o` of element `i = index_base + position` (as `med.bias_field` finds it) in
    an image of `spatial_rank` (2 or 3) spatial axes: `args` holds the spatial shape, then
    boxes of (start, size) per axis, of which the first `count` apply. With `dropout_holes` a
    voxel inside any of them takes the fill value, otherwise the voxels outside all of them do;
    the others keep their stored value. The fill is `low + (high - low) * u(i)` in f64 with
    `fill_range`, `u(i)` the per-voxel uniform of the counter-based RNG under (key0, key1)
    (`rt::voxelUniform`), else `low`, converted to the element type. `x` when `apply` is zero.
  }];
}

def Med_BiasFieldOp : Med_DynamicOp<"bias_field",
    (ins Variadic<F64>:$args, Index:$index_base, F64Attr:$spatial_rank, F64Attr:$degree),
    "$input `,` `(` $args `)` `,` $index_base attr-dict `:` type($input) `->` type($result)"> {
  let summary = "Multiply by exp of a Legendre polynomial of the voxel position (RandBiasField)";
  let description = [{
    `out = x * exp(f(o))` for the voxel `o` of element `i = index_base + position` (as
    `med.gaussian_noise` finds its element) in a channel-first image of `spatial_rank` (2 or 3)
    spatial axes. `args` holds the spatial shape, then one coefficient per term of MONAI's
    order: (i, j) with j <= i <= `degree` in 2-D, (i, j, k) with i + j + k <= `degree` in 3-D.
    `f(o) = sum_terms c * (P_i(x_0) * P_j(x_1)) [* P_k(x_2)]`, summed in term order, with P_n the
    Legendre polynomials (P_{n+1} = ((2n + 1) x P_n - n P_{n-1}) / (n + 1)) at x_d =
    linspace(-1, 1, size_d)[o_d] rounded to f32, as `np.linspace(..., dtype=float32)`. All in
    f64 (x too), rounded once to the result's float type. Zero coefficients make it a copy.
  }];
}

//===------------------------------------------------------------------------------------------===//
// Operations split at a reduction. Transforms that need whole-image (or per-channel) statistics
// (MONAI's NormalizeIntensity, ScaleIntensityRangePercentiles, ...) get them computed on the host
// from the materialised input of the kernel, and pass them here as f64 operands.
//===------------------------------------------------------------------------------------------===//

def Med_NormalizeOp : Med_DynamicOp<"normalize", (ins F64:$sub, F64:$div, UnitAttr:$nonzero),
    "$input `,` $sub `,` $div attr-dict `:` type($input) `->` type($result)"> {
  let summary = "(x - sub) / div in float32 (NormalizeIntensity, StdShiftIntensity)";
  let description = [{
    `x`, `sub` and `div` are rounded to f32 first and the arithmetic is f32, whatever the input
    type, as MONAI converts the image to float32 before normalising; the f32 value is then
    converted to the result type. With `nonzero`, elements whose f32 value is zero are kept
    (as zero). NaN is not zero, so it is normalised.

    ```mlir
    %1 = med.normalize %0, %mean, %std {nonzero} : tensor<?xi16> -> tensor<?xf32>
    ```
  }];
}

def Med_ScaleRangeByOp : Med_DynamicOp<"scale_range_by",
    (ins F64:$a_min, F64:$a_max, OptionalAttr<F64Attr>:$b_min, OptionalAttr<F64Attr>:$b_max,
         UnitAttr:$clip),
    "$input `,` $a_min `,` $a_max attr-dict `:` type($input) `->` type($result)"> {
  let summary = "ScaleIntensityRange with runtime a_min/a_max (ScaleIntensityRangePercentiles)";
  let description = [{
    As `med.scale_intensity_range`, with `a_min` and `a_max` rounded to the compute type and
    `a_max - a_min` computed in it (MONAI's percentiles are tensors of the image's type).
  }];
}

def Med_RescaleByOp : Med_DynamicOp<"rescale_by",
    (ins F64:$min, F64:$max, F64Attr:$minv, F64Attr:$maxv),
    "$input `,` $min `,` $max attr-dict `:` type($input) `->` type($result)"> {
  let summary = "MONAI ScaleIntensity's rescale with runtime extrema (split at the reduction)";
  let description = [{
    `min`/`max` are the image's extrema (from a `med.extrema` kernel), rounded to the compute
    type: `out = (x - min) / (max - min) * (maxv - minv) + minv`, or `x * minv` when
    `min == max` (MONAI's rescale_array). Elementwise, unlike `med.scale_intensity` with
    `minv`/`maxv`, which reduces inside its own kernel.

    ```mlir
    %1 = med.rescale_by %0, %min, %max {minv = 0.0, maxv = 1.0} : tensor<?xi16> -> tensor<?xf32>
    ```
  }];
}

def Med_ClipByOp : Med_DynamicOp<"clip_by", (ins F64:$min, F64:$max),
    "$input `,` $min `,` $max attr-dict `:` type($input) `->` type($result)"> {
  let summary = "Clamp to runtime bounds (ClipIntensityPercentiles); -inf / +inf for none";
  let description = [{
    `out = min(max(x, min), max)` in the compute type, NaN propagating as in `torch.clamp`.
  }];
}

def Med_ExtremaOp : Med_Op<"extrema", [Pure]> {
  let summary = "The minimum and maximum of an image: the result of a reduction kernel";
  let description = [{
    `result = [min, max]` over every element of `input`, compared in the compute type (float32
    for integer images, as the reference's float conversion; f64 for f64 images) and widened to
    f64. NaN propagates as in `torch.min` / `torch.max`; an empty input gives [+inf, -inf].
    Statistics of a transform split at a reduction (RandAdjustContrast's extrema) come from this
    kernel: the pipeline launches it over fixed blocks of the materialised input in parallel and
    combines the blocks' pairs on the host, then passes min and max to the next kernel as
    operands.

    ```mlir
    %s = med.extrema %x : tensor<?xi16> -> tensor<2xf64>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Med_MomentsOp : Med_Op<"moments", [Pure]> {
  let summary = "Count, sum and sum of squares of an image's values: a statistics kernel";
  let description = [{
    With `v` each element of the flat `input` converted to f32 (as the reference converts the
    image before its statistics), `result = [n, sum v, sum v * v]` over every element, or over
    the elements with `v != 0` with `nonzero`; the square and both sums in f64. NormalizeIntensity
    and StdShiftIntensity take their mean (sum / n) and population standard deviation from these
    when a compiled pipeline splits at them. NaN propagates into the sums.

    ```mlir
    %m = med.moments %x {nonzero} : tensor<?xi16> -> tensor<3xf64>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, UnitAttr:$nonzero);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Med_OverlapCountsOp : Med_Op<"overlap_counts", [Pure]> {
  let summary = "Set sizes of two masks and of their overlap: a metric's counting kernel";
  let description = [{
    `result = [|P and Y|, |P|, |Y|, bad]` over the elements of the flat, same-typed `pred` (P)
    and `target` (Y), where an element belongs to its set when it is nonzero (NaN is nonzero, as
    in a C++ or torch comparison). `bad` is 1 when an element of either input is NaN, or, with
    `binary`, is anything but 0 or 1; else 0. The counts are per-lane 32-bit sums widened to f64,
    exact for inputs shorter than 2^31 elements; the launcher passes 65536-element blocks and
    adds the blocks' counts. DiceMetric, MeanIoU, ConfusionMatrixMetric and FBetaScore take their
    per-(item, class) counts from this kernel; the confusion matrix follows from them
    (tp = |P and Y|, fp = |P| - tp, fn = |Y| - tp, tn = n - tp - fp - fn).

    ```mlir
    %c = med.overlap_counts %p, %y {binary} : tensor<?xf32>, tensor<?xf32> -> tensor<4xf64>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$pred, Med_ImageTensor:$target, UnitAttr:$binary);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat =
      "$pred `,` $target attr-dict `:` type($pred) `,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_ErrorSumsOp : Med_Op<"error_sums", [Pure]> {
  let summary = "Sums of squared and absolute differences: a regression metric's kernel";
  let description = [{
    With `d = target - pred` per element (in the input type, as the reference subtracts),
    `result = [sum d * d, sum |d|]`, the squares formed in the input type and both sums in
    f64. MSEMetric, MAEMetric, RMSEMetric and PSNRMetric divide these per-item sums by the item's
    size. NaN propagates into both sums.

    ```mlir
    %s = med.error_sums %p, %y : tensor<?xf32>, tensor<?xf32> -> tensor<2xf64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$pred, RankedTensorOf<[F32, F64]>:$target);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat =
      "$pred `,` $target attr-dict `:` type($pred) `,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

//===------------------------------------------------------------------------------------------===//
// Loss kernels. A loss splits into a reduction kernel (the voxel sums of one (item, class)), a
// small formula over the sums evaluated on the host, and an elementwise gradient kernel whose
// per-(item, class) coefficients are the formula's derivatives with respect to the sums.
//===------------------------------------------------------------------------------------------===//

def Med_DiceSumsOp : Med_Op<"dice_sums", [Pure]> {
  let summary = "The voxel sums of a Dice loss over one (item, class): its forward kernel";
  let description = [{
    With `p = sigmoid ? 1 / (1 + exp(-x)) : x` for each element `x` of the flat `input` and `t`
    the element of `target` at the same place, `result = [sum p * t, sum p, sum t]`, or
    `[sum p * t, sum p * p, sum t * t]` with `squared` (MONAI's squared_pred). Products are
    formed in the input type, as the reference forms them, summed per lane over groups of 64 x 16
    consecutive elements in the input type, and the group partials in f64. DiceLoss's
    intersection, prediction and ground-truth volumes come from this kernel; the loss formula
    (jaccard, smoothing, weights, reduction) runs on the host over the sums.

    ```mlir
    %s = med.dice_sums %x, %t {sigmoid} : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   UnitAttr:$sigmoid, UnitAttr:$squared);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat =
      "$input `,` $target attr-dict `:` type($input) `,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_DiceGradOp : Med_Op<"dice_grad", [Pure]> {
  let summary = "The gradient of a Dice loss with respect to its input: its backward kernel";
  let description = [{
    `g = (d_inter * t + d_pred * (squared ? 2 p : 1)) * (sigmoid ? p (1 - p) : 1)` per element,
    with `p` as in `med.dice_sums` and `d_inter`, `d_pred` the derivatives of the loss with
    respect to that (item, class)'s sums `sum p * t` and `sum p` (or `sum p * p`), rounded to
    the input type; the arithmetic is in the input type.

    ```mlir
    %g = med.dice_grad %x, %t, %di, %dp {sigmoid} : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   F64:$d_inter, F64:$d_pred, UnitAttr:$sigmoid, UnitAttr:$squared);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $d_inter `,` $d_pred attr-dict `:` type($input) "
                       "`,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_SoftmaxDiceSumsOp : Med_Op<"softmax_dice_sums", [Pure]> {
  let summary = "The voxel sums of a softmax Dice loss over one item's classes: its forward kernel";
  let description = [{
    `input` holds one item's logits, `C` channels (a static size) by voxels. Per voxel the
    softmax over the channels is `p_c = exp(x_c - m) / sum_k exp(x_k - m)` with `m` the largest
    logit. `target` is either per-class targets of the input's type, or a rank-1 label map whose
    value `v` stands for the one-hot vector of class `trunc(v)` (MONAI's one_hot of a float label
    map; a value outside (-1, C), or NaN, is no class and adds nothing). The result holds
    `[sum p_c t_c for each c, sum p_c (or p_c p_c with squared) for each c, sum t_c (or t_c t_c)
    for each c]`: 3 C values. Terms are formed in the input type and summed per lane over groups
    of 64 x 16 consecutive voxels in the input type (a loop LLVM vectorises at full width), the
    group partials in f64. With a label map the last
    C values add up to the number of voxels exactly when every label names a class, which is how
    the host checks labels without another pass.

    ```mlir
    %s = med.softmax_dice_sums %x, %labels : tensor<3x?xf32>, tensor<?xf32> -> tensor<9xf64>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   UnitAttr:$squared);
  let results = (outs TensorOf<[F64]>:$result);
  let assemblyFormat =
      "$input `,` $target attr-dict `:` type($input) `,` type($target) `->` type($result)";
  let hasVerifier = 1;
}

def Med_SoftmaxDiceGradOp : Med_Op<"softmax_dice_grad", [Pure]> {
  let summary = "The gradient of a softmax Dice loss with respect to its logits: its backward kernel";
  let description = [{
    With `p` and `t` as in `med.softmax_dice_sums` and `coefficients` = `[d_inter_c for each c,
    d_pred_c for each c]` (the loss's derivatives with respect to the class sums, rounded to the
    input type), `g_c = d_inter_c t_c + d_pred_c (squared ? 2 p_c : 1)` and the result is the
    softmax's backward, `p_c (g_c - sum_k p_k g_k)`, per voxel and channel. The softmax is
    computed again rather than stored, so the forward kernel writes nothing but its sums.

    ```mlir
    %g = med.softmax_dice_grad %x, %labels, %k : tensor<3x?xf32>, tensor<?xf32>, tensor<6xf64> -> tensor<3x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32, F64]>:$input, RankedTensorOf<[F32, F64]>:$target,
                   TensorOf<[F64]>:$coefficients, UnitAttr:$squared);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$input `,` $target `,` $coefficients attr-dict `:` type($input) `,` "
                       "type($target) `,` type($coefficients) `->` type($result)";
  let hasVerifier = 1;
}

// The focal loss kernels, in a file of their own.
include "MedFocalOps.td"

// The Wasserstein Dice kernels, in a file of their own.
include "MedWassersteinOps.td"

// The HausdorffDTLoss kernels, in a file of their own.
include "MedHausdorffOps.td"

// The displacement-field regularisers' kernels, in a file of their own.
include "MedDdfOps.td"

// The local normalised cross-correlation kernels, in a file of their own.
include "MedLnccOps.td"

// SSIM's separable window passes, in a file of their own.
include "MedSsimOps.td"

// GlobalMutualInformationLoss's Parzen-window kernels, in a file of their own.
include "MedParzenOps.td"

//===------------------------------------------------------------------------------------------===//
// Spatial operations. A kernel computes one window of its output, a run of whole rows (a row is
// the innermost spatial axis), so the launcher can split the output between threads while every
// thread reads the whole input, and each row is a simple loop.
//===------------------------------------------------------------------------------------------===//

def Med_ResampleOp : Med_Op<"resample", [Pure, AttrSizedOperandSegments]> {
  let summary = "Sample a channel-first image at an affine map of the output voxel grid";
  let description = [{
    `input` is a channel-first image of `C` channels and spatial shape `in` (2 or 3 axes),
    flattened in C order. The output image, of spatial shape `out` and the same channels, is
    viewed as rows of its innermost axis; the result holds `window_rows` of them (a 2-D tensor,
    rows x row length) starting at flat index `window_offset`, a multiple of the row length.
    Ops after a resample work on that 2-D window. `args` holds
    `in` (n values), `out` (n values) and the n x (n+1) row-major matrix `M` mapping an output
    voxel index `o` to the input voxel position `M * (o, 1)`: 10 values in 2D, 18 in 3D.

    With the unit attribute `bounded`, `args` ends with 2n more values, a first and a last
    index per output axis: the output index is clamped into them before it is mapped, so voxels
    outside that box repeat its edge (edge padding of the output, as Zoom's keep_size pads a
    zoomed image back to its size): 14 values in 2D, 24 in 3D. With `zero_outside` as well,
    those voxels are 0 instead (constant padding).

    `mode` is "nearest" (round half to even, as `grid_sample`), "floor" (the floor of the
    position rounded to float32: `interpolate`'s nearest and nearest-exact source index, for a
    map whose f64 products are exact), "bilinear" ((bi/tri)linear weights), "bicubic" (2-D
    only: cubic convolution with A = -0.75 over the 4 x 4 taps around the position, as
    `grid_sample` and `interpolate` compute it; the padding maps each tap, not the position, so
    "border" is `interpolate`'s clamped taps) or "area" (the mean
    of the input voxels in the box from floor(M * (o, 1)) to ceil(M * (o + 1, 1)), exclusive, per
    axis, clamped into the input: `interpolate`'s area mode, adaptive average pooling, for a
    diagonal `M`; `padding_mode` is then ignored); `padding_mode` is
    "zeros" (samples outside the input contribute 0), "border" (positions are clamped into the
    input first) or "reflection" (positions are mirrored at -0.5 and size - 0.5 until inside,
    then clamped: align_corners false) or "reflection_corners" (mirrored at 0 and size - 1,
    then clamped: grid_sample's reflection with align_corners) or "wrap" (positions taken modulo
    the size, numpy's wrap pad; with mode "nearest" only). This is `torch.nn.functional.grid_sample` with the grid `M * (o, 1)` in voxel units, which is how MONAI's Affine, RandAffine, Rotate, Flip
    and Spacing resample. Index arithmetic is exact in f64; the interpolation runs in f32 (f64
    for f64 images). Elements of the input feeding the resample are read where they are needed,
    so elementwise producers fuse into the gather (their body is evaluated per sample).

    With a `displacement` operand (a flat f32 tensor of n planes of the output's spatial shape,
    channel-first), output voxel `o` reads the position `M * (o + d(o), 1)`, where `d(o)` holds
    the n values at `o`, in output voxel units: a dense deformation (MONAI's elastic transforms)
    composed with the affine and sampled once. Every channel reads the same displacement. Only
    with the modes "nearest", "bilinear" and "bicubic", not `bounded`.

    ```mlir
    %r = med.resample %x [%off, %rows] (%i0, %i1, %i2, %o0, %o1, %o2, %m00, %m01, %m02, %m03,
                                         %m10, %m11, %m12, %m13, %m20, %m21, %m22, %m23)
        {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
    %e = med.resample %x [%off, %rows] (%i0, %i1, %o0, %o1, %m00, %m01, %m02, %m10, %m11, %m12)
        displaced by %field : tensor<?xf32>
        {mode = "bilinear", padding_mode = "reflection"} : tensor<?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Med_ImageTensor:$input, Index:$window_offset, Index:$window_rows,
                   Variadic<F64>:$args, Optional<RankedTensorOf<[F32]>>:$displacement,
                   StrAttr:$mode, StrAttr:$padding_mode, UnitAttr:$bounded,
                   UnitAttr:$zero_outside);
  let results = (outs Med_ImageTensor:$result);
  let assemblyFormat = [{
    $input `[` $window_offset `,` $window_rows `]` `(` $args `)`
    (`displaced` `by` $displacement^ `:` type($displacement))?
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of spatial axes (2 or 3), from the number of `args`.
    int64_t getSpatialRank() { return getArgs().size() == (getBounded() ? 14u : 10u) ? 2 : 3; }
    /// Spatial input shape, output shape and matrix entries among `args`.
    mlir::ValueRange getInShape() { return getArgs().take_front(getSpatialRank()); }
    mlir::ValueRange getOutShape() {
      return getArgs().slice(getSpatialRank(), getSpatialRank());
    }
    mlir::ValueRange getMatrix() {
      const int64_t n = getSpatialRank();
      return getArgs().slice(2 * n, n * (n + 1));
    }
    /// With `bounded`: the first and last output index per axis (lo0, hi0, lo1, hi1, ...).
    mlir::ValueRange getBounds() {
      const int64_t n = getSpatialRank();
      return getArgs().drop_front(2 * n + n * (n + 1));
    }
  }];
}

// Separable window filters (one pass per axis), in a file of their own.
include "MedFilterOps.td"

#endif // MED_OPS_TD
