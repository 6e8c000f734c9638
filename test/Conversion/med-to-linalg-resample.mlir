// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// med.resample: one gather over the output window (rows x row length). Each row's (channel,
// outer indices) come from its row number with f64 arithmetic (reciprocal and floor, no integer
// division); along the row the position is M * (o, 1) with FMAs.

// CHECK-LABEL: func @bilinear_3d
// CHECK:         %[[EMPTY:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf32>
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} outs(%[[EMPTY]] : tensor<?x?xf32>)
// CHECK:           linalg.index 1
// CHECK:           linalg.index 0
// CHECK-COUNT-2:   math.floor
// CHECK-COUNT-9:   math.fma
// CHECK-COUNT-3:   math.floor
// One flat index per voxel (the clamped base corner), an exact f64 integer made an index by
// the 2^52 bias and a bitcast, not fptosi (which AVX2 cannot vectorise to 64 bits); the 8
// corners are read at loop-invariant offsets from it.
// CHECK:           arith.bitcast %{{.*}} : f64 to i64
// CHECK-NOT:       arith.bitcast
// CHECK-NOT:       arith.fptosi
// CHECK:           tensor.extract %{{.*}}[%{{.*}}] : tensor<?xf32>
// CHECK-COUNT-7:   tensor.extract %{{.*}}[%{{.*}}] : tensor<?xf32>
// CHECK:           linalg.yield
// CHECK-NOT:     arith.divui
// CHECK-NOT:     arith.remui
func.func @bilinear_3d(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func @nearest_2d_copies
// Nearest reads one voxel and keeps its type: no conversion to float for an integer image. A row
// that is a contiguous run inside the input reads at row start + column (a loop-invariant
// branch LLVM unswitches into a copy loop); other rows round, bound-check and select.
// CHECK:         linalg.generic
// CHECK:           scf.if %{{.*}} -> (i16) {
// CHECK:             %[[I:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK:             %[[V:.*]] = tensor.extract %{{.*}}[%[[I]]] : tensor<?xi16>
// CHECK:             scf.yield %[[V]] : i16
// CHECK:           } else {
// CHECK:             math.roundeven
// CHECK:             math.roundeven
// CHECK-COUNT-1:     tensor.extract
// CHECK-NOT:         tensor.extract
// CHECK-NOT:         arith.sitofp
// CHECK:             arith.select %{{.*}}, %{{.*}}, %{{.*}} : i16
func.func @nearest_2d_copies(%x: tensor<?xi16>, %off: index, %rows: index, %a: f64) -> tensor<?x?xi16> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "nearest", padding_mode = "zeros"} : tensor<?xi16> -> tensor<?x?xi16>
  return %0 : tensor<?x?xi16>
}

// -----

