// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The Wasserstein Dice kernels. med.wasserstein_sums: per voxel the softmax (exp of the logits
// less their largest, over their sum), the label's one-hot entries, the distance w through the
// matrix row the label picks, and per class the labelled voxels and t_k w, folded by groups of
// 64 x 16 voxels in the input type as med.dice_sums; the matrix is rounded to the input type
// once, outside the loops. med.wasserstein_grad: p_c (g_c - sum_j p_j g_j) voxel by voxel,
// g the coefficients' row of the voxel's class.

// CHECK-LABEL: func @wasserstein_sums
// CHECK-DAG:     %[[M1:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[M00:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[M01:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[M10:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[M11:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %{{.*}}:4 = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64x16xf32>, tensor<?x64x16xf32>, tensor<?x64x16xf32>)
// CHECK:         ^bb0(%[[X0:[a-z0-9_]+]]: f32, %[[X1:[a-z0-9_]+]]: f32, %[[L:[a-z0-9_]+]]: f32, %[[N0:[a-z0-9_]+]]: f32, %[[N1:[a-z0-9_]+]]: f32, %[[S0:[a-z0-9_]+]]: f32, %[[S1:[a-z0-9_]+]]: f32):
// CHECK-NOT:       f64
// CHECK:           %[[MAX:.*]] = arith.maximumf %[[X0]], %[[X1]] : f32
// CHECK:           %[[D0:.*]] = arith.subf %[[X0]], %[[MAX]] : f32
// CHECK:           %[[E0:.*]] = math.exp %[[D0]] : f32
// CHECK:           %[[D1:.*]] = arith.subf %[[X1]], %[[MAX]] : f32
// CHECK:           %[[E1:.*]] = math.exp %[[D1]] : f32
// CHECK:           %[[SUM:.*]] = arith.addf %[[E0]], %[[E1]] : f32
// CHECK:           %[[P0:.*]] = arith.divf %[[E0]], %[[SUM]] : f32
// CHECK:           %[[P1:.*]] = arith.divf %[[E1]], %[[SUM]] : f32
// CHECK:           %[[GT:.*]] = arith.cmpf ogt, %[[L]], %[[M1]] : f32
// CHECK:           %[[LT:.*]] = arith.cmpf olt, %[[L]], %[[ONE]] : f32
// CHECK:           %[[H0:.*]] = arith.andi %[[GT]], %[[LT]] : i1
// CHECK:           %[[T0:.*]] = arith.select %[[H0]], %[[ONE]], %[[ZERO]] : f32
// CHECK:           %[[GE:.*]] = arith.cmpf oge, %[[L]], %[[ONE]] : f32
// CHECK:           %[[LT2:.*]] = arith.cmpf olt, %[[L]], %[[TWO]] : f32
// CHECK:           %[[H1:.*]] = arith.andi %[[GE]], %[[LT2]] : i1
// CHECK:           %[[T1:.*]] = arith.select %[[H1]], %[[ONE]], %[[ZERO]] : f32
// CHECK:           %[[A:.*]] = arith.mulf %[[T0]], %[[M00]] : f32
// CHECK:           %[[B:.*]] = arith.mulf %[[T1]], %[[M10]] : f32
// CHECK:           %[[R0:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK:           %[[C:.*]] = arith.mulf %[[T0]], %[[M01]] : f32
// CHECK:           %[[D:.*]] = arith.mulf %[[T1]], %[[M11]] : f32
// CHECK:           %[[R1:.*]] = arith.addf %[[C]], %[[D]] : f32
// CHECK:           %[[W0:.*]] = arith.mulf %[[R0]], %[[P0]] : f32
// CHECK:           %[[W1:.*]] = arith.mulf %[[R1]], %[[P1]] : f32
// CHECK:           %[[W:.*]] = arith.addf %[[W0]], %[[W1]] : f32
// CHECK:           %[[TW0:.*]] = arith.mulf %[[T0]], %[[W]] : f32
// CHECK:           %[[TW1:.*]] = arith.mulf %[[T1]], %[[W]] : f32
// CHECK:           %[[O0:.*]] = arith.addf %[[N0]], %[[T0]] : f32
// CHECK:           %[[O1:.*]] = arith.addf %[[N1]], %[[T1]] : f32
// CHECK:           %[[O2:.*]] = arith.addf %[[S0]], %[[TW0]] : f32
// CHECK:           %[[O3:.*]] = arith.addf %[[S1]], %[[TW1]] : f32
// CHECK:           linalg.yield %[[O0]], %[[O1]], %[[O2]], %[[O3]] : f32, f32, f32, f32
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4xf64>
func.func @wasserstein_sums(%x: tensor<2x?xf32>, %t: tensor<?xf32>, %m: tensor<4xf64>) -> tensor<4xf64> {
  %0 = med.wasserstein_sums %x, %t, %m : tensor<2x?xf32>, tensor<?xf32>, tensor<4xf64> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// f64: the coefficients are used as they are; one loop over the voxels inserts both channels.
// CHECK-LABEL: func @wasserstein_grad
// CHECK-NOT:     arith.truncf
// CHECK:         scf.for
// CHECK:           %[[P0:.*]] = arith.divf %{{.*}}, %[[SUM:.*]] : f64
// CHECK:           %[[P1:.*]] = arith.divf %{{.*}}, %[[SUM]] : f64
// CHECK:           %[[G0:.*]] = arith.addf %{{.*}}, %{{.*}} : f64
// CHECK:           %[[G1:.*]] = arith.addf %{{.*}}, %{{.*}} : f64
// CHECK:           %[[Q0:.*]] = arith.mulf %[[P0]], %[[G0]] : f64
// CHECK:           %[[Q1:.*]] = arith.mulf %[[P1]], %[[G1]] : f64
// CHECK:           %[[MEAN:.*]] = arith.addf %[[Q0]], %[[Q1]] : f64
// CHECK:           %[[U0:.*]] = arith.subf %[[G0]], %[[MEAN]] : f64
// CHECK:           %[[R0:.*]] = arith.mulf %[[P0]], %[[U0]] : f64
// CHECK:           %[[U1:.*]] = arith.subf %[[G1]], %[[MEAN]] : f64
// CHECK:           %[[R1:.*]] = arith.mulf %[[P1]], %[[U1]] : f64
// CHECK:           tensor.insert %[[R0]]
// CHECK:           tensor.insert %[[R1]]
func.func @wasserstein_grad(%x: tensor<2x?xf64>, %t: tensor<?xf64>, %k: tensor<4xf64>) -> tensor<2x?xf64> {
  %0 = med.wasserstein_grad %x, %t, %k : tensor<2x?xf64>, tensor<?xf64>, tensor<4xf64> -> tensor<2x?xf64>
  return %0 : tensor<2x?xf64>
}
