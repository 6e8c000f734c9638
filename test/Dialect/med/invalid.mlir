// RUN: med-opt %s --split-input-file --verify-diagnostics
// One case per verifier rule of the med ops.

func.func @shape_mismatch(%x: tensor<4xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{result shape must equal the input shape}}
  %0 = med.shift_intensity %x {offset = 1.0} : tensor<4xf32> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @cast_shape_mismatch(%x: tensor<4xf32>) -> tensor<2x2xi16> {
  // expected-error @+1 {{result shape must equal the input shape}}
  %0 = med.cast %x : tensor<4xf32> -> tensor<2x2xi16>
  return %0 : tensor<2x2xi16>
}

// -----

func.func @bad_element_type(%x: tensor<4xi1>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of}}
  %0 = med.shift_intensity %x {offset = 1.0} : tensor<4xi1> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @sir_nonfinite(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'a_min' must be finite}}
  %0 = med.scale_intensity_range %x {a_min = 0x7FF8000000000000 : f64, a_max = 1.0} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @sir_half_b(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attributes 'b_min' and 'b_max' must be given together}}
  %0 = med.scale_intensity_range %x {a_min = 0.0, a_max = 1.0, b_min = 0.0} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @sir_clip_without_b(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'clip' needs 'b_min' and 'b_max'}}
  %0 = med.scale_intensity_range %x {a_min = 0.0, a_max = 1.0, clip} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @sir_missing_attr(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{requires attribute 'a_max'}}
  %0 = med.scale_intensity_range %x {a_min = 0.0} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @shift_inf(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'offset' must be finite}}
  %0 = med.shift_intensity %x {offset = 0x7FF0000000000000 : f64} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scale_neither(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expected either 'minv' and 'maxv' or 'factor', not neither}}
  %0 = med.scale_intensity %x : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scale_both(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expected either 'minv' and 'maxv' or 'factor', not both}}
  %0 = med.scale_intensity %x {minv = 0.0, maxv = 1.0, factor = 2.0} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scale_half(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attributes 'minv' and 'maxv' must be given together}}
  %0 = med.scale_intensity %x {minv = 0.0} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @threshold_nan(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'threshold' must be finite}}
  %0 = med.threshold_intensity %x {threshold = 0x7FF8000000000000 : f64} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @threshold_cval_inf(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'cval' must be finite}}
  %0 = med.threshold_intensity %x {threshold = 0.0, cval = 0xFFF0000000000000 : f64} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @clip_no_bounds(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expected at least one of 'min' and 'max'}}
  %0 = med.clip %x : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @clip_inverted(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'min' (2.000000e+00) must not exceed 'max' (1.000000e+00)}}
  %0 = med.clip %x {min = 2.0, max = 1.0} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @clip_nan(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'max' must be finite}}
  %0 = med.clip %x {max = 0x7FF8000000000000 : f64} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @dynamic_shape_mismatch(%x: tensor<4xf32>, %a: f64) -> tensor<3xf32> {
  // expected-error @+1 {{result shape must equal the input shape}}
  %0 = med.shift_by %x, %a, %a : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @noise_needs_flat_image(%x: tensor<2x2x2xf32>, %a: f64, %i: index) -> tensor<2x2x2xf32> {
  // expected-error @+1 {{needs a flat image or a window of rows (rank 1 or 2)}}
  %0 = med.gaussian_noise %x, %a, %a, %a, %a, %a, %i : tensor<2x2x2xf32> -> tensor<2x2x2xf32>
  return %0 : tensor<2x2x2xf32>
}

// -----

func.func @normalize_shape_mismatch(%x: tensor<4xf32>, %a: f64) -> tensor<3xf32> {
  // expected-error @+1 {{result shape must equal the input shape}}
  %0 = med.normalize %x, %a, %a : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @scale_range_by_clip_needs_b(%x: tensor<4xf32>, %a: f64) -> tensor<4xf32> {
  // expected-error @+1 {{'clip' needs 'b_min' and 'b_max'}}
  %0 = med.scale_range_by %x, %a, %a {clip} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scale_range_by_b_pair(%x: tensor<4xf32>, %a: f64) -> tensor<4xf32> {
  // expected-error @+1 {{attributes 'b_min' and 'b_max' must be given together}}
  %0 = med.scale_range_by %x, %a, %a {b_min = 0.0} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @clip_by_shape_mismatch(%x: tensor<4xf32>, %a: f64) -> tensor<5xf32> {
  // expected-error @+1 {{result shape must equal the input shape}}
  %0 = med.clip_by %x, %a, %a : tensor<4xf32> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @resample_args(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{expects 10 args (2D: in, out shapes and a 2x3 matrix) or 18 (3D: 3x4), got 3}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_mode(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{attribute 'mode' must be "nearest", "floor", "bilinear", "bicubic" or "area", got "tricubic"}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "tricubic", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_padding(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{attribute 'padding_mode' must be "zeros", "border", "reflection", "reflection_corners" or "wrap", got "mirror"}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "nearest", padding_mode = "mirror"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_rank(%x: tensor<4x4xf32>, %i: index, %a: f64) -> tensor<?xf32> {
  // expected-error @+1 {{reads a flat (rank-1) image and yields a window of rows (rank 2)}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "nearest", padding_mode = "zeros"} : tensor<4x4xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @resample_bilinear_int(%x: tensor<?xi16>, %i: index, %a: f64) -> tensor<?x?xi16> {
  // expected-error @+1 {{bilinear interpolation needs a floating-point result, got 'i16'}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xi16> -> tensor<?x?xi16>
  return %0 : tensor<?x?xi16>
}

// -----

func.func @resample_area_int(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xui8> {
  // expected-error @+1 {{area interpolation needs a floating-point result, got 'ui8'}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "area", padding_mode = "border"} : tensor<?xf32> -> tensor<?x?xui8>
  return %0 : tensor<?x?xui8>
}

// -----

func.func @extrema_shape(%x: tensor<?xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{result must be tensor<2xf64> (min, max), got 'tensor<3xf64>'}}
  %0 = med.extrema %x : tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @extrema_f32_result(%x: tensor<?xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{must be tensor of 64-bit float values}}
  %0 = med.extrema %x : tensor<?xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @extrema_rank(%x: tensor<4x4xf32>) -> tensor<2xf64> {
  // expected-error @+1 {{reads a flat (rank-1) image, got 'tensor<4x4xf32>'}}
  %0 = med.extrema %x : tensor<4x4xf32> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @rescale_by_finite(%x: tensor<?xf32>, %a: f64) -> tensor<?xf32> {
  // expected-error @+1 {{attribute 'maxv' must be finite}}
  %0 = med.rescale_by %x, %a, %a {minv = 0.0, maxv = 0x7FF0000000000000 : f64} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @overlap_counts_rank(%x: tensor<4x4xf32>) -> tensor<4xf64> {
  // expected-error @+1 {{reads flat (rank-1) masks, got 'tensor<4x4xf32>'}}
  %0 = med.overlap_counts %x, %x : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @overlap_counts_types(%p: tensor<?xf32>, %y: tensor<?xui8>) -> tensor<4xf64> {
  // expected-error @+1 {{operands must have the same type, got 'tensor<?xf32>' and 'tensor<?xui8>'}}
  %0 = med.overlap_counts %p, %y : tensor<?xf32>, tensor<?xui8> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @overlap_counts_shape(%p: tensor<?xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{result must be tensor<4xf64> (overlap, |pred|, |target|, bad), got 'tensor<3xf64>'}}
  %0 = med.overlap_counts %p, %p : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @dice_sums_types(%x: tensor<?xf32>, %t: tensor<?xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{operands must have the same type, got 'tensor<?xf32>' and 'tensor<?xf64>'}}
  %0 = med.dice_sums %x, %t : tensor<?xf32>, tensor<?xf64> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @dice_sums_rank(%x: tensor<2x4xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{reads a flat (rank-1) input, got 'tensor<2x4xf32>'}}
  %0 = med.dice_sums %x, %x : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @dice_sums_shape(%x: tensor<?xf32>) -> tensor<2xf64> {
  // expected-error @+1 {{result must be tensor<3xf64> (intersection, prediction, ground), got 'tensor<2xf64>'}}
  %0 = med.dice_sums %x, %x : tensor<?xf32>, tensor<?xf32> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @dice_sums_integer(%x: tensor<?xi16>) -> tensor<3xf64> {
  // expected-error @+1 {{must be ranked tensor of 32-bit float or 64-bit float values}}
  %0 = med.dice_sums %x, %x : tensor<?xi16>, tensor<?xi16> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @dice_grad_result(%x: tensor<?xf32>, %a: f64) -> tensor<?xf64> {
  // expected-error @+1 {{result must have the input's type 'tensor<?xf32>', got 'tensor<?xf64>'}}
  %0 = med.dice_grad %x, %x, %a, %a : tensor<?xf32>, tensor<?xf32> -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

func.func @error_sums_shape(%x: tensor<?xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{result must be tensor<2xf64> (squared, absolute), got 'tensor<3xf64>'}}
  %0 = med.error_sums %x, %x : tensor<?xf64>, tensor<?xf64> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @moments_shape(%x: tensor<?xf32>) -> tensor<2xf64> {
  // expected-error @+1 {{result must be tensor<3xf64> (count, sum, sum of squares), got 'tensor<2xf64>'}}
  %0 = med.moments %x : tensor<?xf32> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @dice_grad_types(%x: tensor<?xf32>, %t: tensor<?xf64>, %a: f64) -> tensor<?xf32> {
  // expected-error @+1 {{operands must have the same type, got 'tensor<?xf32>' and 'tensor<?xf64>'}}
  %0 = med.dice_grad %x, %t, %a, %a : tensor<?xf32>, tensor<?xf64> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @softmax_dice_sums_channels(%x: tensor<?x?xf32>, %t: tensor<?xf32>) -> tensor<9xf64> {
  // expected-error @+1 {{reads (channels x voxels) logits with a static channel count >= 2, got 'tensor<?x?xf32>'}}
  %0 = med.softmax_dice_sums %x, %t : tensor<?x?xf32>, tensor<?xf32> -> tensor<9xf64>
  return %0 : tensor<9xf64>
}

// -----

func.func @softmax_dice_sums_one_channel(%x: tensor<1x?xf32>, %t: tensor<?xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{reads (channels x voxels) logits with a static channel count >= 2, got 'tensor<1x?xf32>'}}
  %0 = med.softmax_dice_sums %x, %t : tensor<1x?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @softmax_dice_sums_target(%x: tensor<3x?xf32>, %t: tensor<2x?xf32>) -> tensor<9xf64> {
  // expected-error @+1 {{target must be a flat label map of 'f32' or have the input's type 'tensor<3x?xf32>', got 'tensor<2x?xf32>'}}
  %0 = med.softmax_dice_sums %x, %t : tensor<3x?xf32>, tensor<2x?xf32> -> tensor<9xf64>
  return %0 : tensor<9xf64>
}

// -----

func.func @softmax_dice_sums_label_type(%x: tensor<3x?xf32>, %t: tensor<?xf64>) -> tensor<9xf64> {
  // expected-error @+1 {{target must be a flat label map of 'f32' or have the input's type 'tensor<3x?xf32>', got 'tensor<?xf64>'}}
  %0 = med.softmax_dice_sums %x, %t : tensor<3x?xf32>, tensor<?xf64> -> tensor<9xf64>
  return %0 : tensor<9xf64>
}

// -----

func.func @softmax_dice_sums_voxels(%x: tensor<3x8xf32>, %t: tensor<7xf32>) -> tensor<9xf64> {
  // expected-error @+1 {{label map and logits must have the same voxel count, got 'tensor<7xf32>' and 'tensor<3x8xf32>'}}
  %0 = med.softmax_dice_sums %x, %t : tensor<3x8xf32>, tensor<7xf32> -> tensor<9xf64>
  return %0 : tensor<9xf64>
}

// -----

func.func @softmax_dice_sums_result(%x: tensor<3x?xf32>, %t: tensor<?xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{result must be tensor<9xf64> (intersection, prediction, ground per class), got 'tensor<3xf64>'}}
  %0 = med.softmax_dice_sums %x, %t : tensor<3x?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @softmax_dice_grad_coefficients(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %k: tensor<3xf64>) -> tensor<3x?xf32> {
  // expected-error @+1 {{coefficients must be tensor<6xf64> (d intersection, d prediction per class), got 'tensor<3xf64>'}}
  %0 = med.softmax_dice_grad %x, %t, %k : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  return %0 : tensor<3x?xf32>
}

// -----

func.func @softmax_dice_grad_result(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %k: tensor<6xf64>) -> tensor<3x?xf64> {
  // expected-error @+1 {{result must have the input's type 'tensor<3x?xf32>', got 'tensor<3x?xf64>'}}
  %0 = med.softmax_dice_grad %x, %t, %k : tensor<3x?xf32>, tensor<?xf32>, tensor<6xf64> -> tensor<3x?xf64>
  return %0 : tensor<3x?xf64>
}

// -----

func.func @focal_sums_types(%x: tensor<?xf32>, %t: tensor<?xf64>, %g: f64) -> tensor<1xf64> {
  // expected-error @+1 {{operands must have the same type, got 'tensor<?xf32>' and 'tensor<?xf64>'}}
  %0 = med.focal_sums %x, %t, %g : tensor<?xf32>, tensor<?xf64> -> tensor<1xf64>
  return %0 : tensor<1xf64>
}

// -----

func.func @focal_sums_rank(%x: tensor<2x4xf32>, %g: f64) -> tensor<1xf64> {
  // expected-error @+1 {{reads a flat (rank-1) input, got 'tensor<2x4xf32>'}}
  %0 = med.focal_sums %x, %x, %g : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<1xf64>
  return %0 : tensor<1xf64>
}

// -----

func.func @focal_sums_result(%x: tensor<?xf32>, %g: f64) -> tensor<3xf64> {
  // expected-error @+1 {{result must be tensor<1xf64> (the focal sum), got 'tensor<3xf64>'}}
  %0 = med.focal_sums %x, %x, %g : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @focal_grad_result(%x: tensor<?xf32>, %g: f64) -> tensor<?xf64> {
  // expected-error @+1 {{result must have the input's type 'tensor<?xf32>', got 'tensor<?xf64>'}}
  %0 = med.focal_grad %x, %x, %g, %g : tensor<?xf32>, tensor<?xf32> -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

func.func @focal_grad_types(%x: tensor<?xf32>, %t: tensor<?xf64>, %g: f64) -> tensor<?xf32> {
  // expected-error @+1 {{operands must have the same type, got 'tensor<?xf32>' and 'tensor<?xf64>'}}
  %0 = med.focal_grad %x, %t, %g, %g, %g : tensor<?xf32>, tensor<?xf64> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @softmax_focal_sums_channels(%x: tensor<?x?xf32>, %t: tensor<?xf32>, %g: f64) -> tensor<4xf64> {
  // expected-error @+1 {{reads (channels x voxels) logits with a static channel count >= 1, got 'tensor<?x?xf32>'}}
  %0 = med.softmax_focal_sums %x, %t, %g : tensor<?x?xf32>, tensor<?xf32> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @softmax_focal_sums_target(%x: tensor<3x?xf32>, %t: tensor<3x?xf64>, %g: f64) -> tensor<3xf64> {
  // expected-error @+1 {{target must be a flat label map of 'f32' or have the input's type 'tensor<3x?xf32>', got 'tensor<3x?xf64>'}}
  %0 = med.softmax_focal_sums %x, %t, %g : tensor<3x?xf32>, tensor<3x?xf64> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @softmax_focal_sums_labelled(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %g: f64) -> tensor<3xf64> {
  // expected-error @+1 {{result must be tensor<4xf64> (focal sum per class, then the labelled voxels), got 'tensor<3xf64>'}}
  %0 = med.softmax_focal_sums %x, %t, %g : tensor<3x?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @softmax_focal_sums_per_class(%x: tensor<3x?xf32>, %t: tensor<3x?xf32>, %g: f64) -> tensor<4xf64> {
  // expected-error @+1 {{result must be tensor<3xf64> (focal sum per class), got 'tensor<4xf64>'}}
  %0 = med.softmax_focal_sums %x, %t, %g : tensor<3x?xf32>, tensor<3x?xf32> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @softmax_focal_sums_first(%x: tensor<3x?xf32>, %t: tensor<3x?xf32>, %g: f64) -> tensor<3xf64> {
  // expected-error @+1 {{attribute 'first' must be >= 0, and 0 unless the target is a label map, got 1}}
  %0 = med.softmax_focal_sums %x, %t, %g {first = 1} : tensor<3x?xf32>, tensor<3x?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @softmax_focal_sums_negative_first(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %g: f64) -> tensor<4xf64> {
  // expected-error @+1 {{attribute 'first' must be >= 0, and 0 unless the target is a label map, got -1}}
  %0 = med.softmax_focal_sums %x, %t, %g {first = -1} : tensor<3x?xf32>, tensor<?xf32> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @softmax_focal_grad_coefficients(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %k: tensor<4xf64>, %g: f64) -> tensor<3x?xf32> {
  // expected-error @+1 {{coefficients must be tensor<3xf64> (d loss / d focal sum per class), got 'tensor<4xf64>'}}
  %0 = med.softmax_focal_grad %x, %t, %k, %g : tensor<3x?xf32>, tensor<?xf32>, tensor<4xf64> -> tensor<3x?xf32>
  return %0 : tensor<3x?xf32>
}

// -----

func.func @softmax_focal_grad_result(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %k: tensor<3xf64>, %g: f64) -> tensor<3x?xf64> {
  // expected-error @+1 {{result must have the input's type 'tensor<3x?xf32>', got 'tensor<3x?xf64>'}}
  %0 = med.softmax_focal_grad %x, %t, %k, %g : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf64>
  return %0 : tensor<3x?xf64>
}

// -----

func.func @resample_bounded_args(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{with 'bounded' expects 14 args}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {bounded, mode = "nearest", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_zero_outside_unbounded(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{'zero_outside' needs 'bounded'}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "nearest", padding_mode = "zeros", zero_outside} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_wrap_bilinear(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{padding_mode "wrap" needs mode "nearest" (it wraps the integer positions of a pad), got "bilinear"}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "wrap"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_displaced_area(%x: tensor<?xf32>, %i: index, %a: f64, %d: tensor<?xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{a displacement needs mode "nearest", "bilinear" or "bicubic", got "area"}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) displaced by %d : tensor<?xf32> {mode = "area", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_displaced_bounded(%x: tensor<?xf32>, %i: index, %a: f64, %d: tensor<?xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{a displacement cannot be 'bounded' (the box would clamp the displaced index)}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) displaced by %d : tensor<?xf32> {bounded, mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_displaced_rank(%x: tensor<?xf32>, %i: index, %a: f64, %d: tensor<2x?xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{reads a flat displacement (n planes of the output's spatial shape), got 'tensor<2x?xf32>'}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) displaced by %d : tensor<2x?xf32> {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_bicubic_3d(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{bicubic needs 2 spatial axes (10 args, or 14 bounded), got 18 args}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bicubic", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @resample_bicubic_wrap(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{padding_mode "wrap" needs mode "nearest" (it wraps the integer positions of a pad), got "bicubic"}}
  %0 = med.resample %x [%i, %i] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bicubic", padding_mode = "wrap"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @wasserstein_sums_channels(%x: tensor<1x?xf32>, %t: tensor<?xf32>, %m: tensor<1xf64>) -> tensor<2xf64> {
  // expected-error @+1 {{reads (channels x voxels) logits with a static channel count >= 2, got 'tensor<1x?xf32>'}}
  %0 = med.wasserstein_sums %x, %t, %m : tensor<1x?xf32>, tensor<?xf32>, tensor<1xf64> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @wasserstein_sums_per_class(%x: tensor<3x?xf32>, %t: tensor<3x?xf32>, %m: tensor<9xf64>) -> tensor<6xf64> {
  // expected-error @+1 {{target must be a flat label map, got 'tensor<3x?xf32>'}}
  %0 = med.wasserstein_sums %x, %t, %m : tensor<3x?xf32>, tensor<3x?xf32>, tensor<9xf64> -> tensor<6xf64>
  return %0 : tensor<6xf64>
}

// -----

func.func @wasserstein_sums_matrix(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %m: tensor<3xf64>) -> tensor<6xf64> {
  // expected-error @+1 {{matrix must be tensor<9xf64> (the class distances row by row), got 'tensor<3xf64>'}}
  %0 = med.wasserstein_sums %x, %t, %m : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<6xf64>
  return %0 : tensor<6xf64>
}

// -----

func.func @wasserstein_sums_result(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %m: tensor<9xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{result must be tensor<6xf64> (labelled voxels, then summed distances, per class), got 'tensor<3xf64>'}}
  %0 = med.wasserstein_sums %x, %t, %m : tensor<3x?xf32>, tensor<?xf32>, tensor<9xf64> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @wasserstein_grad_coefficients(%x: tensor<2x?xf64>, %t: tensor<?xf64>, %k: tensor<2xf64>) -> tensor<2x?xf64> {
  // expected-error @+1 {{coefficients must be tensor<4xf64> (d loss / d summed distance times the distances, row by row), got 'tensor<2xf64>'}}
  %0 = med.wasserstein_grad %x, %t, %k : tensor<2x?xf64>, tensor<?xf64>, tensor<2xf64> -> tensor<2x?xf64>
  return %0 : tensor<2x?xf64>
}

// -----

func.func @wasserstein_grad_result(%x: tensor<2x?xf32>, %t: tensor<?xf32>, %k: tensor<4xf64>) -> tensor<2x?xf64> {
  // expected-error @+1 {{result must have the input's type 'tensor<2x?xf32>', got 'tensor<2x?xf64>'}}
  %0 = med.wasserstein_grad %x, %t, %k : tensor<2x?xf32>, tensor<?xf32>, tensor<4xf64> -> tensor<2x?xf64>
  return %0 : tensor<2x?xf64>
}

// -----

func.func @focal_terms_result(%x: tensor<?xf32>, %t: tensor<?xf32>, %k: f64, %g: f64) -> tensor<?xf64> {
  // expected-error @+1 {{result must have the input's type 'tensor<?xf32>', got 'tensor<?xf64>'}}
  %0 = med.focal_terms %x, %t, %k, %g : tensor<?xf32>, tensor<?xf32> -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

func.func @focal_terms_grad_upstream(%x: tensor<?xf32>, %t: tensor<?xf32>, %u: tensor<?xf64>, %k: f64, %g: f64) -> tensor<?xf32> {
  // expected-error @+1 {{upstream must have the input's type 'tensor<?xf32>', got 'tensor<?xf64>'}}
  %0 = med.focal_terms_grad %x, %t, %u, %k, %g : tensor<?xf32>, tensor<?xf32>, tensor<?xf64> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @softmax_focal_terms_coefficients(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %k: tensor<2xf64>, %g: f64) -> tensor<3x?xf32> {
  // expected-error @+1 {{coefficients must be tensor<3xf64> (the factor of each class's terms), got 'tensor<2xf64>'}}
  %0 = med.softmax_focal_terms %x, %t, %k, %g : tensor<3x?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<3x?xf32>
  return %0 : tensor<3x?xf32>
}

// -----

func.func @softmax_focal_terms_grad_upstream(%x: tensor<3x?xf32>, %t: tensor<?xf32>, %u: tensor<2x?xf32>, %k: tensor<3xf64>, %g: f64) -> tensor<3x?xf32> {
  // expected-error @+1 {{upstream must have the input's type 'tensor<3x?xf32>', got 'tensor<2x?xf32>'}}
  %0 = med.softmax_focal_terms_grad %x, %t, %u, %k, %g : tensor<3x?xf32>, tensor<?xf32>, tensor<2x?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  return %0 : tensor<3x?xf32>
}

// -----

func.func @hausdorff_dt_sums_field(%x: tensor<?xf32>, %t: tensor<?xf32>, %fx: tensor<?xf64>, %ft: tensor<?xf32>, %a: f64) -> tensor<1xf64> {
  // expected-error @+1 {{operands must have the same type, got 'tensor<?xf32>' and 'tensor<?xf64>'}}
  %0 = med.hausdorff_dt_sums %x, %t, %fx, %ft, %a : tensor<?xf32>, tensor<?xf32>, tensor<?xf64>, tensor<?xf32> -> tensor<1xf64>
  return %0 : tensor<1xf64>
}

// -----

func.func @hausdorff_dt_sums_result(%x: tensor<?xf32>, %t: tensor<?xf32>, %fx: tensor<?xf32>, %ft: tensor<?xf32>, %a: f64) -> tensor<2xf64> {
  // expected-error @+1 {{result must be tensor<1xf64> (the weighted squared error's sum), got 'tensor<2xf64>'}}
  %0 = med.hausdorff_dt_sums %x, %t, %fx, %ft, %a : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @hausdorff_dt_grad_rank(%x: tensor<2x?xf32>, %t: tensor<2x?xf32>, %fx: tensor<2x?xf32>, %ft: tensor<2x?xf32>, %k: f64, %a: f64) -> tensor<2x?xf32> {
  // expected-error @+1 {{reads a flat (rank-1) input, got 'tensor<2x?xf32>'}}
  %0 = med.hausdorff_dt_grad %x, %t, %fx, %ft, %k, %a : tensor<2x?xf32>, tensor<2x?xf32>, tensor<2x?xf32>, tensor<2x?xf32> -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

func.func @ddf_energy_rank(%x: tensor<?x?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{reads a flat channel and yields a window of rows (rank 2) of its element type, got 'tensor<?x?xf32>' -> 'tensor<?x?xf32>'}}
  %0 = med.ddf_energy %x [%o, %r] (%a, %a, %a) {order = 1} : tensor<?x?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @ddf_energy_args(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{expects 3 n args (sizes, ratios, scales) for n = 1, 2 or 3 axes, got 4}}
  %0 = med.ddf_energy %x [%o, %r] (%a, %a, %a, %a) {order = 1} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @ddf_energy_order(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{attribute 'order' must be 1 (DiffusionLoss) or 2 (BendingEnergyLoss), got 3}}
  %0 = med.ddf_energy %x [%o, %r] (%a, %a, %a) {order = 3} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @ddf_energy_grad_args(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{expects 3 n args (sizes, ratios, scales) for n = 1, 2 or 3 axes and the coefficient, got 3}}
  %0 = med.ddf_energy_grad %x [%o, %r] (%a, %a, %a) {order = 2} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @ddf_energy_grad_type(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf64> {
  // expected-error @+1 {{reads a flat channel and yields a window of rows (rank 2) of its element type, got 'tensor<?xf32>' -> 'tensor<?x?xf64>'}}
  %0 = med.ddf_energy_grad %x [%o, %r] (%a, %a, %a, %a) {order = 2} : tensor<?xf32> -> tensor<?x?xf64>
  return %0 : tensor<?x?xf64>
}

// -----

func.func @ddf_energy_weighted_grad_weights(%x: tensor<?xf32>, %w: tensor<?xf64>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{expects the weights laid out as the input, of its type, got 'tensor<?xf64>' and 'tensor<?xf32>'}}
  %0 = med.ddf_energy_weighted_grad %x, %w [%o, %r] (%a, %a, %a) {order = 1} : tensor<?xf32>, tensor<?xf64> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @ddf_energy_weighted_grad_args(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{expects 3 n args (sizes, ratios, scales) for n = 1, 2 or 3 axes, got 4}}
  %0 = med.ddf_energy_weighted_grad %x, %x [%o, %r] (%a, %a, %a, %a) {order = 1} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @lncc_map_inputs(%p: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{expects 2 flat inputs, got 1}}
  %0 = med.lncc_map %p [%o, %r] (%a, %a, %a, %a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @lncc_map_types(%p: tensor<?xf32>, %t: tensor<?xf64>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{inputs must be flat channels of one type, got 'tensor<?xf64>'}}
  %0 = med.lncc_map %p, %t [%o, %r] (%a, %a, %a, %a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32>, tensor<?xf64> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @lncc_map_even(%p: tensor<?xf32>, %t: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{attribute 'kernel_size' must be odd and positive, got 2}}
  %0 = med.lncc_map %p, %t [%o, %r] (%a, %a, %a, %a, %a, %a) {kernel_size = 2} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @lncc_coefficients_rank(%p: tensor<?xf32>, %t: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{expects args for 1, 2 or 3 spatial axes, got 0}}
  %0:3 = med.lncc_coefficients %p, %t [%o, %r] (%a, %a, %a, %a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %0#0, %0#1, %0#2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @lncc_grad_result(%p: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?xf32> {
  // expected-error @+1 {{yields windows of rows (rank 2) of the inputs' element type, got 'tensor<?xf32>'}}
  %0 = med.lncc_grad %p, %p, %p, %p, %p [%o, %r] (%a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @ssim_pass_inputs(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{expects 2 inputs and 5 results, got 1 and 5}}
  %f:5 = med.ssim_pass %x [%o, %r] (%a, %a, %a) {axis = 0, kernel_size = 1, first} : tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %f#0, %f#1, %f#2, %f#3, %f#4 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @ssim_pass_types(%x: tensor<?xf32>, %y: tensor<?xf64>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{inputs must be flat channels of one type, got 'tensor<?xf64>'}}
  %f:5 = med.ssim_pass %x, %y [%o, %r] (%a, %a, %a) {axis = 0, kernel_size = 1, first} : tensor<?xf32>, tensor<?xf64> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %f#0, %f#1, %f#2, %f#3, %f#4 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @ssim_pass_result(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?xf32>) {
  // expected-error @+1 {{yields windows of rows (rank 2) of the inputs' element type, got 'tensor<?xf32>'}}
  %m:2 = med.ssim_pass %x, %x, %x, %x, %x [%o, %r] (%a, %a, %a, %a, %a) {axis = 1, kernel_size = 1, last} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?xf32>
  return %m#0, %m#1 : tensor<?x?xf32>, tensor<?xf32>
}

// -----

func.func @ssim_pass_rank(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{expects args for 2 or 3 spatial axes, got 1}}
  %m:2 = med.ssim_pass %x, %x, %x, %x, %x [%o, %r] (%a, %a, %a, %a) {axis = 0, kernel_size = 1, last} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>
  return %m#0, %m#1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @ssim_pass_axis(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{attribute 'axis' must name one of the 2 axes, got 2}}
  %m:2 = med.ssim_pass %x, %x, %x, %x, %x [%o, %r] (%a, %a, %a, %a, %a) {axis = 2, kernel_size = 1, last} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>
  return %m#0, %m#1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @ssim_pass_kernel(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{attribute 'kernel_size' must be positive, got 0}}
  %m:2 = med.ssim_pass %x, %x, %x, %x, %x [%o, %r] (%a, %a, %a, %a) {axis = 0, kernel_size = 0, last} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>
  return %m#0, %m#1 : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @ssim_pass_coefficients(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{'coefficients' needs 'last'}}
  %f:3 = med.ssim_pass %x, %x, %x, %x, %x, %x [%o, %r] (%a, %a, %a) {axis = 0, kernel_size = 1, coefficients} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %f#0, %f#1, %f#2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @ssim_adjoint_last_axis(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{'last' needs axis 0, got 1}}
  %g = med.ssim_adjoint %x, %x, %x, %x, %x [%o, %r] (%a, %a, %a) {axis = 1, kernel_size = 1, last} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %g : tensor<?x?xf32>
}

// -----

func.func @ssim_adjoint_inputs(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  // expected-error @+1 {{expects 3 inputs and 3 results, got 2 and 3}}
  %f:3 = med.ssim_adjoint %x, %x [%o, %r] (%a, %a, %a) {axis = 1, kernel_size = 1} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %f#0, %f#1, %f#2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

func.func @parzen_sums_centres(%x: tensor<?xf32>, %c: tensor<?xf64>, %p: f64) -> tensor<?xf32> {
  // expected-error @+1 {{expects static bin centres tensor<B x f64> with B >= 1, got 'tensor<?xf64>'}}
  %s = med.parzen_sums %x, %c, %p : tensor<?xf32>, tensor<?xf64> -> tensor<?xf32>
  return %s : tensor<?xf32>
}

// -----

func.func @parzen_sums_result(%x: tensor<?xf32>, %c: tensor<3xf64>, %p: f64) -> tensor<?xf64> {
  // expected-error @+1 {{expects a flat block of voxels and a result of its type, got 'tensor<?xf32>' and 'tensor<?xf64>'}}
  %s = med.parzen_sums %x, %c, %p : tensor<?xf32>, tensor<3xf64> -> tensor<?xf64>
  return %s : tensor<?xf64>
}

// -----

func.func @parzen_window_sums(%x: tensor<?xf32>, %s: tensor<4xf32>, %c: tensor<3xf64>, %p: f64) -> tensor<3x?xf32> {
  // expected-error @+1 {{expects a flat block of voxels and its sums of one type, got 'tensor<?xf32>' and 'tensor<4xf32>'}}
  %w = med.parzen_window %x, %s, %c, %p : tensor<?xf32>, tensor<4xf32>, tensor<3xf64> -> tensor<3x?xf32>
  return %w : tensor<3x?xf32>
}

// -----

func.func @parzen_window_rows(%x: tensor<?xf32>, %c: tensor<3xf64>, %p: f64) -> tensor<4x?xf32> {
  // expected-error @+1 {{yields 3 rows of the input's voxels and type, got 'tensor<4x?xf32>'}}
  %w = med.parzen_window %x, %x, %c, %p : tensor<?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<4x?xf32>
  return %w : tensor<4x?xf32>
}

// -----

func.func @parzen_window_grad_types(%x: tensor<?xf32>, %y: tensor<?xf64>, %c: tensor<2xf64>, %j: tensor<4xf64>, %p: f64) -> tensor<?xf32> {
  // expected-error @+1 {{expects flat input, other and result of one type, got 'tensor<?xf32>', 'tensor<?xf64>' and 'tensor<?xf32>'}}
  %g = med.parzen_window_grad %x, %y, %c, %j, %p : tensor<?xf32>, tensor<?xf64>, tensor<2xf64>, tensor<4xf64> -> tensor<?xf32>
  return %g : tensor<?xf32>
}

// -----

func.func @parzen_window_grad_joint(%x: tensor<?xf32>, %c: tensor<2xf64>, %j: tensor<2xf64>, %p: f64) -> tensor<?xf32> {
  // expected-error @+1 {{expects the joint derivatives as tensor<4xf64> (bins squared), got 'tensor<2xf64>'}}
  %g = med.parzen_window_grad %x, %x, %c, %j, %p : tensor<?xf32>, tensor<?xf32>, tensor<2xf64>, tensor<2xf64> -> tensor<?xf32>
  return %g : tensor<?xf32>
}

// -----

func.func @bspline_sums_order(%x: tensor<?xf32>, %k: tensor<2xf64>) -> tensor<?xf32> {
  // expected-error @+1 {{expects order 0 or 3, got 2}}
  %s = med.bspline_sums %x, %k {bins = 6 : i64, order = 2 : i64} : tensor<?xf32>, tensor<2xf64> -> tensor<?xf32>
  return %s : tensor<?xf32>
}

// -----

func.func @bspline_sums_bins(%x: tensor<?xf32>, %k: tensor<2xf64>) -> tensor<?xf32> {
  // expected-error @+1 {{expects more than 4 bins (2 padding bins on each side), got 4}}
  %s = med.bspline_sums %x, %k {bins = 4 : i64, order = 3 : i64} : tensor<?xf32>, tensor<2xf64> -> tensor<?xf32>
  return %s : tensor<?xf32>
}

// -----

func.func @bspline_window_scale(%x: tensor<?xf32>, %k: tensor<3xf64>) -> tensor<6x?xf32> {
  // expected-error @+1 {{expects the scale (bin size, normalised minimum) as tensor<2xf64>, got 'tensor<3xf64>'}}
  %w = med.bspline_window %x, %x, %k {order = 0 : i64} : tensor<?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<6x?xf32>
  return %w : tensor<6x?xf32>
}

// -----

func.func @bspline_window_rows(%x: tensor<?xf32>, %k: tensor<2xf64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{yields a static number of bin rows, got 'tensor<?x?xf32>'}}
  %w = med.bspline_window %x, %x, %k {order = 0 : i64} : tensor<?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<?x?xf32>
  return %w : tensor<?x?xf32>
}

// -----

func.func @bspline_window_grad_joint(%x: tensor<?xf32>, %k: tensor<2xf64>, %j: tensor<35xf64>) -> tensor<?xf32> {
  // expected-error @+1 {{expects the joint derivatives as a static tensor<B^2 x f64>, got 'tensor<35xf64>'}}
  %g = med.bspline_window_grad %x, %x, %k, %k, %j : tensor<?xf32>, tensor<?xf32>, tensor<2xf64>, tensor<2xf64>, tensor<35xf64> -> tensor<?xf32>
  return %g : tensor<?xf32>
}

// -----

func.func @filter_axis_even_taps(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{expects the spatial shape and then an odd number of taps, got 5 args for 3 spatial axes}}
  %0 = med.filter_axis %x [%i, %i] (%a, %a, %a, %a, %a) {axis = 0.0 : f64, spatial_rank = 3.0 : f64} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @filter_axis_axis(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // expected-error @+1 {{attribute 'axis' must be an integer in [0, spatial_rank), got 2}}
  %0 = med.filter_axis %x [%i, %i] (%a, %a, %a) {axis = 2.0 : f64, spatial_rank = 2.0 : f64} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @filter_axis_int_result(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?x?xi16> {
  // expected-error @+1 {{needs a floating-point result, got 'i16'}}
  %0 = med.filter_axis %x [%i, %i] (%a, %a, %a) {axis = 0.0 : f64, spatial_rank = 2.0 : f64} : tensor<?xf32> -> tensor<?x?xi16>
  return %0 : tensor<?x?xi16>
}

// -----

func.func @bias_field_terms(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?xf32> {
  // expected-error @+1 {{expects the spatial shape and 4 coefficients (7 args), got 6}}
  %0 = med.bias_field %x, (%a, %a, %a, %a, %a, %a), %i {degree = 1.0 : f64, spatial_rank = 3.0 : f64} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @bias_field_degree(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?xf32> {
  // expected-error @+1 {{attribute 'degree' must be an integer in [1, 16], got 5.000000e-01}}
  %0 = med.bias_field %x, (%a, %a, %a), %i {degree = 0.5 : f64, spatial_rank = 2.0 : f64} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @histogram_shift_points(%x: tensor<?xf32>, %a: f64) -> tensor<?xf32> {
  // expected-error @+1 {{expected at least 3 control points, got 2}}
  %0 = med.histogram_shift %x, %a, %a, (%a, %a), %a, %a : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @histogram_shift_shape(%x: tensor<4xf32>, %a: f64) -> tensor<3xf32> {
  // expected-error @+1 {{result shape must equal the input shape}}
  %0 = med.histogram_shift %x, %a, %a, (%a, %a, %a), %a, %a : tensor<4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @rician_noise_needs_flat_image(%x: tensor<2x2x2xf32>, %a: f64, %i: index) -> tensor<2x2x2xf32> {
  // expected-error @+1 {{needs a flat image or a window of rows (rank 1 or 2)}}
  %0 = med.rician_noise %x, %a, %a, %a, %a, %a, %a, %a, %a, %i : tensor<2x2x2xf32> -> tensor<2x2x2xf32>
  return %0 : tensor<2x2x2xf32>
}

// -----

func.func @coarse_dropout_boxes(%x: tensor<?xf32>, %a: f64, %i: index) -> tensor<?xf32> {
  // expected-error @+1 {{expects the spatial shape and at least one box of (start, size) per axis (3 + k * 6 args), got 8}}
  %0 = med.coarse_dropout %x, %a, %a, %a, %a, %a, %a, (%a, %a, %a, %a, %a, %a, %a, %a), %i {spatial_rank = 3.0 : f64} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @coarse_dropout_rank(%x: tensor<?xf32>, %a: f64, %i: index) -> tensor<?xf32> {
  // expected-error @+1 {{attribute 'spatial_rank' must be 2 or 3, got 1}}
  %0 = med.coarse_dropout %x, %a, %a, %a, %a, %a, %a, (%a, %a, %a), %i {spatial_rank = 1.0 : f64} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
