// RUN: med-opt %s --med-lower-to-llvm | FileCheck %s
// A reduction kernel: the input's extrema written to a 2-element f64 output buffer. Its small
// fixed-size buffers (the lane accumulators, the 2-element result) live on the stack, where LLVM
// keeps them in registers; no heap allocation.

// CHECK-NOT:   llvm.func @malloc
// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.alloca %{{.*}} x f32 {alignment = 64 : i64}
// CHECK-NOT:     llvm.call @malloc
// CHECK:         llvm.fcmp "olt"
// CHECK:         llvm.fcmp "ogt"
// CHECK:         llvm.fcmp "uno"
// CHECK:         llvm.intr.minnum
// CHECK:         llvm.intr.maxnum
// CHECK:         llvm.fpext
// CHECK:         llvm.return
func.func @med_kernel(%in: memref<?xf32>, %out: memref<?xf64>) attributes {llvm.emit_c_interface} {
  %t = bufferization.to_tensor %in restrict : memref<?xf32>
  %0 = med.extrema %t : tensor<?xf32> -> tensor<2xf64>
  %1 = tensor.cast %0 : tensor<2xf64> to tensor<?xf64>
  bufferization.materialize_in_destination %1 in restrict writable %out : (tensor<?xf64>, memref<?xf64>) -> ()
  return
}
