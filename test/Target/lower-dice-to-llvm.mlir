// RUN: med-opt %s --split-input-file --med-lower-to-llvm | FileCheck %s
// The Dice loss kernels down to LLVM: the forward sums (an exp for the sigmoid, f64 adds) and the
// backward map reading its two coefficients from the parameter buffer.

// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.intr.exp
// CHECK:         llvm.fpext %{{.*}} : f32 to f64
// CHECK:         llvm.fadd %{{.*}} : f64
// CHECK:         llvm.return
func.func @med_kernel(%a: memref<?xf32>, %b: memref<?xf32>, %out: memref<?xf64>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %a restrict : memref<?xf32>
  %t = bufferization.to_tensor %b restrict : memref<?xf32>
  %0 = med.dice_sums %x, %t {sigmoid} : tensor<?xf32>, tensor<?xf32> -> tensor<3xf64>
  %1 = tensor.cast %0 : tensor<3xf64> to tensor<?xf64>
  bufferization.materialize_in_destination %1 in restrict writable %out : (tensor<?xf64>, memref<?xf64>) -> ()
  return
}

// -----

// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.load %{{.*}} : !llvm.ptr -> f64
// CHECK:         llvm.fptrunc %{{.*}} : f64 to f32
// CHECK:         llvm.fmul %{{.*}} : f32
// CHECK:         llvm.return
func.func @med_kernel(%a: memref<?xf32>, %b: memref<?xf32>, %params: memref<?xf64>, %out: memref<?xf32>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %a restrict : memref<?xf32>
  %t = bufferization.to_tensor %b restrict : memref<?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %di = memref.load %params[%c0] : memref<?xf64>
  %dp = memref.load %params[%c1] : memref<?xf64>
  %0 = med.dice_grad %x, %t, %di, %dp : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  bufferization.materialize_in_destination %0 in restrict writable %out : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}

// -----

// The softmax sums kernel over a (channels x voxels) block whose rows lie a stride apart: one
// exp per channel, f64 accumulation.
// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.intr.maximum
// CHECK:         llvm.intr.exp
// CHECK:         llvm.intr.exp
// CHECK:         llvm.fdiv
// CHECK:         llvm.fpext %{{.*}} : f32 to f64
// CHECK:         llvm.return
func.func @med_kernel(%a: memref<2x?xf32, strided<[?, 1]>>, %b: memref<?xf32>, %out: memref<?xf64>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %a restrict : memref<2x?xf32, strided<[?, 1]>>
  %t = bufferization.to_tensor %b restrict : memref<?xf32>
  %0 = med.softmax_dice_sums %x, %t : tensor<2x?xf32>, tensor<?xf32> -> tensor<6xf64>
  %1 = tensor.cast %0 : tensor<6xf64> to tensor<?xf64>
  bufferization.materialize_in_destination %1 in restrict writable %out : (tensor<?xf64>, memref<?xf64>) -> ()
  return
}

// -----

// The softmax gradient writes straight into the strided output rows: no temporary buffer, no
// copy.
// CHECK-LABEL: llvm.func @med_kernel
// CHECK-NOT:     llvm.call @malloc
// CHECK:         llvm.intr.exp
// CHECK-NOT:     llvm.call @malloc
// CHECK:         llvm.store %{{.*}} : f32, !llvm.ptr
// CHECK-NOT:     llvm.call @malloc
// CHECK:         llvm.return
func.func @med_kernel(%a: memref<2x?xf32, strided<[?, 1]>>, %b: memref<2x?xf32, strided<[?, 1]>>, %params: memref<4xf64>, %out: memref<2x?xf32, strided<[?, 1]>>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %a restrict : memref<2x?xf32, strided<[?, 1]>>
  %t = bufferization.to_tensor %b restrict : memref<2x?xf32, strided<[?, 1]>>
  %k = bufferization.to_tensor %params restrict : memref<4xf64>
  %0 = med.softmax_dice_grad %x, %t, %k {squared} : tensor<2x?xf32>, tensor<2x?xf32>, tensor<4xf64> -> tensor<2x?xf32>
  bufferization.materialize_in_destination %0 in restrict writable %out : (tensor<2x?xf32>, memref<2x?xf32, strided<[?, 1]>>) -> ()
  return
}
