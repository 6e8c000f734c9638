// RUN: med-opt %s --med-lower-to-llvm | FileCheck %s
// The JIT's pipeline: one loop over the flat buffer, written in place (no allocation, no copy),
// plus the C-interface wrapper the runtime calls.

// CHECK-LABEL: llvm.func @med_kernel
// CHECK-NOT:     llvm.call @malloc
// CHECK-NOT:     memcpy
// CHECK:         llvm.load %{{.*}} : !llvm.ptr -> i8
// CHECK:         llvm.uitofp %{{.*}} : i8 to f32
// CHECK:         llvm.fcmp "ogt"
// CHECK:         llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr
// CHECK-NOT:     llvm.call @free
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_med_kernel(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK:         llvm.call @med_kernel
func.func @med_kernel(%in: memref<?xui8>, %out: memref<?xf32>) attributes {llvm.emit_c_interface} {
  %t = bufferization.to_tensor %in restrict : memref<?xui8>
  %0 = med.scale_intensity_range %t {a_min = 0.0, a_max = 255.0, b_min = 0.0, b_max = 1.0, clip} : tensor<?xui8> -> tensor<?xf32>
  %1 = med.threshold_intensity %0 {threshold = 0.2, above} : tensor<?xf32> -> tensor<?xf32>
  bufferization.materialize_in_destination %1 in restrict writable %out : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}
