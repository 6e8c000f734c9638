// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The loss kernels. med.dice_sums: whole groups of 64 x 16 elements folded per group and lane
// in the input type (products and sums, no f64 in that loop), then the group partials and the
// elements after the last group through 16-lane f64 folds. med.dice_grad: one elementwise map
// over input and target with the two coefficients rounded to the input type.

// CHECK-LABEL: func @dice_sums_sigmoid_f32
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0, 1, 2]] output_shape [%{{.*}}, 64, 16] : tensor<?xf32> into tensor<?x64x16xf32>
// CHECK:         %[[PART:.*]]:3 = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>)
// CHECK:         ^bb0(%[[X:[a-z0-9_]+]]: f32, %[[T:[a-z0-9_]+]]: f32, %[[I:[a-z0-9_]+]]: f32, %[[P:[a-z0-9_]+]]: f32, %[[G:[a-z0-9_]+]]: f32):
// CHECK:           %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK:           %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK:           %[[DEN:.*]] = arith.addf %[[E]], %{{.*}} : f32
// CHECK:           %[[S:.*]] = arith.divf %{{.*}}, %[[DEN]] : f32
// CHECK:           %[[PT:.*]] = arith.mulf %[[S]], %[[T]] : f32
// CHECK:           arith.addf %[[I]], %[[PT]] : f32
// CHECK:           arith.addf %[[P]], %[[S]] : f32
// CHECK:           arith.addf %[[G]], %[[T]] : f32
// CHECK:         tensor.collapse_shape %[[PART]]#0 {{\[}}[0, 1]] : tensor<?x16xf32> into tensor<?xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<16xf64>, tensor<16xf64>, tensor<16xf64>)
// CHECK:           arith.extf %{{.*}} : f32 to f64
// The elements after the last group: the sigmoid again, then straight into f64.
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<f64>, tensor<f64>, tensor<f64>)
// CHECK:           math.exp
// CHECK:           arith.extf %{{.*}} : f32 to f64
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}}, %{{.*}} : tensor<3xf64>
func.func @dice_sums_sigmoid_f32(%x: tensor<?xf32>, %t: tensor<?xf32>) -> tensor<3xf64> {
  %0 = med.dice_sums %x, %t {sigmoid} : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

// squared_pred: p * p and t * t; f64 needs no widening.
// CHECK-LABEL: func @dice_sums_squared_f64
// CHECK:         ^bb0(%[[X:[a-z0-9_]+]]: f64, %[[T:[a-z0-9_]+]]: f64, %{{[a-z0-9_]+}}: f64, %{{[a-z0-9_]+}}: f64, %{{[a-z0-9_]+}}: f64):
// CHECK-NOT:       math.exp
// CHECK:           arith.mulf %[[X]], %[[T]] : f64
// CHECK:           arith.mulf %[[X]], %[[X]] : f64
// CHECK:           arith.mulf %[[T]], %[[T]] : f64
// CHECK-NOT:       arith.extf
// CHECK:           linalg.yield
func.func @dice_sums_squared_f64(%x: tensor<?xf64>, %t: tensor<?xf64>) -> tensor<3xf64> {
  %0 = med.dice_sums %x, %t {squared} : tensor<?xf64>, tensor<?xf64> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

// CHECK-LABEL: func @dice_grad_sigmoid_squared
// CHECK-DAG:     %[[DI:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK-DAG:     %[[DP:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>)
// CHECK:         ^bb0(%[[X:.*]]: f32, %[[T:.*]]: f32, %{{.*}}: f32):
// CHECK:           %[[S:.*]] = arith.divf
// CHECK:           %[[TWO:.*]] = arith.addf %[[S]], %[[S]] : f32
// CHECK:           %[[B:.*]] = arith.mulf %[[DP]], %[[TWO]] : f32
// CHECK:           %[[A:.*]] = arith.mulf %[[DI]], %[[T]] : f32
// CHECK:           %[[G:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK:           %[[Q:.*]] = arith.subf %{{.*}}, %[[S]] : f32
// CHECK:           %[[SLOPE:.*]] = arith.mulf %[[S]], %[[Q]] : f32
// CHECK:           %[[R:.*]] = arith.mulf %[[G]], %[[SLOPE]] : f32
// CHECK:           linalg.yield %[[R]] : f32
func.func @dice_grad_sigmoid_squared(%x: tensor<?xf32>, %t: tensor<?xf32>, %di: f64, %dp: f64) -> tensor<?xf32> {
  %0 = med.dice_grad %x, %t, %di, %dp {sigmoid, squared} : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// The softmax forms read a (channels x voxels) block as rows. Sums: whole groups of 64 x 16
// voxels of every row and of the label map are folded first, per group and lane, in the input
// type (no f64 in that loop); per voxel the softmax subtracts the largest logit, and a label v
// is class trunc(v) (MONAI's one_hot): class 0 when -1 < v < 1, class c > 0 when
// c <= v < c + 1. The group partials and the voxels after the last group then go through
// 16-lane f64 folds.
// CHECK-LABEL: func @softmax_dice_sums_labels
// CHECK-DAG:     %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG:     %[[M1:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[SPAN:.*]] = arith.constant 1024 : index
// CHECK:         tensor.extract_slice %{{.*}}[0, 0] [1, %{{.*}}] [1, 1] : tensor<2x?xf32> to tensor<?xf32>
// CHECK:         tensor.extract_slice %{{.*}}[1, 0] [1, %{{.*}}] [1, 1] : tensor<2x?xf32> to tensor<?xf32>
// CHECK:         %[[GROUPS:.*]] = arith.divui %{{.*}}, %[[SPAN]] : index
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0, 1, 2]] output_shape [%[[GROUPS]], 64, 16] : tensor<?xf32> into tensor<?x64x16xf32>
// CHECK:         %[[PART:.*]]:6 = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64x16xf32>, tensor<?x64x16xf32>, tensor<?x64x16xf32>)
// CHECK-SAME:      outs({{.*}} : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>)
// CHECK:         ^bb0(%[[X0:[a-z0-9_]+]]: f32, %[[X1:[a-z0-9_]+]]: f32, %[[L:[a-z0-9_]+]]: f32, %[[I0:[a-z0-9_]+]]: f32, %{{[a-z0-9_]+}}: f32, %[[P0:[a-z0-9_]+]]: f32, %{{[a-z0-9_]+}}: f32, %[[G0:[a-z0-9_]+]]: f32, %{{[a-z0-9_]+}}: f32):
// CHECK-NOT:       f64
// CHECK:           %[[M:.*]] = arith.maximumf %[[X0]], %[[X1]] : f32
// CHECK:           %[[D0:.*]] = arith.subf %[[X0]], %[[M]] : f32
// CHECK:           %[[E0:.*]] = math.exp %[[D0]] : f32
// CHECK:           %[[D1:.*]] = arith.subf %[[X1]], %[[M]] : f32
// CHECK:           %[[E1:.*]] = math.exp %[[D1]] : f32
// CHECK:           %[[S:.*]] = arith.addf %[[E0]], %[[E1]] : f32
// CHECK:           %[[Q0:.*]] = arith.divf %[[E0]], %[[S]] : f32
// CHECK:           arith.divf %[[E1]], %[[S]] : f32
// CHECK:           %[[A0:.*]] = arith.cmpf ogt, %[[L]], %[[M1]] : f32
// CHECK:           %[[B0:.*]] = arith.cmpf olt, %[[L]], %[[ONE]] : f32
// CHECK:           %[[H0:.*]] = arith.andi %[[A0]], %[[B0]] : i1
// CHECK:           %[[T0:.*]] = arith.select %[[H0]], %[[ONE]], %[[ZERO]] : f32
// CHECK:           arith.cmpf oge, %[[L]], %[[ONE]] : f32
// CHECK:           arith.cmpf olt, %[[L]], %[[TWO]] : f32
// CHECK:           %[[PT:.*]] = arith.mulf %[[Q0]], %[[T0]] : f32
// CHECK-NOT:       f64
// CHECK:           arith.addf %[[I0]], %[[PT]] : f32
// CHECK:           arith.addf %[[P0]], %[[Q0]] : f32
// CHECK:           arith.addf %[[G0]], %[[T0]] : f32
// CHECK:         tensor.collapse_shape %[[PART]]#0 {{\[}}[0, 1]] : tensor<?x16xf32> into tensor<?xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK-SAME:      outs({{.*}} : tensor<16xf64>, tensor<16xf64>, tensor<16xf64>, tensor<16xf64>, tensor<16xf64>, tensor<16xf64>)
// CHECK:           arith.extf %{{.*}} : f32 to f64
// CHECK:         tensor.from_elements {{.*}} : tensor<6xf64>
func.func @softmax_dice_sums_labels(%x: tensor<2x?xf32>, %t: tensor<?xf32>) -> tensor<6xf64> {
  %0 = med.softmax_dice_sums %x, %t : tensor<2x?xf32>, tensor<?xf32> -> tensor<6xf64>
  return %0 : tensor<6xf64>
}

// -----

// Per-class targets: the target rows join the logit rows; squared sums p p and t t.
// CHECK-LABEL: func @softmax_dice_sums_targets_squared
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64x16xf64>, tensor<?x64x16xf64>, tensor<?x64x16xf64>, tensor<?x64x16xf64>)
// CHECK:         ^bb0(%{{[a-z0-9_]+}}: f64, %{{[a-z0-9_]+}}: f64, %[[T0:[a-z0-9_]+]]: f64, %{{[a-z0-9_]+}}: f64,
// CHECK-NOT:       arith.cmpf
// CHECK:           %[[Q0:.*]] = arith.divf
// CHECK:           arith.divf
// CHECK:           arith.mulf %[[Q0]], %[[T0]] : f64
// CHECK:           arith.mulf %[[Q0]], %[[Q0]] : f64
// CHECK:           arith.mulf %[[T0]], %[[T0]] : f64
// CHECK:         tensor.from_elements {{.*}} : tensor<6xf64>
func.func @softmax_dice_sums_targets_squared(%x: tensor<2x?xf64>, %t: tensor<2x?xf64>) -> tensor<6xf64> {
  %0 = med.softmax_dice_sums %x, %t {squared} : tensor<2x?xf64>, tensor<2x?xf64> -> tensor<6xf64>
  return %0 : tensor<6xf64>
}

