// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// Each med op becomes one linalg.generic computing in f32 (or f64) with MONAI's formula.

// CHECK-LABEL: func @sir_uint8
// CHECK:         tensor.empty
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<?xui8>) outs(%{{.*}} : tensor<?xf32>)
// CHECK:           builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK:           arith.uitofp %{{.*}} : i8 to f32
// CHECK:           arith.divf
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
// CHECK:           linalg.yield %{{.*}} : f32
// CHECK-NOT:     med.
func.func @sir_uint8(%x: tensor<?xui8>) -> tensor<?xf32> {
  %0 = med.scale_intensity_range %x {a_min = 0.0, a_max = 255.0, b_min = -1.0, b_max = 1.0, clip} : tensor<?xui8> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @sir_equal_bounds
// A zero-width input range shifts only (MONAI's divide-by-zero branch).
// CHECK:         linalg.generic
// CHECK-NOT:       arith.divf
// CHECK:           arith.subf
// CHECK:           arith.addf
func.func @sir_equal_bounds(%x: tensor<?xf32>) -> tensor<?xf32> {
  %0 = med.scale_intensity_range %x {a_min = 3.0, a_max = 3.0, b_min = 1.0, b_max = 2.0} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @shift_int16
// Integers are computed in f32 and converted back through i64 (wrapping as Tensor.to does).
// CHECK:         linalg.generic
// CHECK:           arith.sitofp %{{.*}} : i16 to f32
// CHECK:           arith.addf
// CHECK:           arith.fptosi %{{.*}} : f32 to i64
// CHECK:           arith.trunci %{{.*}} : i64 to i16
func.func @shift_int16(%x: tensor<2x3xi16>) -> tensor<2x3xi16> {
  %0 = med.shift_intensity %x {offset = 7.0} : tensor<2x3xi16> -> tensor<2x3xi16>
  return %0 : tensor<2x3xi16>
}

// -----

// CHECK-LABEL: func @cast_f32_to_i16
// The cast is the identity in f32 and the conversion to the result type: truncation toward zero
// through i64, as Tensor.to.
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3xf32>) outs(%{{.*}} : tensor<2x3xi16>)
// CHECK-NEXT:    ^bb0(%[[X:.*]]: f32, %{{.*}}: i16):
// CHECK-NEXT:      %[[W:.*]] = arith.fptosi %[[X]] : f32 to i64
// CHECK-NEXT:      %[[N:.*]] = arith.trunci %[[W]] : i64 to i16
// CHECK-NEXT:      linalg.yield %[[N]] : i16
func.func @cast_f32_to_i16(%x: tensor<2x3xf32>) -> tensor<2x3xi16> {
  %0 = med.cast %x : tensor<2x3xf32> -> tensor<2x3xi16>
  return %0 : tensor<2x3xi16>
}

// -----

// CHECK-LABEL: func @cast_f64_to_f32
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[X:.*]]: f64, %{{.*}}: f32):
// CHECK-NEXT:      %[[N:.*]] = arith.truncf %[[X]] : f64 to f32
// CHECK-NEXT:      linalg.yield %[[N]] : f32
func.func @cast_f64_to_f32(%x: tensor<5xf64>) -> tensor<5xf32> {
  %0 = med.cast %x : tensor<5xf64> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// CHECK-LABEL: func @scale_minmax
// The min/max reduction comes first, then a map that reads both 0-d results.
// CHECK:         linalg.fill
// CHECK:         linalg.fill
// CHECK:         linalg.generic {{.*}}iterator_types = ["reduction"]
// CHECK:           arith.minimumf
// CHECK:           arith.maximumf
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel"]{{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf64>, tensor<f64>, tensor<f64>)
// CHECK:           arith.cmpf oeq
// CHECK:           arith.select
// CHECK:           arith.truncf %{{.*}} : f64 to f32
func.func @scale_minmax(%x: tensor<?xf64>) -> tensor<?xf32> {
  %0 = med.scale_intensity %x {minv = 0.0, maxv = 1.0} : tensor<?xf64> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @threshold_below
// CHECK:         linalg.generic
// CHECK:           arith.cmpf olt
// CHECK:           arith.select
func.func @threshold_below(%x: tensor<?xf32>) -> tensor<?xf32> {
  %0 = med.threshold_intensity %x {threshold = 0.5, cval = 1.0} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @clip_upper_only
// CHECK:         linalg.generic
// CHECK-NOT:       arith.maximumf
// CHECK:           arith.minimumf
func.func @clip_upper_only(%x: tensor<?xf32>) -> tensor<?xf32> {
  %0 = med.clip %x {max = 1.0} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
