// RUN: med-opt %s --split-input-file --convert-med-to-linalg --med-fuse-pointwise | FileCheck %s
// Intensity ops before a resample become its prologue (evaluated at each sample it reads) and
// the ops after it its epilogue: one loop nest, no intermediate image.

// CHECK-LABEL: func @prologue_and_epilogue
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @prologue_and_epilogue(%x: tensor<?xi16>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.scale_intensity_range %x {a_min = -1000.0, a_max = 1000.0, b_min = 0.0, b_max = 1.0, clip} : tensor<?xi16> -> tensor<?xf32>
  %1 = med.resample %0 [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  %2 = med.gaussian_noise %1, %a, %a, %a, %a, %a, %off : tensor<?x?xf32> -> tensor<?x?xf32>
  return %2 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func @prologue_per_sample
// The prologue's arithmetic is cloned at each of the 4 bilinear corners, reading the original
// input.
// CHECK:         linalg.generic
// CHECK-COUNT-4:   tensor.extract %{{.*}}[%{{.*}}] : tensor<?xi16>
// CHECK-NOT:       tensor.extract
// CHECK:           linalg.yield
func.func @prologue_per_sample(%x: tensor<?xi16>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.shift_intensity %x {offset = 10.0} : tensor<?xi16> -> tensor<?xf32>
  %1 = med.resample %0 [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %1 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func @prologue_index_follows_the_read
// A prologue that depends on the voxel index (noise) uses the index of the sample it reads, on
// the contiguous-row path (row start + column) and on the general one.
// CHECK:         linalg.generic
// CHECK:           scf.if
// CHECK:             %[[IDX:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK:             tensor.extract %{{.*}}[%[[IDX]]]
// CHECK:             arith.addi %[[IDX]], %{{.*}} : index
// CHECK:           } else {
// CHECK:             %[[IDX2:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK:             tensor.extract %{{.*}}[%[[IDX2]]]
// CHECK:             arith.addi %[[IDX2]], %{{.*}} : index
func.func @prologue_index_follows_the_read(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64, %z: index) -> tensor<?x?xf32> {
  %0 = med.gaussian_noise %x, %a, %a, %a, %a, %a, %z : tensor<?xf32> -> tensor<?xf32>
  %1 = med.resample %0 [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "nearest", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %1 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func @epilogue_noise_indexes_rows
// After a resample the noise's voxel index is row * row length + column + base.
// CHECK:         linalg.generic
// CHECK:           tensor.extract
// CHECK:           %[[R:.*]] = linalg.index 0
// CHECK:           %[[C:.*]] = linalg.index 1
// CHECK:           %[[M:.*]] = arith.muli %[[R]], %{{.*}} : index
// CHECK:           arith.addi %[[M]], %[[C]] : index
func.func @epilogue_noise_indexes_rows(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %1 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "nearest", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  %2 = med.gaussian_noise %1, %a, %a, %a, %a, %a, %off : tensor<?x?xf32> -> tensor<?x?xf32>
  return %2 : tensor<?x?xf32>
}