// -----

// The gradient: the coefficients rounded to the input type once, then one loop over the voxels
// that inserts p_c (g_c - sum_k p_k g_k) for every channel into the (C x n) result.
// CHECK-LABEL: func @softmax_dice_grad_labels
// CHECK-COUNT-4: arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<2x?xf32>
// CHECK:         scf.for %[[V:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (tensor<2x?xf32>)
// CHECK:           tensor.extract %{{.*}}[%{{.*}}, %[[V]]] : tensor<2x?xf32>
// CHECK:           tensor.extract %{{.*}}[%{{.*}}, %[[V]]] : tensor<2x?xf32>
// CHECK:           tensor.extract %{{.*}}[%[[V]]] : tensor<?xf32>
// CHECK:           %[[Q0:.*]] = arith.divf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:      %[[Q1:.*]] = arith.divf %{{.*}}, %{{.*}} : f32
// CHECK:           %[[PG0:.*]] = arith.mulf %[[Q0]], %{{.*}} : f32
// CHECK:           %[[PG1:.*]] = arith.mulf %[[Q1]], %{{.*}} : f32
// CHECK-NEXT:      %[[DOT:.*]] = arith.addf %[[PG0]], %[[PG1]] : f32
// CHECK-NEXT:      %[[R0:.*]] = arith.subf %{{.*}}, %[[DOT]] : f32
// CHECK-NEXT:      %[[G0:.*]] = arith.mulf %[[Q0]], %[[R0]] : f32
// CHECK-NEXT:      %[[R1:.*]] = arith.subf %{{.*}}, %[[DOT]] : f32
// CHECK-NEXT:      %[[G1:.*]] = arith.mulf %[[Q1]], %[[R1]] : f32
// CHECK-NEXT:      %[[A1:.*]] = tensor.insert %[[G0]] into %[[ACC]][%{{.*}}, %[[V]]] : tensor<2x?xf32>
// CHECK-NEXT:      %[[A2:.*]] = tensor.insert %[[G1]] into %[[A1]][%{{.*}}, %[[V]]] : tensor<2x?xf32>
// CHECK:           scf.yield %[[A2]] : tensor<2x?xf32>
func.func @softmax_dice_grad_labels(%x: tensor<2x?xf32>, %t: tensor<?xf32>, %k: tensor<4xf64>) -> tensor<2x?xf32> {
  %0 = med.softmax_dice_grad %x, %t, %k : tensor<2x?xf32>, tensor<?xf32>, tensor<4xf64> -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}
