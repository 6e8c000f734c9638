// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The displacement-field regularisers. Both kernels are one generic over a window of rows x row
// length whose reads sit at row base + column + a loop-invariant offset (one per distinct
// neighbour), so that LLVM sees consecutive loads along the row. med.ddf_energy forms MONAI's
// terms in the input type: ((x[+e] - x[-e]) / 2) r, squared, summed in axis order.
// med.ddf_energy_grad selects each stencil value by whether its centre is interior;
// med.ddf_energy_weighted_grad weighs each by the weight at its centre first.

// CHECK-LABEL: func @diffusion_2d
// CHECK-DAG:     %[[R0:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK-DAG:     %[[R1:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK:           %[[COL:.*]] = linalg.index 1 : index
// CHECK:           linalg.index 0 : index
// CHECK:           math.floor
// CHECK:           %[[BASE:.*]] = arith.addi %{{.*}}, %[[COL]] : index
// CHECK:           %[[A0:.*]] = arith.addi %[[BASE]], %{{.*}} : index
// CHECK:           %[[LO0:.*]] = tensor.extract %{{.*}}[%[[A0]]] : tensor<?xf32>
// CHECK:           %[[A1:.*]] = arith.addi %[[BASE]], %{{.*}} : index
// CHECK:           %[[HI0:.*]] = tensor.extract %{{.*}}[%[[A1]]] : tensor<?xf32>
// CHECK:           %[[D0:.*]] = arith.subf %[[HI0]], %[[LO0]] : f32
// CHECK:           %[[H0:.*]] = arith.divf %[[D0]], %{{.*}} : f32
// CHECK:           %[[G0:.*]] = arith.mulf %[[H0]], %[[R0]] : f32
// CHECK:           %[[S0:.*]] = arith.mulf %[[G0]], %[[G0]] : f32
// CHECK:           tensor.extract
// CHECK:           tensor.extract
// CHECK:           %[[G1:.*]] = arith.mulf %{{.*}}, %[[R1]] : f32
// CHECK:           %[[S1:.*]] = arith.mulf %[[G1]], %[[G1]] : f32
// CHECK:           %[[E:.*]] = arith.addf %[[S0]], %[[S1]] : f32
// CHECK:           linalg.yield %[[E]] : f32
// CHECK-NOT:       tensor.extract
func.func @diffusion_2d(%x: tensor<?xf32>, %off: index, %rows: index, %s0: f64, %s1: f64, %r0: f64, %r1: f64, %k0: f64, %k1: f64) -> tensor<?x?xf32> {
  %0 = med.ddf_energy %x [%off, %rows] (%s0, %s1, %r0, %r1, %k0, %k1) {order = 1} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Bending energy in 3-D reads 19 distinct neighbours once each (the centre, +-2 along each axis,
// and the four diagonal neighbours of each pair of axes); the mixed terms count twice.
// CHECK-LABEL: func @bending_3d
// CHECK:         linalg.generic
// CHECK-COUNT-19:  tensor.extract
// CHECK-NOT:       tensor.extract
// CHECK:           linalg.yield
func.func @bending_3d(%x: tensor<?xf64>, %off: index, %rows: index, %s: f64, %r: f64, %k: f64) -> tensor<?x?xf64> {
  %0 = med.ddf_energy %x [%off, %rows] (%s, %s, %s, %r, %r, %r, %k, %k, %k) {order = 2} : tensor<?xf64> -> tensor<?x?xf64>
  return %0 : tensor<?x?xf64>
}

// -----

// The gradient in 1-D: x sits after a pad of 2 elements (2 k times the strides' sum); A(u - e) =
// x[u] - x[u - 2] counts when u - 1 is interior, A(u + e) = x[u + 2] - x[u] when u + 1 is, with
// the opposite sign; the coefficient times 2 (r / 2)^2 scales the sum.
// CHECK-LABEL: func @diffusion_grad_1d
// CHECK:         linalg.generic
// CHECK:           %[[COL:.*]] = linalg.index 1 : index
// CHECK:           %[[BASE:.*]] = arith.addi %[[COL]], %{{.*}} : index
// CHECK:           tensor.extract %{{.*}}[%[[BASE]]] : tensor<?xf64>
// CHECK:           arith.cmpf ole
// CHECK:           arith.cmpf oge
// CHECK:           %[[IN0:.*]] = arith.andi
// CHECK:           arith.select %[[IN0]]
// CHECK:           arith.cmpf ole
// CHECK:           arith.cmpf oge
// CHECK:           %[[IN1:.*]] = arith.andi
// CHECK:           arith.select %[[IN1]]
// CHECK:           %[[SUM:.*]] = arith.addf
// CHECK:           %[[G:.*]] = arith.mulf %{{.*}}, %[[SUM]] : f64
// CHECK:           linalg.yield %[[G]] : f64
func.func @diffusion_grad_1d(%x: tensor<?xf64>, %off: index, %rows: index, %s0: f64, %r0: f64, %k0: f64, %c: f64) -> tensor<?x?xf64> {
  %0 = med.ddf_energy_grad %x [%off, %rows] (%s0, %r0, %k0, %c) {order = 1} : tensor<?xf64> -> tensor<?x?xf64>
  return %0 : tensor<?x?xf64>
}

// -----

// The weighted gradient in 1-D (reduction "none"): as above, each stencil value A(u - o_j)
// times the weight at u - o_j, read from the weights at the same base; no coefficient.
// CHECK-LABEL: func @diffusion_weighted_grad_1d
// CHECK:         linalg.generic
// CHECK:           %[[COL:.*]] = linalg.index 1 : index
// CHECK:           %[[BASE:.*]] = arith.addi %[[COL]], %{{.*}} : index
// CHECK:           tensor.extract %arg0[%[[BASE]]] : tensor<?xf64>
// CHECK:           %[[W0:.*]] = tensor.extract %arg1[%{{.*}}] : tensor<?xf64>
// CHECK:           %[[A0:.*]] = arith.mulf %{{.*}}, %[[W0]] : f64
// CHECK:           %[[IN0:.*]] = arith.andi
// CHECK:           arith.select %[[IN0]], %[[A0]]
// CHECK:           %[[W1:.*]] = tensor.extract %arg1[%{{.*}}] : tensor<?xf64>
// CHECK:           %[[A1:.*]] = arith.mulf %{{.*}}, %[[W1]] : f64
// CHECK:           %[[IN1:.*]] = arith.andi
// CHECK:           arith.select %[[IN1]], %[[A1]]
// CHECK:           %[[SUM:.*]] = arith.addf
// CHECK:           %[[G:.*]] = arith.mulf %{{.*}}, %[[SUM]] : f64
// CHECK:           linalg.yield %[[G]] : f64
// CHECK-NOT:       tensor.extract %arg1
func.func @diffusion_weighted_grad_1d(%x: tensor<?xf64>, %w: tensor<?xf64>, %off: index, %rows: index, %s0: f64, %r0: f64, %k0: f64) -> tensor<?x?xf64> {
  %0 = med.ddf_energy_weighted_grad %x, %w [%off, %rows] (%s0, %r0, %k0) {order = 1} : tensor<?xf64>, tensor<?xf64> -> tensor<?x?xf64>
  return %0 : tensor<?x?xf64>
}
