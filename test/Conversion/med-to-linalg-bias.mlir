// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// med.bias_field: one elementwise generic; the voxel from the global index (f64 floors, one per
// spatial axis), a linspace coordinate rounded to f32 per axis, the terms summed in f64 and one
// inline f64 exp (its reduction rounds n = x / ln2: math.roundeven), no math.exp call.

// CHECK-LABEL: func @bias_field_3d
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel"]
// CHECK:           linalg.index 0
// CHECK-COUNT-3:   math.floor
// CHECK-COUNT-3:   arith.truncf %{{.*}} : f64 to f32
// CHECK-NOT:       math.exp
// CHECK:           math.roundeven %{{.*}} : f64
// CHECK:           arith.truncf %{{.*}} : f64 to f32
// CHECK:           linalg.yield
func.func @bias_field_3d(%x: tensor<?xi16>, %i: index, %a: f64) -> tensor<?xf32> {
  %0 = med.bias_field %x, (%a, %a, %a, %a, %a, %a, %a), %i {degree = 1.0 : f64, spatial_rank = 3.0 : f64} : tensor<?xi16> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// After a resample the element is row * row length + column of the window.
// CHECK-LABEL: func @bias_field_window
// CHECK:         tensor.dim %{{.*}}, %{{.*}} : tensor<?x?xf32>
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK:           linalg.index 0
// CHECK:           linalg.index 1
func.func @bias_field_window(%x: tensor<?x?xf32>, %i: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.bias_field %x, (%a, %a, %a, %a, %a, %a, %a, %a), %i {degree = 2.0 : f64, spatial_rank = 2.0 : f64} : tensor<?x?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
