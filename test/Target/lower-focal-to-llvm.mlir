// RUN: med-opt %s --split-input-file --med-lower-to-llvm | FileCheck %s
// The focal loss kernels as lib/kernels launches them, down to LLVM: gamma (and alpha) read from
// the parameter buffer, the sums folded into f64, the softmax forms over strided row blocks, and
// the gradients written straight into the output.

// The sigmoid sums kernel: exp and log for logsigmoid, gamma and alpha loaded as f64 and rounded.
// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.load %{{.*}} : !llvm.ptr -> f64
// CHECK:         llvm.fptrunc %{{.*}} : f64 to f32
// CHECK:         llvm.intr.exp
// CHECK:         llvm.intr.log
// CHECK:         llvm.fpext %{{.*}} : f32 to f64
// CHECK:         llvm.fadd %{{.*}} : f64
// CHECK:         llvm.return
func.func @med_kernel(%in0: memref<?xf32>, %in1: memref<?xf32>, %params: memref<?xf64>, %out: memref<?xf64>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %in0 restrict : memref<?xf32>
  %t = bufferization.to_tensor %in1 restrict : memref<?xf32>
  %c0 = arith.constant 0 : index
  %p0 = memref.load %params[%c0] : memref<?xf64>
  %c1 = arith.constant 1 : index
  %p1 = memref.load %params[%c1] : memref<?xf64>
  %s = med.focal_sums %x, %t, %p0, %p1 : tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  %r = tensor.cast %s : tensor<1xf64> to tensor<?xf64>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xf64>, memref<?xf64>) -> ()
  return
}

// -----

// The sigmoid gradient: an elementwise loop storing f32, no temporary buffer.
// CHECK-LABEL: llvm.func @med_kernel
// CHECK-NOT:     llvm.call @malloc
// CHECK:         llvm.intr.exp
// CHECK:         llvm.fdiv
// CHECK:         llvm.store %{{.*}} : f32, !llvm.ptr
// CHECK-NOT:     llvm.call @malloc
// CHECK:         llvm.return
func.func @med_kernel(%in0: memref<?xf32>, %in1: memref<?xf32>, %params: memref<?xf64>, %out: memref<?xf32>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %in0 restrict : memref<?xf32>
  %t = bufferization.to_tensor %in1 restrict : memref<?xf32>
  %c0 = arith.constant 0 : index
  %p0 = memref.load %params[%c0] : memref<?xf64>
  %c1 = arith.constant 1 : index
  %p1 = memref.load %params[%c1] : memref<?xf64>
  %r = med.focal_grad %x, %t, %p0, %p1 : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}

// -----

// The softmax sums over a (channels x voxels) block whose rows lie a stride apart, with a label
// map: the log softmax (exp, log), exp(gamma log q) for (1 - p)^gamma, f64 accumulation.
// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.intr.maximum
// CHECK:         llvm.intr.exp
// CHECK:         llvm.intr.log
// CHECK-NOT:     llvm.intr.pow
// CHECK:         llvm.fpext %{{.*}} : f32 to f64
// CHECK:         llvm.return
func.func @med_kernel(%in0: memref<2x?xf32, strided<[?, 1]>>, %in1: memref<?xf32>, %params: memref<?xf64>, %out: memref<?xf64>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %in0 restrict : memref<2x?xf32, strided<[?, 1]>>
  %t = bufferization.to_tensor %in1 restrict : memref<?xf32>
  %c0 = arith.constant 0 : index
  %p0 = memref.load %params[%c0] : memref<?xf64>
  %s = med.softmax_focal_sums %x, %t, %p0 {first = 1} : tensor<2x?xf32>, tensor<?xf32> -> tensor<3xf64>
  %r = tensor.cast %s : tensor<3xf64> to tensor<?xf64>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xf64>, memref<?xf64>) -> ()
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
func.func @med_kernel(%in0: memref<2x?xf32, strided<[?, 1]>>, %in1: memref<2x?xf32, strided<[?, 1]>>, %coeff: memref<?xf64>, %params: memref<?xf64>, %out: memref<2x?xf32, strided<[?, 1]>>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %in0 restrict : memref<2x?xf32, strided<[?, 1]>>
  %t = bufferization.to_tensor %in1 restrict : memref<2x?xf32, strided<[?, 1]>>
  %kd = bufferization.to_tensor %coeff restrict : memref<?xf64>
  %k = tensor.cast %kd : tensor<?xf64> to tensor<2xf64>
  %c0 = arith.constant 0 : index
  %p0 = memref.load %params[%c0] : memref<?xf64>
  %r = med.softmax_focal_grad %x, %t, %k, %p0 : tensor<2x?xf32>, tensor<2x?xf32>, tensor<2xf64> -> tensor<2x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<2x?xf32>, memref<2x?xf32, strided<[?, 1]>>) -> ()
  return
}
