// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The HausdorffDTLoss kernels. med.hausdorff_dt_sums: per element (x - t)^2 (f_x^alpha +
// f_t^alpha), each power exp(alpha log f) (1 when alpha is 0, decided once), folded by groups of
// 64 x 16 elements in the input type as med.dice_sums. med.hausdorff_dt_grad: coefficient *
// 2 (x - t) w, one elementwise generic over the four inputs.

// CHECK-LABEL: func @hausdorff_dt_sums
// CHECK:         %[[A:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[Z:.*]] = arith.cmpf oeq, %{{.*}}, %{{.*}} : f64
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64x16xf32>, tensor<?x64x16xf32>, tensor<?x64x16xf32>, tensor<?x64x16xf32>)
// CHECK:         ^bb0(%[[X:[a-z0-9_]+]]: f32, %[[T:[a-z0-9_]+]]: f32, %[[FX:[a-z0-9_]+]]: f32, %[[FT:[a-z0-9_]+]]: f32, %[[ACC:[a-z0-9_]+]]: f32):
// CHECK-NOT:       f64
// CHECK:           %[[D:.*]] = arith.subf %[[X]], %[[T]] : f32
// CHECK-DAG:       %[[LX:.*]] = math.log %[[FX]] : f32
// CHECK-DAG:       %[[LT:.*]] = math.log %[[FT]] : f32
// CHECK-DAG:       %[[MX:.*]] = arith.mulf %[[A]], %[[LX]] : f32
// CHECK-DAG:       %[[MT:.*]] = arith.mulf %[[A]], %[[LT]] : f32
// CHECK-DAG:       %[[EX:.*]] = math.exp %[[MX]] : f32
// CHECK-DAG:       %[[ET:.*]] = math.exp %[[MT]] : f32
// CHECK-DAG:       %[[PX:.*]] = arith.select %[[Z]], %{{.*}}, %[[EX]] : f32
// CHECK-DAG:       %[[PT:.*]] = arith.select %[[Z]], %{{.*}}, %[[ET]] : f32
// CHECK:           %[[W:.*]] = arith.addf %[[PX]], %[[PT]] : f32
// CHECK:           %[[SQ:.*]] = arith.mulf %[[D]], %[[D]] : f32
// CHECK:           %[[TERM:.*]] = arith.mulf %[[SQ]], %[[W]] : f32
// CHECK:           %[[NEW:.*]] = arith.addf %[[ACC]], %[[TERM]] : f32
// CHECK:           linalg.yield %[[NEW]] : f32
// CHECK:         tensor.from_elements %{{.*}} : tensor<1xf64>
func.func @hausdorff_dt_sums(%x: tensor<?xf32>, %t: tensor<?xf32>, %fx: tensor<?xf32>, %ft: tensor<?xf32>, %a: f64) -> tensor<1xf64> {
  %0 = med.hausdorff_dt_sums %x, %t, %fx, %ft, %a : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  return %0 : tensor<1xf64>
}

// -----

// f64: the coefficient and alpha are used as they are.
// CHECK-LABEL: func @hausdorff_dt_grad
// CHECK-NOT:     arith.truncf
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
// CHECK:         ^bb0(%[[X:[a-z0-9_]+]]: f64, %[[T:[a-z0-9_]+]]: f64, %{{.*}}: f64, %{{.*}}: f64, %{{.*}}: f64):
// CHECK:           %[[D:.*]] = arith.subf %[[X]], %[[T]] : f64
// CHECK:           %[[W:.*]] = arith.addf %{{.*}}, %{{.*}} : f64
// CHECK:           %[[TWICE:.*]] = arith.addf %[[D]], %[[D]] : f64
// CHECK:           %[[G:.*]] = arith.mulf %[[TWICE]], %[[W]] : f64
// CHECK:           %[[R:.*]] = arith.mulf %{{.*}}, %[[G]] : f64
// CHECK:           linalg.yield %[[R]] : f64
func.func @hausdorff_dt_grad(%x: tensor<?xf64>, %t: tensor<?xf64>, %fx: tensor<?xf64>, %ft: tensor<?xf64>, %k: f64, %a: f64) -> tensor<?xf64> {
  %0 = med.hausdorff_dt_grad %x, %t, %fx, %ft, %k, %a : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64> -> tensor<?xf64>
  return %0 : tensor<?xf64>
}
