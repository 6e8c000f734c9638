// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The loss kernels. med.dice_sums: products in the input type, widened and added into three
// f64 accumulators per lane (16 lanes), then the tail and the lanes. med.dice_grad: one
// elementwise map over input and target with the two coefficients rounded to the input type.

// CHECK-LABEL: func @dice_sums_sigmoid_f32
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [%{{.*}}, 16] : tensor<?xf32> into tensor<?x16xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<16xf64>, tensor<16xf64>, tensor<16xf64>)
// CHECK:         ^bb0(%[[X:.*]]: f32, %[[T:.*]]: f32, %[[I:.*]]: f64, %[[P:.*]]: f64, %[[G:.*]]: f64):
// CHECK:           %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK:           %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK:           %[[DEN:.*]] = arith.addf %[[E]], %{{.*}} : f32
// CHECK:           %[[S:.*]] = arith.divf %{{.*}}, %[[DEN]] : f32
// CHECK:           %[[PT:.*]] = arith.mulf %[[S]], %[[T]] : f32
// CHECK:           %[[PT64:.*]] = arith.extf %[[PT]] : f32 to f64
// CHECK:           arith.addf %[[I]], %[[PT64]] : f64
// CHECK:           %[[S64:.*]] = arith.extf %[[S]] : f32 to f64
// CHECK:           arith.addf %[[P]], %[[S64]] : f64
// CHECK:           %[[T64:.*]] = arith.extf %[[T]] : f32 to f64
// CHECK:           arith.addf %[[G]], %[[T64]] : f64
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>)
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<f64>, tensor<f64>, tensor<f64>)
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<16xf64>, tensor<16xf64>, tensor<16xf64>)
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}}, %{{.*}} : tensor<3xf64>
func.func @dice_sums_sigmoid_f32(%x: tensor<?xf32>, %t: tensor<?xf32>) -> tensor<3xf64> {
  %0 = med.dice_sums %x, %t {sigmoid} : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

// squared_pred: p * p and t * t; f64 needs no widening.
// CHECK-LABEL: func @dice_sums_squared_f64
// CHECK:         ^bb0(%[[X:.*]]: f64, %[[T:.*]]: f64, %{{.*}}: f64, %{{.*}}: f64, %{{.*}}: f64):
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
