// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// Ops with runtime operands: the operands are converted once, outside the loop, and `apply`
// selects between the transformed and the original value.

// CHECK-LABEL: func @shift_by
// CHECK:         %[[ON:.*]] = arith.cmpf une, %{{.*}}, %{{.*}} : f64
// CHECK:         %[[OFF:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         linalg.generic
// CHECK:           %[[Y:.*]] = arith.addf %{{.*}}, %[[OFF]] : f32
// CHECK:           arith.select %[[ON]], %[[Y]], %{{.*}} : f32
func.func @shift_by(%x: tensor<?xf32>, %a: f64, %v: f64) -> tensor<?xf32> {
  %0 = med.shift_by %x, %a, %v : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @gaussian_noise
// Alone in its kernel (input and result are the kernel's own) the noise runs over aligned groups
// of four voxels: one Philox block per group (ten rounds, 19 multiplies survive: the first
// round's product with the zero counter word folds away), the 32-bit words held in i64 values,
// then two Box-Muller pairs in the compute type (f32 for a float32 image, nothing formed in
// f64): two logs, four cosines, four voxels written. In f32 log and cos are inline arithmetic
// (lib/compiler/FastMath.h), no math.log or math.cos: a log shows as the bitcast of its argument
// to its bits, a cosine as the rounding of its quadrant. The partial groups before and after the
// loop (head and tail) are straight-line code, each voxel written only when in the buffer.
// CHECK:         %[[GROUPS:.*]] = scf.for
// CHECK-COUNT-19:  arith.muli %{{.*}} : i64
// CHECK-NOT:       arith.muli %{{.*}} : i64
// CHECK-NOT:       arith.trunci %{{.*}} : i64 to i32
// CHECK:           arith.trunci %{{.*}} : i64 to i32
// CHECK:           arith.uitofp %{{.*}} : i32 to f32
// CHECK-COUNT-2:   arith.bitcast %{{.*}} : f32 to i32
// CHECK-COUNT-4:   math.roundeven %{{.*}} : f32
// CHECK-NOT:       math.log
// CHECK-NOT:       math.cos
// CHECK-NOT:       math.roundeven
// CHECK-COUNT-4:   tensor.insert
// CHECK-NOT:       f64
// CHECK:           scf.yield
// CHECK:         %[[HEAD:.*]] = scf.if
// CHECK-COUNT-4:   math.roundeven %{{.*}} : f32
// CHECK-COUNT-4:   scf.if
// CHECK-NOT:       scf.for
// CHECK:         scf.if
// CHECK-NOT:       scf.for
// CHECK-COUNT-4:   math.roundeven %{{.*}} : f32
func.func @gaussian_noise(%x: tensor<?xf32>, %a: f64, %i: index) -> tensor<?xf32> {
  %0 = med.gaussian_noise %x, %a, %a, %a, %a, %a, %i : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @gaussian_noise_f64
// A float64 image draws its noise in f64.
// CHECK:         scf.for
// CHECK:           arith.uitofp %{{.*}} : i32 to f64
// CHECK:           math.log %{{.*}} : f64
// CHECK:           math.cos %{{.*}} : f64
func.func @gaussian_noise_f64(%x: tensor<?xf64>, %a: f64, %i: index) -> tensor<?xf64> {
  %0 = med.gaussian_noise %x, %a, %a, %a, %a, %a, %i : tensor<?xf64> -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

// CHECK-LABEL: func @gaussian_noise_fused
// With a neighbour to fuse with, the noise is a linalg.generic of one voxel per iteration (the
// form elementwise fusion folds): each voxel computes its group's block and one Box-Muller
// value, one log and one cosine (inline, as above).
// CHECK-NOT:     scf.for
// CHECK:         linalg.generic
// CHECK:           linalg.index 0
// CHECK-COUNT-19:  arith.muli %{{.*}} : i64
// CHECK:           arith.bitcast %{{.*}} : f32 to i32
// CHECK:           math.roundeven %{{.*}} : f32
// CHECK-NOT:       math.roundeven
// CHECK:           linalg.yield
func.func @gaussian_noise_fused(%x: tensor<?xf32>, %a: f64, %i: index) -> tensor<?xf32> {
  %0 = med.gaussian_noise %x, %a, %a, %a, %a, %a, %i : tensor<?xf32> -> tensor<?xf32>
  %1 = med.shift_by %0, %a, %a : tensor<?xf32> -> tensor<?xf32>
  return %1 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @adjust_contrast
// min and max arrive as operands (the reduction ran before the kernel): one parallel map.
// The power is exp(gamma log x) in f32 (x in [0, 1] and gamma > 0), not powf; both inline (the
// log's bitcast to bits, the exponent's 2^n from an integer, one factor since n <= 0), no libm
// calls.
// CHECK-NOT:     iterator_types = ["reduction"]
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel"]
// CHECK-NOT:       math.{{powf|log|exp}}
// CHECK:           arith.bitcast %{{.*}} : f32 to i32
// CHECK-NOT:       math.{{powf|log|exp}}
// CHECK:           math.roundeven %{{.*}} : f32
// CHECK-NOT:       math.{{powf|log|exp}}
// CHECK:           arith.fptosi %{{.*}} : f32 to i32
// CHECK-NOT:       math.{{powf|log|exp}}
// CHECK:           arith.shli
// CHECK-NOT:       {{arith.shli|math.powf|math.log|math.exp}}
// CHECK:           linalg.yield
// CHECK-NOT:     linalg.generic
func.func @adjust_contrast(%x: tensor<?xi16>, %a: f64, %g: f64, %lo: f64, %hi: f64) -> tensor<?xf32> {
  %0 = med.adjust_contrast %x, %a, %g, %lo, %hi : tensor<?xi16> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @histogram_shift
// The control points, slopes and intercepts are per call: computed before the loop (f64 for
// the unit reference points, then the compute type). Per element a chain of selects picks the
// segment; a call that does not fire copies the stored int32 as it is, not through f32.
// CHECK:         arith.divf %{{.*}}, %{{.*}} : f64
// CHECK:         arith.divf %{{.*}}, %{{.*}} : f32
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel"]
// CHECK:         ^bb0(%[[IN:[a-z0-9_]+]]: i32, %{{[a-z0-9_]+}}: i32):
// CHECK:           %[[X:.*]] = arith.sitofp %[[IN]] : i32 to f32
// CHECK-COUNT-2:   arith.cmpf olt, %{{.*}}, %[[X]] : f32
// CHECK:           arith.mulf %{{.*}}, %[[X]] : f32
// CHECK:           arith.addf
// CHECK:           arith.cmpf olt, %[[X]], %{{.*}} : f32
// CHECK:           arith.cmpf ogt, %[[X]], %{{.*}} : f32
// CHECK:           arith.fptosi
// CHECK:           %[[Y:.*]] = arith.trunci %{{.*}} : i64 to i32
// CHECK:           %[[OUT:.*]] = arith.select %{{.*}}, %[[Y]], %[[IN]] : i32
// CHECK:           linalg.yield %[[OUT]] : i32
// CHECK-NOT:     linalg.generic
func.func @histogram_shift(%x: tensor<?xi32>, %a: f64, %n: f64, %p: f64, %lo: f64, %hi: f64) -> tensor<?xi32> {
  %0 = med.histogram_shift %x, %a, %n, (%p, %p, %p, %p), %lo, %hi : tensor<?xi32> -> tensor<?xi32>
  return %0 : tensor<?xi32>
}

// -----

// CHECK-LABEL: func @rician_noise
// s = std * scale in f64, converted once; one parallel map with two Philox blocks (ten rounds
// each: 20 multiplies by the first round constant) and sqrt((x + n1)^2 + n2^2).
// CHECK:         %[[S:.*]] = arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK:         arith.truncf %[[S]] : f64 to f32
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel"]
// CHECK-COUNT-20:  arith.muli %{{.*}}, %c3528531795_i64
// CHECK:           math.sqrt
// CHECK:           linalg.yield
// CHECK-NOT:     linalg.generic
func.func @rician_noise(%x: tensor<?xf32>, %a: f64, %m: f64, %s: f64, %k: f64, %i: index) -> tensor<?xf32> {
  %0 = med.rician_noise %x, %a, %m, %s, %s, %k, %k, %k, %k, %i : tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func @coarse_dropout
// One parallel map on the stored int16 values (no conversion of a kept voxel): the voxel's
// coordinates, two boxes tested per axis, a Philox uniform for the fill in f64.
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel"]
// CHECK:         ^bb0(%[[IN:[a-z0-9_]+]]: i16, %{{[a-z0-9_]+}}: i16):
// CHECK-COUNT-2:   math.floor
// CHECK-COUNT-4:   arith.cmpf oge
// CHECK:           arith.muli %{{.*}}, %c3528531795_i64
// CHECK:           arith.uitofp %{{.*}} : i32 to f64
// CHECK:           arith.fptosi %{{.*}} : f64 to i64
// CHECK:           %[[OUT:.*]] = arith.select %{{.*}}, %{{.*}}, %[[IN]] : i16
// CHECK:           linalg.yield %[[OUT]] : i16
// CHECK-NOT:     linalg.generic
func.func @coarse_dropout(%x: tensor<?xi16>, %a: f64, %v: f64, %i: index) -> tensor<?xi16> {
  %0 = med.coarse_dropout %x, %a, %v, %v, %v, %v, %v, (%v, %v, %v, %v, %v, %v, %v, %v, %v, %v), %i {spatial_rank = 2.0 : f64, dropout_holes, fill_range} : tensor<?xi16> -> tensor<?xi16>
  return %0 : tensor<?xi16>
}
