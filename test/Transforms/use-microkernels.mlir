// RUN: med-opt %s --split-input-file --med-use-microkernels | FileCheck %s
// RUN: med-opt %s --split-input-file --med-lower-to-llvm | FileCheck %s --check-prefix=LLVM
// A bilinear resample (zeros or border padding, float32) alone in its kernel, reading the input
// buffer and writing the output buffer as they are, becomes a call of the runtime's microkernel on
// the two buffers' addresses (aligned pointer + offset * 4 bytes), the output's row stride, the
// window, the rank, the padding (0 zeros, 1 border) and its f64 arguments in a stack array.

// CHECK-LABEL: func.func private @med_uk_resample_linear_f32(index, index, index, index, index, index, index, index)
// CHECK-LABEL: func @lone_bilinear
// CHECK-NOT:     med.resample
// CHECK-NOT:     bufferization.materialize_in_destination
// CHECK:         %[[ARGS:.*]] = memref.alloca() : memref<18xf64>
// CHECK-COUNT-18: memref.store %{{.*}}, %[[ARGS]][%{{.*}}] : memref<18xf64>
// CHECK:         %[[AT:.*]] = memref.extract_aligned_pointer_as_index %[[ARGS]]
// CHECK:         call @med_uk_resample_linear_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[AT]])
// CHECK-NEXT:    return
// LLVM-LABEL: llvm.func @lone_bilinear
// LLVM:         llvm.call @med_uk_resample_linear_f32
// LLVM-NOT:     llvm.fma
func.func @lone_bilinear(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %c0 = arith.constant 0 : index
  %base, %off, %sizes:2, %strides:2 = memref.extract_strided_metadata %out : memref<?x?xf32, strided<[?, 1], offset: ?>> -> memref<f32>, index, index, index, index, index
  %rows = memref.dim %out, %c0 : memref<?x?xf32, strided<[?, 1], offset: ?>>
  %r = med.resample %t [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?x?xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>) -> ()
  return
}

// -----

// An op after the resample fuses into the generated gather: no call.
// CHECK-LABEL: func @fused_epilogue
// CHECK:         med.resample
// CHECK-NOT:     call @med_uk_resample_linear_f32
// LLVM-LABEL: llvm.func @fused_epilogue
// LLVM-NOT:     llvm.call @med_uk_resample_linear_f32
func.func @fused_epilogue(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %c0 = arith.constant 0 : index
  %base, %off, %sizes:2, %strides:2 = memref.extract_strided_metadata %out : memref<?x?xf32, strided<[?, 1], offset: ?>> -> memref<f32>, index, index, index, index, index
  %rows = memref.dim %out, %c0 : memref<?x?xf32, strided<[?, 1], offset: ?>>
  %r = med.resample %t [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "border"} : tensor<?xf32> -> tensor<?x?xf32>
  %s = med.shift_intensity %r {offset = 1.0} : tensor<?x?xf32> -> tensor<?x?xf32>
  bufferization.materialize_in_destination %s in restrict writable %out : (tensor<?x?xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>) -> ()
  return
}

// -----

// Modes, paddings and types the microkernel does not cover keep the generated gather.
// CHECK-LABEL: func @reflection_stays
// CHECK:         med.resample
// CHECK-NOT:     call @med_uk_resample_linear_f32
func.func @reflection_stays(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %c0 = arith.constant 0 : index
  %base, %off, %sizes:2, %strides:2 = memref.extract_strided_metadata %out : memref<?x?xf32, strided<[?, 1], offset: ?>> -> memref<f32>, index, index, index, index, index
  %rows = memref.dim %out, %c0 : memref<?x?xf32, strided<[?, 1], offset: ?>>
  %r = med.resample %t [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "reflection"} : tensor<?xf32> -> tensor<?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?x?xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>) -> ()
  return
}

// -----

// CHECK-LABEL: func @int16_stays
// CHECK:         med.resample
// CHECK-NOT:     call @med_uk_resample_linear_f32
func.func @int16_stays(%in: memref<?xi16, strided<[1], offset: ?>>, %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xi16, strided<[1], offset: ?>>
  %c0 = arith.constant 0 : index
  %base, %off, %sizes:2, %strides:2 = memref.extract_strided_metadata %out : memref<?x?xf32, strided<[?, 1], offset: ?>> -> memref<f32>, index, index, index, index, index
  %rows = memref.dim %out, %c0 : memref<?x?xf32, strided<[?, 1], offset: ?>>
  %r = med.resample %t [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xi16> -> tensor<?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?x?xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>) -> ()
  return
}

// -----

// Gaussian noise alone in its kernel (flat float32 buffers) becomes a call of the noise
// microkernel on the two chunks' addresses, the chunk's length, its global index and the op's
// f64 operands.
// CHECK-LABEL: func.func private @med_uk_gaussian_noise_f32(index, index, index, index, f64, f64, f64, f64, f64)
// CHECK-LABEL: func @lone_noise
// CHECK-NOT:     med.gaussian_noise
// CHECK:         %[[N:.*]] = memref.dim %{{.*}}, %{{.*}} : memref<?xf32, strided<[1], offset: ?>>
// CHECK:         call @med_uk_gaussian_noise_f32(%{{.*}}, %{{.*}}, %[[N]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NEXT:    return
// LLVM-LABEL: llvm.func @lone_noise
// LLVM:         llvm.call @med_uk_gaussian_noise_f32
func.func @lone_noise(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?xf32, strided<[1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %base, %off, %size, %stride = memref.extract_strided_metadata %in : memref<?xf32, strided<[1], offset: ?>> -> memref<f32>, index, index, index
  %r = med.gaussian_noise %t, %a, %a, %a, %a, %a, %off : tensor<?xf32> -> tensor<?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xf32>, memref<?xf32, strided<[1], offset: ?>>) -> ()
  return
}

