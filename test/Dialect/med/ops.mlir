// RUN: med-opt %s --split-input-file | med-opt --split-input-file | FileCheck %s
// Round trip of every med op through the printer and the parser.

// CHECK-LABEL: func @scale_intensity_range
func.func @scale_intensity_range(%x: tensor<1x8x8x8xi16>) -> tensor<1x8x8x8xf32> {
  // CHECK: med.scale_intensity_range %{{.*}} {a_max = 1.000000e+03 : f64, a_min = -1.000000e+03 : f64, b_max = 1.000000e+00 : f64, b_min = 0.000000e+00 : f64, clip} : tensor<1x8x8x8xi16> -> tensor<1x8x8x8xf32>
  %0 = med.scale_intensity_range %x {a_min = -1000.0, a_max = 1000.0, b_min = 0.0, b_max = 1.0, clip} : tensor<1x8x8x8xi16> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

// CHECK-LABEL: func @scale_intensity_range_no_b
func.func @scale_intensity_range_no_b(%x: tensor<?xf32>) -> tensor<?xf32> {
  // CHECK: med.scale_intensity_range %{{.*}} {a_max = 2.000000e+00 : f64, a_min = 1.000000e+00 : f64} : tensor<?xf32> -> tensor<?xf32>
  %0 = med.scale_intensity_range %x {a_min = 1.0, a_max = 2.0} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @shift_intensity
func.func @shift_intensity(%x: tensor<4x4xui8>) -> tensor<4x4xui8> {
  // CHECK: med.shift_intensity %{{.*}} {offset = 1.000000e+01 : f64} : tensor<4x4xui8> -> tensor<4x4xui8>
  %0 = med.shift_intensity %x {offset = 10.0} : tensor<4x4xui8> -> tensor<4x4xui8>
  return %0 : tensor<4x4xui8>
}

// -----

// CHECK-LABEL: func @scale_intensity
func.func @scale_intensity(%x: tensor<?xf64>) -> (tensor<?xf32>, tensor<?xf32>) {
  // CHECK: med.scale_intensity %{{.*}} {maxv = 1.000000e+00 : f64, minv = 0.000000e+00 : f64}
  %0 = med.scale_intensity %x {minv = 0.0, maxv = 1.0} : tensor<?xf64> -> tensor<?xf32>
  // CHECK: med.scale_intensity %{{.*}} {factor = 5.000000e-01 : f64}
  %1 = med.scale_intensity %x {factor = 0.5} : tensor<?xf64> -> tensor<?xf32>
  return %0, %1 : tensor<?xf32>, tensor<?xf32>
}

// -----

// CHECK-LABEL: func @threshold_intensity
func.func @threshold_intensity(%x: tensor<?xi8>) -> tensor<?xi8> {
  // CHECK: med.threshold_intensity %{{.*}} {above, cval = 3.000000e+00 : f64, threshold = 2.000000e-01 : f64} : tensor<?xi8> -> tensor<?xi8>
  %0 = med.threshold_intensity %x {threshold = 0.2, above, cval = 3.0} : tensor<?xi8> -> tensor<?xi8>
  return %0 : tensor<?xi8>
}

// -----

// CHECK-LABEL: func @threshold_default_cval
func.func @threshold_default_cval(%x: tensor<?xf32>) -> tensor<?xf32> {
  // CHECK: med.threshold_intensity %{{.*}} {threshold = 5.000000e-01 : f64} : tensor<?xf32> -> tensor<?xf32>
  %0 = med.threshold_intensity %x {threshold = 0.5} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @cast
func.func @cast(%x: tensor<2x3xf32>) -> tensor<2x3xi16> {
  // CHECK: med.cast %{{.*}} : tensor<2x3xf32> -> tensor<2x3xi16>
  %0 = med.cast %x : tensor<2x3xf32> -> tensor<2x3xi16>
  return %0 : tensor<2x3xi16>
}

// -----

// CHECK-LABEL: func @clip
func.func @clip(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // CHECK: med.clip %{{.*}} {max = 1.000000e+00 : f64, min = 0.000000e+00 : f64}
  %0 = med.clip %x {min = 0.0, max = 1.0} : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: med.clip %{{.*}} {max = 4.000000e+00 : f64} : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = med.clip %x {max = 4.0} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @dynamic_ops
func.func @dynamic_ops(%x: tensor<?xf32>, %a: f64, %v: f64, %i: index) -> tensor<?xf32> {
  // CHECK: med.shift_by %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32> -> tensor<?xf32>
  %0 = med.shift_by %x, %a, %v : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.scale_by %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32> -> tensor<?xf32>
  %1 = med.scale_by %0, %a, %v : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.adjust_contrast %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32> -> tensor<?xf32>
  %2 = med.adjust_contrast %1, %a, %v, %v, %v : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.gaussian_noise %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32> -> tensor<?xf32>
  %3 = med.gaussian_noise %2, %a, %v, %v, %v, %v, %i : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.histogram_shift %{{.*}}, %{{.*}}, %{{.*}}, (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}), %{{.*}}, %{{.*}} : tensor<?xf32> -> tensor<?xf32>
  %4 = med.histogram_shift %3, %a, %v, (%v, %v, %v, %v), %v, %v : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.rician_noise %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32> -> tensor<?xf32>
  %5 = med.rician_noise %4, %a, %v, %v, %v, %v, %v, %v, %v, %i : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.coarse_dropout %{{.*}}, (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}), %{{.*}} {dropout_holes, fill_range, spatial_rank = 2.000000e+00 : f64} : tensor<?xf32> -> tensor<?xf32>
  %6 = med.coarse_dropout %5, %a, %v, %v, %v, %v, %v, (%v, %v, %v, %v, %v, %v), %i {spatial_rank = 2.0 : f64, dropout_holes, fill_range} : tensor<?xf32> -> tensor<?xf32>
  return %6 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @stats_ops
func.func @stats_ops(%x: tensor<?xi16>, %a: f64, %b: f64) -> tensor<?xf32> {
  // CHECK: med.normalize %{{.*}}, %{{.*}}, %{{.*}} {nonzero} : tensor<?xi16> -> tensor<?xf32>
  %0 = med.normalize %x, %a, %b {nonzero} : tensor<?xi16> -> tensor<?xf32>
  // CHECK: med.scale_range_by %{{.*}}, %{{.*}}, %{{.*}} {b_max = 1.000000e+00 : f64, b_min = 0.000000e+00 : f64, clip} : tensor<?xf32> -> tensor<?xf32>
  %1 = med.scale_range_by %0, %a, %b {b_min = 0.0, b_max = 1.0, clip} : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.clip_by %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32> -> tensor<?xf32>
  %2 = med.clip_by %1, %a, %b : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.rescale_by %{{.*}}, %{{.*}}, %{{.*}} {maxv = 1.000000e+00 : f64, minv = 0.000000e+00 : f64} : tensor<?xf32> -> tensor<?xf32>
  %3 = med.rescale_by %2, %a, %b {minv = 0.0, maxv = 1.0} : tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.extrema %{{.*}} : tensor<?xf32> -> tensor<2xf64>
  %4 = med.extrema %3 : tensor<?xf32> -> tensor<2xf64>
  // CHECK: med.moments %{{.*}} {nonzero} : tensor<?xi16> -> tensor<3xf64>
  %5 = med.moments %x {nonzero} : tensor<?xi16> -> tensor<3xf64>
  return %3 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @overlap_counts
func.func @overlap_counts(%p: tensor<?xui8>, %y: tensor<?xui8>) -> tensor<4xf64> {
  // CHECK: med.overlap_counts %{{.*}}, %{{.*}} {binary} : tensor<?xui8>, tensor<?xui8> -> tensor<4xf64>
  %0 = med.overlap_counts %p, %y {binary} : tensor<?xui8>, tensor<?xui8> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// CHECK-LABEL: func @loss_ops
func.func @loss_ops(%x: tensor<?xf32>, %t: tensor<?xf32>, %a: f64) -> tensor<?xf32> {
  // CHECK: med.dice_sums %{{.*}}, %{{.*}} {sigmoid, squared} : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
  %0 = med.dice_sums %x, %t {sigmoid, squared} : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
  // CHECK: med.dice_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {sigmoid} : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  %1 = med.dice_grad %x, %t, %a, %a {sigmoid} : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  return %1 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @error_sums
func.func @error_sums(%p: tensor<?xf64>, %y: tensor<?xf64>) -> tensor<2xf64> {
  // CHECK: med.error_sums %{{.*}}, %{{.*}} : tensor<?xf64>, tensor<?xf64> -> tensor<2xf64>
  %0 = med.error_sums %p, %y : tensor<?xf64>, tensor<?xf64> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

// CHECK-LABEL: func @softmax_loss_ops
func.func @softmax_loss_ops(%x: tensor<3x?xf32>, %l: tensor<?xf32>, %t: tensor<3x?xf32>, %k: tensor<6xf64>) -> tensor<3x?xf32> {
  // CHECK: med.softmax_dice_sums %{{.*}}, %{{.*}} : tensor<3x?xf32>, tensor<?xf32> -> tensor<9xf64>
  %0 = med.softmax_dice_sums %x, %l : tensor<3x?xf32>, tensor<?xf32> -> tensor<9xf64>
  // CHECK: med.softmax_dice_sums %{{.*}}, %{{.*}} {squared} : tensor<3x?xf32>, tensor<3x?xf32> -> tensor<9xf64>
  %1 = med.softmax_dice_sums %x, %t {squared} : tensor<3x?xf32>, tensor<3x?xf32> -> tensor<9xf64>
  // CHECK: med.softmax_dice_grad %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x?xf32>, tensor<?xf32>, tensor<6xf64> -> tensor<3x?xf32>
  %2 = med.softmax_dice_grad %x, %l, %k : tensor<3x?xf32>, tensor<?xf32>, tensor<6xf64> -> tensor<3x?xf32>
  return %2 : tensor<3x?xf32>
}

// -----

// CHECK-LABEL: func @focal_ops
func.func @focal_ops(%x: tensor<?xf32>, %t: tensor<?xf32>, %g: f64, %a: f64, %k: f64) -> tensor<?xf32> {
  // CHECK: med.focal_sums %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  %0 = med.focal_sums %x, %t, %g : tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  // CHECK: med.focal_sums %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  %1 = med.focal_sums %x, %t, %g, %a : tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  // CHECK: med.focal_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  %2 = med.focal_grad %x, %t, %k, %g, %a : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  return %2 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @softmax_focal_ops
func.func @softmax_focal_ops(%x: tensor<3x?xf32>, %l: tensor<?xf32>, %t: tensor<3x?xf32>, %k: tensor<3xf64>, %g: f64) -> tensor<3x?xf32> {
  // CHECK: med.softmax_focal_sums %{{.*}}, %{{.*}}, %{{.*}} {first = 1 : i64} : tensor<3x?xf32>, tensor<?xf32> -> tensor<4xf64>
  %0 = med.softmax_focal_sums %x, %l, %g {first = 1} : tensor<3x?xf32>, tensor<?xf32> -> tensor<4xf64>
  // CHECK: med.softmax_focal_sums %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x?xf32>, tensor<3x?xf32> -> tensor<3xf64>
  %1 = med.softmax_focal_sums %x, %t, %g : tensor<3x?xf32>, tensor<3x?xf32> -> tensor<3xf64>
  // CHECK: med.softmax_focal_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  %2 = med.softmax_focal_grad %x, %l, %k, %g : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  return %2 : tensor<3x?xf32>
}

// -----

// CHECK-LABEL: func @wasserstein_ops
func.func @wasserstein_ops(%x: tensor<3x?xf32>, %l: tensor<?xf32>, %m: tensor<9xf64>) -> tensor<3x?xf32> {
  // CHECK: med.wasserstein_sums %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x?xf32>, tensor<?xf32>, tensor<9xf64> -> tensor<6xf64>
  %0 = med.wasserstein_sums %x, %l, %m : tensor<3x?xf32>, tensor<?xf32>, tensor<9xf64> -> tensor<6xf64>
  // CHECK: med.wasserstein_grad %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x?xf32>, tensor<?xf32>, tensor<9xf64> -> tensor<3x?xf32>
  %1 = med.wasserstein_grad %x, %l, %m : tensor<3x?xf32>, tensor<?xf32>, tensor<9xf64> -> tensor<3x?xf32>
  return %1 : tensor<3x?xf32>
}

// -----

// CHECK-LABEL: func @focal_terms_ops
func.func @focal_terms_ops(%x: tensor<?xf32>, %t: tensor<?xf32>, %u: tensor<?xf32>, %b: tensor<3x?xf32>, %l: tensor<?xf32>, %ub: tensor<3x?xf32>, %k: tensor<3xf64>, %c: f64, %g: f64, %a: f64) -> tensor<3x?xf32> {
  // CHECK: med.focal_terms %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  %0 = med.focal_terms %x, %t, %c, %g, %a : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.focal_terms_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  %1 = med.focal_terms_grad %x, %t, %u, %c, %g : tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  // CHECK: med.softmax_focal_terms %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {first = 1 : i64} : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  %2 = med.softmax_focal_terms %b, %l, %k, %g {first = 1} : tensor<3x?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  // CHECK: med.softmax_focal_terms_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x?xf32>, tensor<?xf32>, tensor<3x?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  %3 = med.softmax_focal_terms_grad %b, %l, %ub, %k, %g : tensor<3x?xf32>, tensor<?xf32>, tensor<3x?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  return %3 : tensor<3x?xf32>
}

// -----

// CHECK-LABEL: func @hausdorff_ops
func.func @hausdorff_ops(%x: tensor<?xf32>, %t: tensor<?xf32>, %fx: tensor<?xf32>, %ft: tensor<?xf32>, %k: f64, %a: f64) -> tensor<?xf32> {
  // CHECK: med.hausdorff_dt_sums %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  %0 = med.hausdorff_dt_sums %x, %t, %fx, %ft, %a : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  // CHECK: med.hausdorff_dt_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  %1 = med.hausdorff_dt_grad %x, %t, %fx, %ft, %k, %a : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  return %1 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @ddf_ops
func.func @ddf_ops(%x: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // CHECK: med.ddf_energy %{{.*}}[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {order = 2 : i64} : tensor<?xf32> -> tensor<?x?xf32>
  %0 = med.ddf_energy %x [%o, %r] (%a, %a, %a, %a, %a, %a) {order = 2} : tensor<?xf32> -> tensor<?x?xf32>
  // CHECK: med.ddf_energy_grad %{{.*}}[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {order = 1 : i64} : tensor<?xf32> -> tensor<?x?xf32>
  %1 = med.ddf_energy_grad %x [%o, %r] (%a, %a, %a, %a) {order = 1} : tensor<?xf32> -> tensor<?x?xf32>
  // CHECK: med.ddf_energy_weighted_grad %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}, %{{.*}}) {order = 1 : i64} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  %2 = med.ddf_energy_weighted_grad %x, %x [%o, %r] (%a, %a, %a) {order = 1} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %2 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func @lncc_ops
func.func @lncc_ops(%p: tensor<?xf32>, %t: tensor<?xf32>, %o: index, %r: index, %a: f64) -> tensor<?x?xf32> {
  // CHECK: med.lncc_map %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] ({{.*}}) {kernel_size = 3 : i64} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  %0 = med.lncc_map %p, %t [%o, %r] (%a, %a, %a, %a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  // CHECK: med.lncc_coefficients %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] ({{.*}}) {kernel_size = 3 : i64} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  %1:3 = med.lncc_coefficients %p, %t [%o, %r] (%a, %a, %a, %a, %a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  // CHECK: med.lncc_coefficients %{{.*}}, %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] ({{.*}}) {kernel_size = 3 : i64} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  %3:3 = med.lncc_coefficients %p, %t, %p [%o, %r] (%a, %a, %a, %a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  // CHECK: med.lncc_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] ({{.*}}) {kernel_size = 3 : i64}
  %2 = med.lncc_grad %p, %t, %p, %p, %p [%o, %r] (%a, %a, %a, %a) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %2 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func @ssim_ops
func.func @ssim_ops(%x: tensor<?xf64>, %y: tensor<?xf64>, %o: index, %r: index, %a: f64) -> tensor<?x?xf64> {
  // CHECK: med.ssim_pass %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] ({{.*}}) {axis = 0 : i64, first, kernel_size = 2 : i64} : tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  %f:5 = med.ssim_pass %x, %y [%o, %r] (%a, %a, %a, %a) {axis = 0, kernel_size = 2, first} : tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  // CHECK: med.ssim_pass {{.*}} {axis = 1 : i64, kernel_size = 2 : i64, last} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>
  %m:2 = med.ssim_pass %x, %y, %x, %y, %x [%o, %r] (%a, %a, %a, %a, %a, %a) {axis = 1, kernel_size = 2, last} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>
  // CHECK: med.ssim_pass {{.*}} {axis = 1 : i64, coefficients, kernel_size = 2 : i64, last} : {{.*}} -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  %c:3 = med.ssim_pass %x, %y, %x, %y, %x, %y [%o, %r] (%a, %a, %a, %a, %a, %a) {axis = 1, kernel_size = 2, last, coefficients} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  // CHECK: med.ssim_adjoint {{.*}} {axis = 1 : i64, kernel_size = 2 : i64} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  %d:3 = med.ssim_adjoint %x, %y, %x [%o, %r] (%a, %a, %a, %a) {axis = 1, kernel_size = 2} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  // CHECK: med.ssim_adjoint {{.*}} {axis = 0 : i64, kernel_size = 2 : i64, last} : {{.*}} -> tensor<?x?xf64>
  %g = med.ssim_adjoint %x, %y, %x, %x, %y [%o, %r] (%a, %a, %a, %a) {axis = 0, kernel_size = 2, last} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>
  return %g : tensor<?x?xf64>
}

// -----

// CHECK-LABEL: func @parzen_ops
func.func @parzen_ops(%x: tensor<?xf32>, %c: tensor<3xf64>, %j: tensor<9xf64>, %p: f64) -> (tensor<3x?xf32>, tensor<?xf32>) {
  // CHECK: med.parzen_sums %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<3xf64> -> tensor<?xf32>
  %s = med.parzen_sums %x, %c, %p : tensor<?xf32>, tensor<3xf64> -> tensor<?xf32>
  // CHECK: med.parzen_window %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  %w = med.parzen_window %x, %s, %c, %p : tensor<?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  // CHECK: med.parzen_window_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>, tensor<3xf64>, tensor<9xf64> -> tensor<?xf32>
  %g = med.parzen_window_grad %x, %x, %c, %j, %p : tensor<?xf32>, tensor<?xf32>, tensor<3xf64>, tensor<9xf64> -> tensor<?xf32>
  return %w, %g : tensor<3x?xf32>, tensor<?xf32>
}

// -----

// CHECK-LABEL: func @bspline_ops
func.func @bspline_ops(%x: tensor<?xf32>, %k: tensor<2xf64>, %j: tensor<36xf64>) -> (tensor<6x?xf32>, tensor<?xf32>) {
  // CHECK: med.bspline_sums %{{.*}}, %{{.*}} {bins = 6 : i64, order = 3 : i64} : tensor<?xf32>, tensor<2xf64> -> tensor<?xf32>
  %s = med.bspline_sums %x, %k {bins = 6 : i64, order = 3 : i64} : tensor<?xf32>, tensor<2xf64> -> tensor<?xf32>
  // CHECK: med.bspline_window %{{.*}}, %{{.*}}, %{{.*}} {order = 3 : i64} : tensor<?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<6x?xf32>
  %w = med.bspline_window %x, %s, %k {order = 3 : i64} : tensor<?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<6x?xf32>
  // CHECK: med.bspline_window_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>, tensor<2xf64>, tensor<2xf64>, tensor<36xf64> -> tensor<?xf32>
  %g = med.bspline_window_grad %x, %x, %k, %k, %j : tensor<?xf32>, tensor<?xf32>, tensor<2xf64>, tensor<2xf64>, tensor<36xf64> -> tensor<?xf32>
  return %w, %g : tensor<6x?xf32>, tensor<?xf32>
}

// CHECK-LABEL: func @filter_axis
func.func @filter_axis(%x: tensor<?xi16>, %i: index, %a: f64) -> tensor<?x?xf32> {
  // CHECK: med.filter_axis %{{.*}}[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {axis = 2.000000e+00 : f64, spatial_rank = 3.000000e+00 : f64} : tensor<?xi16> -> tensor<?x?xf32>
  %0 = med.filter_axis %x [%i, %i] (%a, %a, %a, %a, %a, %a) {axis = 2.0 : f64, spatial_rank = 3.0 : f64} : tensor<?xi16> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// CHECK-LABEL: func @bias_field
func.func @bias_field(%x: tensor<?xf32>, %i: index, %a: f64) -> tensor<?xf32> {
  // CHECK: med.bias_field %{{.*}}, (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}), %{{.*}} {degree = 1.000000e+00 : f64, spatial_rank = 2.000000e+00 : f64} : tensor<?xf32> -> tensor<?xf32>
  %0 = med.bias_field %x, (%a, %a, %a, %a, %a), %i {degree = 1.0 : f64, spatial_rank = 2.0 : f64} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
