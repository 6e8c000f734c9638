// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// GlobalMutualInformationLoss's b-spline Parzen kernels. The image's scale (bin size s,
// normalised minimum m) is read once, outside the loops; a voxel x lies at bin coordinate
// t = clamp(x / s - m, 2, B - 3). med.bspline_sums: an elementwise generic adding the B
// weights of |i - t| (cubic: two pieces chosen by a < 1 and a < 2). med.bspline_window: one
// generic over (bins x voxels), the bin's centre from the row index, each weight over its
// voxel's sum (box: 1 below 1/2, 1/2 at it). med.bspline_window_grad: an elementwise generic
// forming the second image's box weights, the joint derivatives times them, the cubic weights'
// derivatives by t, and the gradient through the normalisation over the bin size, zero where
// the clamp holds t.

// CHECK-LABEL: func @bspline_sums
// CHECK:         %[[S:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[M:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK:           %[[Q:.*]] = arith.divf %in, %[[S]] : f32
// CHECK:           %[[U:.*]] = arith.subf %[[Q]], %[[M]] : f32
// CHECK:           %[[LO:.*]] = arith.maximumf %[[U]], %{{.*}} : f32
// CHECK:           %[[T:.*]] = arith.minimumf %[[LO]], %{{.*}} : f32
// CHECK:           %[[D0:.*]] = arith.subf %{{.*}}, %[[T]] : f32
// CHECK:           %[[A0:.*]] = math.absf %[[D0]] : f32
// CHECK:           arith.cmpf olt, %[[A0]]
// CHECK:           arith.cmpf olt, %[[A0]]
// CHECK-COUNT-5:   math.absf
// CHECK-NOT:       math.absf
// CHECK:           arith.addf
// CHECK:           linalg.yield %{{.*}} : f32
func.func @bspline_sums(%x: tensor<?xf32>, %s: tensor<2xf64>) -> tensor<?xf32> {
  %r = med.bspline_sums %x, %s {bins = 6 : i64, order = 3 : i64} : tensor<?xf32>, tensor<2xf64> -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

// CHECK-DAG:   #[[VOXEL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @bspline_window
// CHECK:         linalg.generic {indexing_maps = [#[[VOXEL]], #[[VOXEL]], #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK:         ^bb0(%[[X:.*]]: f32, %[[SUMS:.*]]: f32, %{{.*}}: f32):
// CHECK:           %[[ROW:.*]] = linalg.index 0 : index
// CHECK:           %[[I:.*]] = arith.index_cast %[[ROW]] : index to i64
// CHECK:           %[[C:.*]] = arith.sitofp %[[I]] : i64 to f32
// CHECK:           %[[D:.*]] = arith.subf %[[C]], %{{.*}} : f32
// CHECK:           %[[A:.*]] = math.absf %[[D]] : f32
// CHECK:           %[[TIE:.*]] = arith.cmpf oeq, %[[A]], %[[HALF:.*]] : f32
// CHECK:           %[[AT:.*]] = arith.select %[[TIE]], %[[HALF]], %{{.*}} : f32
// CHECK:           %[[NEAR:.*]] = arith.cmpf olt, %[[A]], %[[HALF]] : f32
// CHECK:           %[[E:.*]] = arith.select %[[NEAR]], %{{.*}}, %[[AT]] : f32
// CHECK:           %[[W:.*]] = arith.divf %[[E]], %[[SUMS]] : f32
// CHECK:           linalg.yield %[[W]] : f32
func.func @bspline_window(%x: tensor<?xf32>, %s: tensor<?xf32>, %k: tensor<2xf64>) -> tensor<6x?xf32> {
  %w = med.bspline_window %x, %s, %k {order = 0 : i64} : tensor<?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<6x?xf32>
  return %w : tensor<6x?xf32>
}

// -----

// CHECK-LABEL: func @bspline_window_grad
// CHECK:         %[[S:.*]] = tensor.extract %arg2[%c0] : tensor<2xf64>
// CHECK:         tensor.extract %arg2[%c1]
// CHECK:         tensor.extract %arg3[%c0]
// CHECK:         tensor.extract %arg3[%c1]
// CHECK-COUNT-36: tensor.extract %arg4
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK:           %[[Q:.*]] = arith.divf %in, %[[S]] : f64
// CHECK:           %[[U:.*]] = arith.subf %[[Q]], %{{.*}} : f64
// CHECK-COUNT-12:  math.absf
// CHECK-NOT:       math.absf
// CHECK:           %[[SS:.*]] = arith.mulf %[[SUM:.*]], %[[S]] : f64
// CHECK:           %[[G:.*]] = arith.divf %{{.*}}, %[[SS]] : f64
// CHECK-DAG:       %[[LE:.*]] = arith.cmpf ole, %[[U]], %{{.*}} : f64
// CHECK-DAG:       %[[GE:.*]] = arith.cmpf oge, %[[U]], %{{.*}} : f64
// CHECK:           %[[IN:.*]] = arith.andi %[[GE]], %[[LE]] : i1
// CHECK:           %[[OUT:.*]] = arith.select %[[IN]], %[[G]], %{{.*}} : f64
// CHECK:           linalg.yield %[[OUT]] : f64
func.func @bspline_window_grad(%x: tensor<?xf64>, %y: tensor<?xf64>, %sx: tensor<2xf64>, %sy: tensor<2xf64>, %j: tensor<36xf64>) -> tensor<?xf64> {
  %g = med.bspline_window_grad %x, %y, %sx, %sy, %j : tensor<?xf64>, tensor<?xf64>, tensor<2xf64>, tensor<2xf64>, tensor<36xf64> -> tensor<?xf64>
  return %g : tensor<?xf64>
}
