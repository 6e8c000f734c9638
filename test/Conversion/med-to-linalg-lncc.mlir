// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The LNCC kernels: the K^n window unrolled in one generic over a window of rows. Per offset, a
// bounds test of the neighbour (zero padding as a select), its p and t read once, and the five
// weighted terms p, t, p p, t t, t p added in window order; then MONAI's formula: the means,
// cross, the variances clamped by maximumf at smooth_dr, (cross^2 + nr) / (var_t var_p).

// CHECK-LABEL: func @lncc_map_1d
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK:           %[[COL:.*]] = linalg.index 1 : index
// CHECK:           %[[BASE:.*]] = arith.addi %[[COL]], %{{.*}} : index
// CHECK:           %[[OK:.*]] = arith.andi
// CHECK:           %[[PA:.*]] = arith.addi %[[BASE]], %[[OFF:.*]] : index
// CHECK:           %[[P:.*]] = tensor.extract %arg0[%[[PA]]] : tensor<?xf32>
// CHECK:           %[[TA:.*]] = arith.addi %[[BASE]], %[[OFF]] : index
// CHECK:           %[[T:.*]] = tensor.extract %arg1[%[[TA]]] : tensor<?xf32>
// CHECK:           %[[WP:.*]] = arith.mulf %{{.*}}, %[[P]] : f32
// CHECK:           arith.select %[[OK]], %[[WP]], %{{.*}} : f32
// CHECK:           %[[TP:.*]] = arith.mulf %[[T]], %[[P]] : f32
// CHECK-COUNT-4:   tensor.extract
// CHECK-NOT:       tensor.extract
// CHECK:           arith.maximumf
// CHECK:           arith.maximumf
// CHECK:           %[[NUM:.*]] = arith.addf %{{.*}}, %{{.*}} : f32
// CHECK:           %[[DEN:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:           %[[NCC:.*]] = arith.divf %[[NUM]], %[[DEN]] : f32
// CHECK:           linalg.yield %[[NCC]] : f32
func.func @lncc_map_1d(%p: tensor<?xf32>, %t: tensor<?xf32>, %off: index, %rows: index, %s0: f64, %w0: f64, %w1: f64, %w2: f64, %vol: f64, %nr: f64, %dr: f64) -> tensor<?x?xf32> {
  %0 = med.lncc_map %p, %t [%off, %rows] (%s0, %w0, %w1, %w2, %vol, %nr, %dr) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// The coefficients: one generic with three outputs (a_p, a_pp, a_pt); the clamp's derivative
// is 1 above smooth_dr, 1/2 at it, 0 below.
// CHECK-LABEL: func @lncc_coefficients_2d
// CHECK:         linalg.generic
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>)
// CHECK-COUNT-18:  tensor.extract
// CHECK-NOT:       tensor.extract
// CHECK-DAG:       arith.cmpf oeq
// CHECK-DAG:       arith.cmpf ogt
// CHECK:           linalg.yield %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64
func.func @lncc_coefficients_2d(%p: tensor<?xf64>, %t: tensor<?xf64>, %off: index, %rows: index, %s: f64, %w0: f64, %w1: f64, %w2: f64, %vol: f64, %nr: f64, %dr: f64, %g: f64) -> (tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %a:3 = med.lncc_coefficients %p, %t [%off, %rows] (%s, %s, %w0, %w1, %w2, %vol, %nr, %dr, %g) {kernel_size = 3} : tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  return %a#0, %a#1, %a#2 : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}

// -----

// Reduction "none"'s coefficients: g is read from the third input at the voxel itself (the
// window's centre offset), one read more than the 18 of the window sums; no coefficient arg.
// CHECK-LABEL: func @lncc_coefficients_per_voxel_2d
// CHECK:         linalg.generic
// CHECK-COUNT-18:  tensor.extract %arg{{[01]}}
// CHECK:           %[[G:.*]] = tensor.extract %arg2[%{{.*}}] : tensor<?xf64>
// CHECK-NOT:       tensor.extract
// CHECK:           arith.mulf %[[G]], %{{.*}} : f64
// CHECK:           linalg.yield %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64
func.func @lncc_coefficients_per_voxel_2d(%p: tensor<?xf64>, %t: tensor<?xf64>, %g: tensor<?xf64>, %off: index, %rows: index, %s: f64, %w0: f64, %w1: f64, %w2: f64, %vol: f64, %nr: f64, %dr: f64) -> (tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %a:3 = med.lncc_coefficients %p, %t, %g [%off, %rows] (%s, %s, %w0, %w1, %w2, %vol, %nr, %dr) {kernel_size = 3} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  return %a#0, %a#1, %a#2 : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}

// -----

// The gradient reads the three coefficient maps at the 9 voxels u - o (each kept when inside
// the image), then p and t at u: a_p + 2 p a_pp + t a_pt.
// CHECK-LABEL: func @lncc_grad_2d
// CHECK:         linalg.generic
// CHECK-COUNT-27:  tensor.extract %{{.*}}[%{{.*}}] : tensor<?xf32>
// CHECK:           %[[P:.*]] = tensor.extract %arg0
// CHECK:           %[[TWOP:.*]] = arith.mulf %[[P]], %{{.*}} : f32
// CHECK:           %[[T:.*]] = tensor.extract %arg1
// CHECK-NOT:       tensor.extract
// CHECK:           linalg.yield
func.func @lncc_grad_2d(%p: tensor<?xf32>, %t: tensor<?xf32>, %a: tensor<?xf32>, %b: tensor<?xf32>, %c: tensor<?xf32>, %off: index, %rows: index, %s: f64, %w0: f64, %w1: f64, %w2: f64) -> tensor<?x?xf32> {
  %0 = med.lncc_grad %p, %t, %a, %b, %c [%off, %rows] (%s, %s, %w0, %w1, %w2) {kernel_size = 3} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
