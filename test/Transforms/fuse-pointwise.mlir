// RUN: med-opt %s --split-input-file --convert-med-to-linalg --med-fuse-pointwise | FileCheck %s
// A chain of elementwise ops becomes one loop nest.

// CHECK-LABEL: func @two_ops_one_loop
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT:     linalg.generic
func.func @two_ops_one_loop(%x: tensor<?xui8>) -> tensor<?xf32> {
  %0 = med.scale_intensity_range %x {a_min = 0.0, a_max = 255.0, b_min = 0.0, b_max = 1.0, clip} : tensor<?xui8> -> tensor<?xf32>
  %1 = med.threshold_intensity %0 {threshold = 0.2, above} : tensor<?xf32> -> tensor<?xf32>
  return %1 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @four_ops_one_loop
// CHECK:         linalg.generic
// CHECK:           arith.divf
// CHECK:           arith.addf
// CHECK:           arith.cmpf ogt
// CHECK:           arith.minimumf
// CHECK:           linalg.yield
// CHECK-NOT:     linalg.generic
func.func @four_ops_one_loop(%x: tensor<1x16x16x16xi16>) -> tensor<1x16x16x16xf32> {
  %0 = med.scale_intensity_range %x {a_min = -1000.0, a_max = 1000.0, b_min = 0.0, b_max = 1.0} : tensor<1x16x16x16xi16> -> tensor<1x16x16x16xf32>
  %1 = med.shift_intensity %0 {offset = 0.1} : tensor<1x16x16x16xf32> -> tensor<1x16x16x16xf32>
  %2 = med.threshold_intensity %1 {threshold = 0.2, above} : tensor<1x16x16x16xf32> -> tensor<1x16x16x16xf32>
  %3 = med.clip %2 {min = 0.0, max = 1.0} : tensor<1x16x16x16xf32> -> tensor<1x16x16x16xf32>
  return %3 : tensor<1x16x16x16xf32>
}

// -----

// CHECK-LABEL: func @reduction_splits
// The producer is recomputed inside the reduction and inside the map: two loop nests, no
// intermediate tensor.
// CHECK:         linalg.generic {{.*}}iterator_types = ["reduction"]{{.*}} ins(%{{.*}} : tensor<?xf32>)
// CHECK:           arith.addf
// CHECK:           arith.minimumf
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel"]{{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<f32>, tensor<f32>)
// CHECK:           arith.addf
// CHECK:           arith.select
// CHECK-NOT:     linalg.generic
func.func @reduction_splits(%x: tensor<?xf32>) -> tensor<?xf32> {
  %0 = med.shift_intensity %x {offset = 1.0} : tensor<?xf32> -> tensor<?xf32>
  %1 = med.scale_intensity %0 {minv = 0.0, maxv = 1.0} : tensor<?xf32> -> tensor<?xf32>
  return %1 : tensor<?xf32>
}
