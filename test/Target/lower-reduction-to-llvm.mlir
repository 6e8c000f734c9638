// RUN: med-opt %s --med-lower-to-llvm | FileCheck %s
// A kernel with a reduction lowers to two loops; its 0-d temporaries are allocated and freed.

// CHECK-LABEL: llvm.func @med_kernel
// CHECK:         llvm.intr.minimum
// CHECK:         llvm.intr.maximum
// CHECK:         llvm.fcmp "oeq"
// CHECK:         llvm.return
func.func @med_kernel(%in: memref<?xi16>, %out: memref<?xf32>) attributes {llvm.emit_c_interface} {
  %t = bufferization.to_tensor %in restrict : memref<?xi16>
  %0 = med.scale_intensity %t {minv = 0.0, maxv = 1.0} : tensor<?xi16> -> tensor<?xf32>
  bufferization.materialize_in_destination %0 in restrict writable %out : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}
