// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The metrics' reductions. med.overlap_counts: both inputs viewed as rows of 16 lanes folded into
// four i32 accumulators per lane (overlap, |pred|, |target| added; the bad flag or-ed), then the
// tail and the lanes into i64 totals, widened to f64.

// CHECK-LABEL: func @counts_binary_f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [%{{.*}}, 16] : tensor<?xf32> into tensor<?x16xf32>
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [%{{.*}}, 16] : tensor<?xf32> into tensor<?x16xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<16xi32>, tensor<16xi32>, tensor<16xi32>, tensor<16xi32>)
// CHECK:         ^bb0(%[[P:.*]]: f32, %[[Y:.*]]: f32, %[[I:.*]]: i32, %[[NP:.*]]: i32, %[[NY:.*]]: i32, %[[BAD:.*]]: i32):
// CHECK-DAG:       %[[PIN:.*]] = arith.cmpf une, %[[P]], %[[ZERO]] : f32
// CHECK-DAG:       %[[YIN:.*]] = arith.cmpf une, %[[Y]], %[[ZERO]] : f32
// CHECK-DAG:       %[[PNOT1:.*]] = arith.cmpf une, %[[P]], %[[ONE]] : f32
// CHECK-DAG:       %[[YNOT1:.*]] = arith.cmpf une, %[[Y]], %[[ONE]] : f32
// CHECK:           %[[BOTH:.*]] = arith.andi %[[PIN]], %[[YIN]] : i1
// CHECK:           arith.extui %[[BOTH]] : i1 to i32
// CHECK:           arith.ori %[[BAD]], %{{.*}} : i32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>)
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>)
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<16xi32>, tensor<16xi32>, tensor<16xi32>, tensor<16xi32>)
// CHECK:           arith.extui %{{.*}} : i32 to i64
// CHECK-COUNT-4:   arith.uitofp %{{.*}} : i64 to f64
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4xf64>
func.func @counts_binary_f32(%p: tensor<?xf32>, %y: tensor<?xf32>) -> tensor<4xf64> {
  %0 = med.overlap_counts %p, %y {binary} : tensor<?xf32>, tensor<?xf32> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// Without `binary` only NaN is bad: an unordered self-compare.
// CHECK-LABEL: func @counts_flag_nan_f64
// CHECK:         ^bb0(%[[P:.*]]: f64, %[[Y:.*]]: f64, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32):
// CHECK-DAG:       arith.cmpf uno, %[[P]], %[[P]] : f64
// CHECK-DAG:       arith.cmpf uno, %[[Y]], %[[Y]] : f64
func.func @counts_flag_nan_f64(%p: tensor<?xf64>, %y: tensor<?xf64>) -> tensor<4xf64> {
  %0 = med.overlap_counts %p, %y : tensor<?xf64>, tensor<?xf64> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// Unsigned masks are compared as signless integers; integers are never NaN, so without
// `binary` the flag is never raised.
// CHECK-LABEL: func @counts_ui8
// CHECK:         ^bb0(%{{.*}}: ui8, %{{.*}}: ui8, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %[[BAD:.*]]: i32):
// CHECK:           %[[P:.*]] = builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK:           arith.cmpi ne, %[[P]], %{{.*}} : i8
// CHECK-NOT:       arith.cmpf
// CHECK:           linalg.yield %{{.*}}, %{{.*}}, %{{.*}}, %[[BAD]] : i32, i32, i32, i32
func.func @counts_ui8(%p: tensor<?xui8>, %y: tensor<?xui8>) -> tensor<4xf64> {
  %0 = med.overlap_counts %p, %y : tensor<?xui8>, tensor<?xui8> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// med.error_sums: d = target - pred, d * d and |d| in the input type, widened to f64 lanes.
// CHECK-LABEL: func @error_sums_f32
// CHECK:         ^bb0(%[[P:.*]]: f32, %[[Y:.*]]: f32, %[[SQ:.*]]: f64, %[[AB:.*]]: f64):
// CHECK:           %[[D:.*]] = arith.subf %[[Y]], %[[P]] : f32
// CHECK:           %[[D2:.*]] = arith.mulf %[[D]], %[[D]] : f32
// CHECK:           %[[W:.*]] = arith.extf %[[D2]] : f32 to f64
// CHECK:           %[[A:.*]] = math.absf %[[D]] : f32
// CHECK:           %[[WA:.*]] = arith.extf %[[A]] : f32 to f64
// CHECK:           arith.addf %[[SQ]], %[[W]] : f64
// CHECK:           arith.addf %[[AB]], %[[WA]] : f64
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xf64>
func.func @error_sums_f32(%p: tensor<?xf32>, %y: tensor<?xf32>) -> tensor<2xf64> {
  %0 = med.error_sums %p, %y : tensor<?xf32>, tensor<?xf32> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}
