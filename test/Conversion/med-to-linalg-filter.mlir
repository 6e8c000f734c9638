// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// med.filter_axis: one generic over the output window; per tap an inside test, an offset chosen
// by it (0 outside, so the read stays in the buffer) and a select that drops outside or
// zero-weight taps from the sum.

// CHECK-LABEL: func @outer_axis_3d
// CHECK:         %[[EMPTY:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf32>
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} outs(%[[EMPTY]] : tensor<?x?xf32>)
// The position along axis 0 comes from the row alone.
// CHECK:           arith.divui
// CHECK:           arith.remui
// CHECK-COUNT-3:   tensor.extract %{{.*}}[%{{.*}}] : tensor<?xi16>
// CHECK:           linalg.yield %{{.*}} : f32
func.func @outer_axis_3d(%x: tensor<?xi16>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.filter_axis %x [%off, %rows] (%a, %a, %a, %a, %a, %a) {axis = 0.0 : f64, spatial_rank = 3.0 : f64} : tensor<?xi16> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Along the innermost axis the position is the column: no division.
// CHECK-LABEL: func @innermost_axis_2d
// CHECK:         linalg.generic
// CHECK-NOT:       arith.divui
// CHECK-COUNT-5:   tensor.extract %{{.*}}[%{{.*}}] : tensor<?xf64>
// CHECK:           linalg.yield %{{.*}} : f64
func.func @innermost_axis_2d(%x: tensor<?xf64>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf64> {
  %0 = med.filter_axis %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a) {axis = 1.0 : f64, spatial_rank = 2.0 : f64} : tensor<?xf64> -> tensor<?x?xf64>
  return %0 : tensor<?x?xf64>
}