// CHECK-LABEL: func @border_clamps_positions
// CHECK:         linalg.generic
// CHECK-COUNT-2:   arith.maximumf
// CHECK:           math.floor
func.func @border_clamps_positions(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "border"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Reflection mirrors the position (|p + 0.5|, its whole spans and the remainder, the parity of
// the spans picks the mirrored side), then clamps it like border.
// CHECK-LABEL: func @reflection_mirrors_then_clamps
// CHECK:         linalg.generic
// CHECK:           math.absf
// CHECK:           arith.divf
// CHECK:           math.floor
// CHECK:           math.fma
// CHECK:           arith.select
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
func.func @reflection_mirrors_then_clamps(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "reflection"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Reflection with align_corners mirrors at the outer voxel centres: |p| against the span
// size - 1, the parity of the spans picks the side, a one-voxel axis (span 0) maps to 0; then
// the border clamp.
// CHECK-LABEL: func @reflection_corners_mirrors_at_centres
// CHECK:         linalg.generic
// CHECK:           math.absf
// CHECK:           arith.divf
// CHECK:           math.floor
// CHECK:           math.fma
// CHECK:           arith.select
// CHECK:           arith.cmpf oeq
// CHECK:           arith.select
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
func.func @reflection_corners_mirrors_at_centres(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "reflection_corners"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Area: per axis the box from floor of the voxel's lower corner's image to ceil of its upper
// one's (no border clamp of the position). Three generics, picked per call: boxes of at most two
// voxels per axis read the 2^n voxels from the box's start, boxes of at most three the 3^n, any
// other loops over its box; the sum is divided by each axis's extent.
// CHECK-LABEL: func @area_sums_the_box_then_divides
// CHECK:         scf.if
// CHECK:           linalg.generic
// CHECK:             math.floor
// CHECK:             math.ceil
// CHECK-COUNT-4:     tensor.extract
// CHECK-NOT:         tensor.extract
// CHECK:             arith.divf
// CHECK:         } else {
// CHECK:           scf.if
// CHECK:             linalg.generic
// CHECK-COUNT-9:       tensor.extract
// CHECK-NOT:           tensor.extract
// CHECK:               arith.divf
// CHECK:           } else {
// CHECK:             linalg.generic
// CHECK:               scf.for
// CHECK:                 scf.for
// CHECK:                   tensor.extract
// CHECK:                   arith.addf
// CHECK:               arith.divf
func.func @area_sums_the_box_then_divides(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "area", padding_mode = "border"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Wrap (numpy's wrap pad): the position less size times floor(position / size), then clamped.
// CHECK-LABEL: func @wrap_takes_positions_modulo_the_size
// CHECK:         linalg.generic
// CHECK:           arith.divf
// CHECK:           math.floor
// CHECK:           math.fma
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
// CHECK:           math.roundeven
func.func @wrap_takes_positions_modulo_the_size(%x: tensor<?xi16>, %off: index, %rows: index, %a: f64) -> tensor<?x?xi16> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "nearest", padding_mode = "wrap"} : tensor<?xi16> -> tensor<?x?xi16>
  return %0 : tensor<?x?xi16>
}

// -----

// Floor (interpolate's nearest): the position is rounded to f32 before the border clamp, and
// the voxel read is at its floor, not its round-half-even.
// CHECK-LABEL: func @floor_rounds_to_f32_then_floors
// CHECK:         linalg.generic
// CHECK:           arith.truncf %{{.*}} : f64 to f32
// CHECK:           arith.extf
// CHECK:           arith.maximumf
// CHECK:           math.floor
// CHECK-NOT:       math.roundeven
// CHECK:           linalg.yield
func.func @floor_rounds_to_f32_then_floors(%x: tensor<?xi16>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "floor", padding_mode = "border"} : tensor<?xi16> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Bounded: each output index is clamped into its [lo, hi] box before the map (edge padding of
// the output), and nearest-type modes take no contiguous-row fast path (no scf.if).
// CHECK-LABEL: func @bounded_clamps_output_indices
// CHECK:         linalg.generic
// CHECK-COUNT-2:   arith.maximumf
// CHECK-NOT:       scf.if
// CHECK:           linalg.yield
func.func @bounded_clamps_output_indices(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {bounded, mode = "floor", padding_mode = "border"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Zero outside: the box test before the clamp, and a select of 0 for the value stored.
// CHECK-LABEL: func @bounded_zero_outside_selects_zero
// CHECK:         linalg.generic
// CHECK:           arith.cmpf oge
// CHECK:           arith.cmpf ole
// CHECK:           arith.andi
// CHECK:           arith.cmpf oge
// CHECK:           arith.cmpf ole
// CHECK:           arith.andi
// CHECK:           %[[IN:.*]] = arith.andi
// CHECK:           %[[V:.*]] = arith.select %[[IN]], %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:      linalg.yield %[[V]]
func.func @bounded_zero_outside_selects_zero(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {bounded, mode = "bilinear", padding_mode = "border", zero_outside} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Displaced: each axis's displacement (f32, from its plane) is added to the output index before
// the map, and nearest takes no contiguous-row fast path (no scf.if).
// CHECK-LABEL: func @displaced_adds_the_field_before_the_map
// CHECK:         linalg.generic
// CHECK:           %[[D0:.*]] = tensor.extract %[[F:.*]][%{{.*}}] : tensor<?xf32>
// CHECK:           %[[E0:.*]] = arith.extf %[[D0]] : f32 to f64
// CHECK:           %[[O0:.*]] = arith.addf %{{.*}}, %[[E0]] : f64
// CHECK:           %[[D1:.*]] = tensor.extract %[[F]][%{{.*}}] : tensor<?xf32>
// CHECK:           %[[E1:.*]] = arith.extf %[[D1]] : f32 to f64
// CHECK:           %[[O1:.*]] = arith.addf %{{.*}}, %[[E1]] : f64
// CHECK:           math.fma %{{.*}}, %[[O0]], %{{.*}} : f64
// CHECK:           math.fma %{{.*}}, %[[O1]], %{{.*}} : f64
// CHECK:           math.roundeven
// CHECK-NOT:       scf.if
// CHECK:           linalg.yield
func.func @displaced_adds_the_field_before_the_map(%x: tensor<?xi16>, %off: index, %rows: index, %a: f64, %d: tensor<?xf32>) -> tensor<?x?xi16> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) displaced by %d : tensor<?xf32> {mode = "nearest", padding_mode = "zeros"} : tensor<?xi16> -> tensor<?x?xi16>
  return %0 : tensor<?x?xi16>
}

// -----

// Bicubic: the position is not clamped (the padding maps the taps); per axis a floor and four
// cubic-convolution weights, then the 4 x 4 taps, each 0 outside with zeros padding.
// CHECK-LABEL: func @bicubic_weights_then_sixteen_taps
// CHECK:         linalg.generic
// CHECK-NOT:       arith.maximumf
// CHECK:           math.floor
// CHECK:           math.floor
// CHECK:           math.floor
// CHECK-COUNT-16:  tensor.extract %{{.*}} : tensor<?xf32>
// CHECK:           linalg.yield
func.func @bicubic_weights_then_sixteen_taps(%x: tensor<?xf32>, %off: index, %rows: index, %a: f64) -> tensor<?x?xf32> {
  %0 = med.resample %x [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bicubic", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
