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
