// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// med.extrema: a running min and max by compare and select (NaN skipped) and a NaN flag (which
// turns both results into NaN) over the input in its compute type; the bulk as rows of 16 lanes folded into 16 accumulators of each kind,
// then the tail, then the lanes; the results widened to f64.

// CHECK-LABEL: func @extrema_of_int_compares_in_f32
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [%{{.*}}, 16] : tensor<?xi16> into tensor<?x16xi16>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK-SAME:      outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK:           %[[X:.*]] = arith.sitofp %{{.*}} : i16 to f32
// CHECK:           %[[LT:.*]] = arith.cmpf olt, %[[X]], %[[LO:.*]] : f32
// CHECK:           arith.select %[[LT]], %[[X]], %[[LO]] : f32
// CHECK:           %[[GT:.*]] = arith.cmpf ogt, %[[X]], %[[HI:.*]] : f32
// CHECK:           arith.select %[[GT]], %[[X]], %[[HI]] : f32
// CHECK:           %[[U:.*]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK:           arith.select %[[U]], %{{.*}}, %{{.*}} : f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction"]
// CHECK-SAME:      ins(%{{.*}} : tensor<?xi16>)
// CHECK-COUNT-3: ins(%{{.*}} : tensor<16xf32>)
// CHECK:         %[[FLAG:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
// CHECK:         %[[NAN:.*]] = arith.cmpf ogt, %[[FLAG]], %{{.*}} : f32
// CHECK:         %[[LO:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK:         %[[LO2:.*]] = arith.select %[[NAN]], %{{.*}}, %[[LO]] : f64
// CHECK:         %[[HI:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK:         %[[HI2:.*]] = arith.select %[[NAN]], %{{.*}}, %[[HI]] : f64
// CHECK:         tensor.from_elements %[[LO2]], %[[HI2]] : tensor<2xf64>
func.func @extrema_of_int_compares_in_f32(%x: tensor<?xi16>) -> tensor<2xf64> {
  %0 = med.extrema %x : tensor<?xi16> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

// CHECK-LABEL: func @extrema_of_f64_stays_f64
// CHECK:         linalg.generic
// CHECK:           arith.cmpf olt, %{{.*}}, %{{.*}} : f64
// CHECK:           arith.cmpf ogt, %{{.*}}, %{{.*}} : f64
// CHECK:         linalg.generic
// CHECK:           arith.minnumf %{{.*}} : f64
// CHECK:         linalg.generic
// CHECK:           arith.maxnumf %{{.*}} : f64
// CHECK-NOT:     arith.extf
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xf64>
func.func @extrema_of_f64_stays_f64(%x: tensor<?xf64>) -> tensor<2xf64> {
  %0 = med.extrema %x : tensor<?xf64> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}
