// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// SSIM's window passes: one generic over a window of rows of the pass's output grid (the valid
// window shortens the pass's axis by K - 1), reading the K taps along the axis at loop-invariant
// offsets with no bounds tests, and adding the K weighted terms of each of the five fields in
// tap order. The first pass forms x x, y y, x y from its two inputs; the last ends with SSIM's
// formula and yields (ssim, cs), or with `coefficients` SSIM's derivatives times G. The
// adjoint (med.ssim_adjoint) is the same valid window over padded fields.

// CHECK-LABEL: func @ssim_first_2d
// CHECK:         %[[ROWS:.*]] = arith.subf %arg4, %{{.*}} : f64
// CHECK:         %[[W0:.*]] = arith.truncf %arg6 : f64 to f32
// CHECK:         %[[OUT:.*]] = tensor.empty(%arg3, %{{.*}}) : tensor<?x?xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK-SAME:      outs(%[[OUT]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK-NOT:       arith.select
// CHECK:           %[[BASE:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK:           %[[X:.*]] = tensor.extract %arg0[%[[BASE]]] : tensor<?xf32>
// CHECK:           %[[Y:.*]] = tensor.extract %arg1[%[[BASE]]] : tensor<?xf32>
// CHECK:           %[[XX:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK:           %[[YY:.*]] = arith.mulf %[[Y]], %[[Y]] : f32
// CHECK:           %[[XY:.*]] = arith.mulf %[[X]], %[[Y]] : f32
// CHECK:           %[[MX:.*]] = arith.mulf %[[W0]], %[[X]] : f32
// CHECK-COUNT-4:   tensor.extract
// CHECK-NOT:       tensor.extract
// CHECK-NOT:       arith.divf
// CHECK:           linalg.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32, f32, f32
func.func @ssim_first_2d(%x: tensor<?xf32>, %y: tensor<?xf32>, %off: index, %rows: index, %s0: f64, %s1: f64, %w0: f64, %w1: f64, %w2: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %f:5 = med.ssim_pass %x, %y [%off, %rows] (%s0, %s1, %w0, %w1, %w2) {axis = 0, kernel_size = 3, first} : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %f#0, %f#1, %f#2, %f#3, %f#4 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// The last pass along the last axis: rows of S_1 - K + 1 voxels; the five fields read at the
// two taps, then cs = (2 sxy + c2) / (sx + sy + c2) and ssim = luminance * cs.
// CHECK-LABEL: func @ssim_last_2d
// CHECK:         %[[LEN:.*]] = arith.subf %arg8, %{{.*}} : f64
// CHECK:         linalg.generic
// CHECK-SAME:      outs(%{{.*}}, %{{.*}} : tensor<?x?xf64>, tensor<?x?xf64>)
// CHECK-COUNT-10:  tensor.extract
// CHECK-NOT:       tensor.extract
// CHECK:           %[[CSDEN:.*]] = arith.addf %{{.*}}, %arg12 : f64
// CHECK:           %[[TWOSXY:.*]] = arith.mulf %{{.*}}, %cst : f64
// CHECK:           %[[CSNUM:.*]] = arith.addf %[[TWOSXY]], %arg12 : f64
// CHECK:           %[[CS:.*]] = arith.divf %[[CSNUM]], %[[CSDEN]] : f64
// CHECK:           %[[LDEN:.*]] = arith.addf %{{.*}}, %arg11 : f64
// CHECK:           %[[LNUM:.*]] = arith.addf %{{.*}}, %arg11 : f64
// CHECK:           %[[LUM:.*]] = arith.divf %[[LNUM]], %[[LDEN]] : f64
// CHECK:           %[[SSIM:.*]] = arith.mulf %[[LUM]], %[[CS]] : f64
// CHECK:           linalg.yield %[[SSIM]], %[[CS]] : f64, f64
func.func @ssim_last_2d(%a: tensor<?xf64>, %b: tensor<?xf64>, %c: tensor<?xf64>, %d: tensor<?xf64>, %e: tensor<?xf64>, %off: index, %rows: index, %s0: f64, %s1: f64, %w0: f64, %w1: f64, %c1: f64, %c2: f64) -> (tensor<?x?xf64>, tensor<?x?xf64>) {
  %m:2 = med.ssim_pass %a, %b, %c, %d, %e [%off, %rows] (%s0, %s1, %w0, %w1, %c1, %c2) {axis = 1, kernel_size = 2, last} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>
  return %m#0, %m#1 : tensor<?x?xf64>, tensor<?x?xf64>
}

// -----

// A middle pass of a 3D window (neither first nor last): five fields in, five out, 5 x 2 reads.
// CHECK-LABEL: func @ssim_middle_3d
// CHECK:         linalg.generic
// CHECK-COUNT-10:  tensor.extract
// CHECK-NOT:       tensor.extract
// CHECK-NOT:       arith.divf
// CHECK:           linalg.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32, f32, f32
func.func @ssim_middle_3d(%a: tensor<?xf32>, %off: index, %rows: index, %s: f64, %w0: f64, %w1: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %f:5 = med.ssim_pass %a, %a, %a, %a, %a [%off, %rows] (%s, %s, %s, %w0, %w1) {axis = 1, kernel_size = 2} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %f#0, %f#1, %f#2, %f#3, %f#4 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// The backward's last forward pass: the five fields at the two taps, then G read once on the
// output grid (its own row base), and SSIM's derivatives by m_x, m_xx, m_xy times G.
// CHECK-LABEL: func @ssim_coefficients_2d
// CHECK:         linalg.generic
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
// CHECK-COUNT-10:  tensor.extract %arg0
// CHECK:           %[[G:.*]] = tensor.extract %arg1
// CHECK-NOT:       tensor.extract
// CHECK:           %[[GL:.*]] = arith.mulf %[[G]], %{{.*}} : f32
// CHECK:           %[[AX:.*]] = arith.mulf %[[G]], %{{.*}} : f32
// CHECK:           %[[XXN:.*]] = arith.divf %{{.*}}, %[[B2:.*]] : f32
// CHECK:           %[[AXX:.*]] = arith.negf %[[XXN]] : f32
// CHECK:           %[[TWOGL:.*]] = arith.mulf %[[GL]], %cst : f32
// CHECK:           %[[AXY:.*]] = arith.divf %[[TWOGL]], %[[B2]] : f32
// CHECK:           linalg.yield %[[AX]], %[[AXX]], %[[AXY]] : f32, f32, f32
func.func @ssim_coefficients_2d(%a: tensor<?xf32>, %g: tensor<?xf32>, %off: index, %rows: index, %s0: f64, %s1: f64, %w0: f64, %w1: f64, %c1: f64, %c2: f64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %a3:3 = med.ssim_pass %a, %a, %a, %a, %a, %g [%off, %rows] (%s0, %s1, %w0, %w1, %c1, %c2) {axis = 1, kernel_size = 2, last, coefficients} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
  return %a3#0, %a3#1, %a3#2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// The adjoint's middle pass: three padded fields in and out, a valid window along the axis.
// CHECK-LABEL: func @ssim_adjoint_3d
// CHECK:         linalg.generic
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>)
// CHECK-COUNT-9:   tensor.extract
// CHECK-NOT:       tensor.extract
// CHECK:           linalg.yield %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64
func.func @ssim_adjoint_3d(%a: tensor<?xf64>, %off: index, %rows: index, %s: f64, %w0: f64, %w1: f64, %w2: f64) -> (tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %f:3 = med.ssim_adjoint %a, %a, %a [%off, %rows] (%s, %s, %s, %w0, %w1, %w2) {axis = 2, kernel_size = 3} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  return %f#0, %f#1, %f#2 : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}

// -----

// The adjoint's last pass (axis 0): the three fields at the two taps, then x and y at the
// voxel's own base, and a_x + 2 x a_xx + y a_xy.
// CHECK-LABEL: func @ssim_adjoint_last_2d
// CHECK:         linalg.generic
// CHECK:           %[[BASE:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK:           %[[A:.*]] = tensor.extract %arg0[%[[BASE]]] : tensor<?xf32>
// CHECK-COUNT-5:   tensor.extract %arg{{[0-2]}}
// CHECK:           %[[X:.*]] = tensor.extract %arg3[%[[BASE]]] : tensor<?xf32>
// CHECK:           %[[Y:.*]] = tensor.extract %arg4[%[[BASE]]] : tensor<?xf32>
// CHECK:           %[[TWOX:.*]] = arith.mulf %[[X]], %cst : f32
// CHECK:           %[[YC:.*]] = arith.mulf %[[Y]], %[[C:.*]] : f32
// CHECK:           %[[XB:.*]] = arith.mulf %[[TWOX]], %[[B:.*]] : f32
// CHECK:           %[[S:.*]] = arith.addf %{{.*}}, %[[XB]] : f32
// CHECK:           %[[GRAD:.*]] = arith.addf %[[S]], %[[YC]] : f32
// CHECK:           linalg.yield %[[GRAD]] : f32
func.func @ssim_adjoint_last_2d(%a: tensor<?xf32>, %b: tensor<?xf32>, %c: tensor<?xf32>, %x: tensor<?xf32>, %y: tensor<?xf32>, %off: index, %rows: index, %s0: f64, %s1: f64, %w1: f64, %w0: f64) -> tensor<?x?xf32> {
  %g = med.ssim_adjoint %a, %b, %c, %x, %y [%off, %rows] (%s0, %s1, %w1, %w0) {axis = 0, kernel_size = 2, last} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
  return %g : tensor<?x?xf32>
}