// -----

// Noise with another op in its kernel keeps the generated form.
// CHECK-LABEL: func @fused_noise
// CHECK:         med.gaussian_noise
// CHECK-NOT:     call @med_uk_gaussian_noise_f32
func.func @fused_noise(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?xf32, strided<[1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %base, %off, %size, %stride = memref.extract_strided_metadata %in : memref<?xf32, strided<[1], offset: ?>> -> memref<f32>, index, index, index
  %s = med.shift_intensity %t {offset = 1.0} : tensor<?xf32> -> tensor<?xf32>
  %r = med.gaussian_noise %s, %a, %a, %a, %a, %a, %off : tensor<?xf32> -> tensor<?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xf32>, memref<?xf32, strided<[1], offset: ?>>) -> ()
  return
}

// -----

// Coarse dropout alone in its kernel (flat float32 buffers) becomes a call of the dropout
// microkernel: the chunks' addresses, the chunk's length and global index, the op's f64
// operands, the rank, the argument count, the arguments in a stack array and the flags
// (1 dropout_holes, 2 fill_range).
// CHECK-LABEL: func.func private @med_uk_coarse_dropout_f32(index, index, index, index, f64, f64, f64, f64, f64, f64, index, index, index, index)
// CHECK-LABEL: func @lone_dropout
// CHECK-NOT:     med.coarse_dropout
// CHECK:         %[[ARGS:.*]] = memref.alloca() : memref<6xf64>
// CHECK-COUNT-6: memref.store %{{.*}}, %[[ARGS]][%{{.*}}] : memref<6xf64>
// CHECK:         %[[AT:.*]] = memref.extract_aligned_pointer_as_index %[[ARGS]]
// CHECK:         %[[FLAGS:.*]] = arith.constant 3 : index
// CHECK:         call @med_uk_coarse_dropout_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[AT]], %[[FLAGS]])
// CHECK-NEXT:    return
// LLVM-LABEL: llvm.func @lone_dropout
// LLVM:         llvm.call @med_uk_coarse_dropout_f32
func.func @lone_dropout(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?xf32, strided<[1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %base, %off, %size, %stride = memref.extract_strided_metadata %in : memref<?xf32, strided<[1], offset: ?>> -> memref<f32>, index, index, index
  %r = med.coarse_dropout %t, %a, %a, %a, %a, %a, %a, (%a, %a, %a, %a, %a, %a), %off {spatial_rank = 2.0 : f64, dropout_holes, fill_range} : tensor<?xf32> -> tensor<?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xf32>, memref<?xf32, strided<[1], offset: ?>>) -> ()
  return
}

// -----

// A random fill of everything outside the boxes keeps the generated form (a Philox block for
// nearly every voxel either way).
// CHECK-LABEL: func @dropout_keeping_the_boxes_with_a_random_fill
// CHECK:         med.coarse_dropout
// CHECK-NOT:     call @med_uk_coarse_dropout_f32
func.func @dropout_keeping_the_boxes_with_a_random_fill(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?xf32, strided<[1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %base, %off, %size, %stride = memref.extract_strided_metadata %in : memref<?xf32, strided<[1], offset: ?>> -> memref<f32>, index, index, index
  %r = med.coarse_dropout %t, %a, %a, %a, %a, %a, %a, (%a, %a, %a, %a, %a, %a), %off {spatial_rank = 2.0 : f64, fill_range} : tensor<?xf32> -> tensor<?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xf32>, memref<?xf32, strided<[1], offset: ?>>) -> ()
  return
}

// -----

// A module whose schedule asks for generated code only (Schedule::microkernels(false)) keeps
// the lone resample: no call.
// CHECK-LABEL: func @schedule_without_microkernels
// CHECK:         med.resample
// CHECK-NOT:     call @med_uk_resample_linear_f32
// LLVM-LABEL: llvm.func @schedule_without_microkernels
// LLVM-NOT:     llvm.call @med_uk_resample_linear_f32
module attributes {med.microkernels = false} {
func.func @schedule_without_microkernels(%in: memref<?xf32, strided<[1], offset: ?>>, %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %a: f64) {
  %t = bufferization.to_tensor %in restrict : memref<?xf32, strided<[1], offset: ?>>
  %c0 = arith.constant 0 : index
  %base, %off, %sizes:2, %strides:2 = memref.extract_strided_metadata %out : memref<?x?xf32, strided<[?, 1], offset: ?>> -> memref<f32>, index, index, index, index, index
  %rows = memref.dim %out, %c0 : memref<?x?xf32, strided<[?, 1], offset: ?>>
  %r = med.resample %t [%off, %rows] (%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a) {mode = "bilinear", padding_mode = "zeros"} : tensor<?xf32> -> tensor<?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?x?xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>) -> ()
  return
}
}
