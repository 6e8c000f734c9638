// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// Ops split at a reduction: the statistics come from the host or from a reduction kernel
// (med.moments, at the end of this file); the ops are plain maps reading them as operands,
// converted once outside the loop.

// CHECK-LABEL: func @normalize_nonzero
// The arithmetic is f32 even for an f64 image (MONAI converts to float32 first).
// CHECK:         %[[SUB:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[DIV:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         linalg.generic
// CHECK:           %[[X:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:           %[[D:.*]] = arith.subf %[[X]], %[[SUB]] : f32
// CHECK:           %[[Y:.*]] = arith.divf %[[D]], %[[DIV]] : f32
// CHECK:           %[[Z:.*]] = arith.cmpf oeq, %[[X]], %{{.*}} : f32
// CHECK:           arith.select %[[Z]], %[[X]], %[[Y]] : f32
func.func @normalize_nonzero(%x: tensor<?xf64>, %s: f64, %d: f64) -> tensor<?xf32> {
  %0 = med.normalize %x, %s, %d {nonzero} : tensor<?xf64> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @normalize_keeps_int_type
// CHECK:         linalg.generic
// CHECK:           arith.sitofp %{{.*}} : i16 to f32
// CHECK-NOT:       arith.cmpf
// CHECK:           arith.fptosi %{{.*}} : f32 to i64
// CHECK:           arith.trunci %{{.*}} : i64 to i16
func.func @normalize_keeps_int_type(%x: tensor<?xi16>, %s: f64, %d: f64) -> tensor<?xi16> {
  %0 = med.normalize %x, %s, %d : tensor<?xi16> -> tensor<?xi16>
  return %0 : tensor<?xi16>
}

// -----

// CHECK-LABEL: func @scale_range_by
// The range is formed once, in the compute type; a flat range only shifts.
// CHECK:         %[[LO:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[HI:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[R:.*]] = arith.subf %[[HI]], %[[LO]] : f32
// CHECK:         %[[FLAT:.*]] = arith.cmpf oeq, %[[R]], %{{.*}} : f32
// CHECK:         linalg.generic
// CHECK:           arith.divf %{{.*}}, %[[R]] : f32
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
// CHECK:           arith.select %[[FLAT]]
func.func @scale_range_by(%x: tensor<?xf32>, %lo: f64, %hi: f64) -> tensor<?xf32> {
  %0 = med.scale_range_by %x, %lo, %hi {b_min = 0.0, b_max = 1.0, clip} : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @clip_by
// CHECK:         linalg.generic
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
// CHECK:           arith.fptosi
func.func @clip_by(%x: tensor<?xui8>, %lo: f64, %hi: f64) -> tensor<?xui8> {
  %0 = med.clip_by %x, %lo, %hi : tensor<?xui8> -> tensor<?xui8>
  return %0 : tensor<?xui8>
}

// -----

// CHECK-LABEL: func @rescale_by
// MONAI's rescale_array with runtime extrema: the range and the flat test are formed once; a
// flat image becomes x * minv.
// CHECK:         %[[LO:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[HI:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[R:.*]] = arith.subf %[[HI]], %[[LO]] : f32
// CHECK:         %[[FLAT:.*]] = arith.cmpf oeq, %[[LO]], %[[HI]] : f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK:           arith.sitofp %{{.*}} : i16 to f32
// CHECK:           arith.divf %{{.*}}, %[[R]] : f32
// CHECK:           arith.select %[[FLAT]]
func.func @rescale_by(%x: tensor<?xi16>, %lo: f64, %hi: f64) -> tensor<?xf32> {
  %0 = med.rescale_by %x, %lo, %hi {minv = 0.0, maxv = 1.0} : tensor<?xi16> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// med.moments: the value as f32 (as the reference converts it), then f64; count, sum and sum of
// squares in 16 lanes, kept only for nonzero values with {nonzero}.
// CHECK-LABEL: func @moments_nonzero_i16
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK:         ^bb0(%[[X:.*]]: i16, %[[N:.*]]: f64, %[[S:.*]]: f64, %[[Q:.*]]: f64):
// CHECK:           %[[F:.*]] = arith.sitofp %[[X]] : i16 to f32
// CHECK:           %[[V:.*]] = arith.extf %[[F]] : f32 to f64
// CHECK:           %[[N1:.*]] = arith.addf %[[N]], %{{.*}} : f64
// CHECK:           %[[S1:.*]] = arith.addf %[[S]], %[[V]] : f64
// CHECK:           %[[VV:.*]] = arith.mulf %[[V]], %[[V]] : f64
// CHECK:           %[[Q1:.*]] = arith.addf %[[Q]], %[[VV]] : f64
// CHECK:           %[[IN:.*]] = arith.cmpf une, %[[V]], %{{.*}} : f64
// CHECK:           arith.select %[[IN]], %[[N1]], %[[N]] : f64
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}}, %{{.*}} : tensor<3xf64>
func.func @moments_nonzero_i16(%x: tensor<?xi16>) -> tensor<3xf64> {
  %0 = med.moments %x {nonzero} : tensor<?xi16> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

// f64 images are rounded to f32 first; without {nonzero} nothing is selected.
// CHECK-LABEL: func @moments_f64
// CHECK:           arith.truncf %{{.*}} : f64 to f32
// CHECK-NOT:       arith.select
// CHECK:         tensor.from_elements
func.func @moments_f64(%x: tensor<?xf64>) -> tensor<3xf64> {
  %0 = med.moments %x : tensor<?xf64> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}
