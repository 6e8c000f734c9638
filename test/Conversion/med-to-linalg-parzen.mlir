// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// GlobalMutualInformationLoss's Parzen kernels. The bin centres (rounded to the element type)
// and -preterm are formed once, outside the loops; each exponential of a voxel clamped to
// [0, 1] has its argument held at the type's smallest normal result (-87 in f32) and is 0 below
// it. med.parzen_sums: an elementwise generic adding a voxel's B exponentials.
// med.parzen_window: one generic over (bins x voxels), the voxels innermost, the bin's centre
// read per row, each exponential divided by its voxel's sum. med.parzen_window_grad: an
// elementwise generic forming both images' weights, the joint derivatives times the second's,
// and the gradient through the normalisation, zero where the voxel lies outside [0, 1].

// CHECK-LABEL: func @parzen_sums
// CHECK:         %[[C0:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[NEGP:.*]] = arith.negf %{{.*}} : f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK:           %[[LO:.*]] = arith.maximumf %in, %{{.*}} : f32
// CHECK:           %[[XC:.*]] = arith.minimumf %[[LO]], %{{.*}} : f32
// CHECK:           %[[D0:.*]] = arith.subf %[[XC]], %[[C0]] : f32
// CHECK:           %[[SQ0:.*]] = arith.mulf %[[D0]], %[[D0]] : f32
// CHECK:           %[[ARG0:.*]] = arith.mulf %[[NEGP]], %[[SQ0]] : f32
// CHECK:           %[[HELD:.*]] = arith.maximumf %[[ARG0]], %cst : f32
// CHECK:           %[[E0:.*]] = math.exp %[[HELD]] : f32
// CHECK:           %[[UNDER:.*]] = arith.cmpf olt, %[[ARG0]], %cst : f32
// CHECK:           %[[W0:.*]] = arith.select %[[UNDER]], %{{.*}}, %[[E0]] : f32
// CHECK-COUNT-2:   math.exp
// CHECK-NOT:       math.exp
// CHECK:           %[[SUM:.*]] = arith.addf %{{.*}}, %{{.*}} : f32
// CHECK:           linalg.yield %[[SUM]] : f32
func.func @parzen_sums(%x: tensor<?xf32>, %c: tensor<3xf64>, %p: f64) -> tensor<?xf32> {
  %s = med.parzen_sums %x, %c, %p : tensor<?xf32>, tensor<3xf64> -> tensor<?xf32>
  return %s : tensor<?xf32>
}

// -----

// CHECK-DAG:   #[[VOXEL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG:   #[[BIN:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @parzen_window
// CHECK:         linalg.generic {indexing_maps = [#[[VOXEL]], #[[VOXEL]], #[[BIN]], #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK:         ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[C:.*]]: f64, %{{.*}}: f32):
// CHECK:           %[[CF:.*]] = arith.truncf %[[C]] : f64 to f32
// CHECK:           math.exp
// CHECK-NOT:       math.exp
// CHECK:           %[[E:.*]] = arith.select
// CHECK:           %[[W:.*]] = arith.divf %[[E]], %[[S]] : f32
// CHECK:           linalg.yield %[[W]] : f32
func.func @parzen_window(%x: tensor<?xf32>, %s: tensor<?xf32>, %c: tensor<3xf64>, %p: f64) -> tensor<3x?xf32> {
  %w = med.parzen_window %x, %s, %c, %p : tensor<?xf32>, tensor<?xf32>, tensor<3xf64> -> tensor<3x?xf32>
  return %w : tensor<3x?xf32>
}

// -----

// CHECK-LABEL: func @parzen_window_grad
// CHECK-COUNT-2: tensor.extract %arg2
// CHECK-COUNT-4: tensor.extract %arg3
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK-COUNT-4:   math.exp
// CHECK-NOT:       math.exp
// CHECK-DAG:       %[[LE:.*]] = arith.cmpf ole, %in, %{{.*}} : f64
// CHECK-DAG:       %[[GE:.*]] = arith.cmpf oge, %in, %{{.*}} : f64
// CHECK:           %[[IN:.*]] = arith.andi %[[GE]], %[[LE]] : i1
// CHECK:           %[[PROD:.*]] = arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK:           %[[G:.*]] = arith.subf %{{.*}}, %[[PROD]] : f64
// CHECK:           %[[OUT:.*]] = arith.select %[[IN]], %[[G]], %{{.*}} : f64
// CHECK:           linalg.yield %[[OUT]] : f64
func.func @parzen_window_grad(%x: tensor<?xf64>, %y: tensor<?xf64>, %c: tensor<2xf64>, %j: tensor<4xf64>, %p: f64) -> tensor<?xf64> {
  %g = med.parzen_window_grad %x, %y, %c, %j, %p : tensor<?xf64>, tensor<?xf64>, tensor<2xf64>, tensor<4xf64> -> tensor<?xf64>
  return %g : tensor<?xf64>
}
