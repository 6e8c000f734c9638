// RUN: med-opt %s --med-lower-to-llvm | FileCheck %s
// A metric's counting kernel: two masks in, [overlap, |pred|, |target|, bad] out as f64. The
// lane loop is vectorised at LLVM level later; here it is scalar compares and integer adds.

// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.fcmp "une"
// CHECK:         llvm.zext %{{.*}} : i1 to i32
// CHECK:         llvm.uitofp %{{.*}} : i64 to f64
// CHECK:         llvm.return
func.func @med_kernel(%a: memref<?xf32>, %b: memref<?xf32>, %out: memref<?xf64>) attributes {llvm.emit_c_interface} {
  %p = bufferization.to_tensor %a restrict : memref<?xf32>
  %y = bufferization.to_tensor %b restrict : memref<?xf32>
  %0 = med.overlap_counts %p, %y {binary} : tensor<?xf32>, tensor<?xf32> -> tensor<4xf64>
  %1 = tensor.cast %0 : tensor<4xf64> to tensor<?xf64>
  bufferization.materialize_in_destination %1 in restrict writable %out : (tensor<?xf64>, memref<?xf64>) -> ()
  return
}
