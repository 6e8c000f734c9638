// RUN: med-opt %s --split-input-file --convert-med-to-linalg | FileCheck %s
// The focal loss kernels. med.focal_sums: the sigmoid focal term folded by groups of 64 x 16
// elements in the input type, then through 16-lane f64 folds, as med.dice_sums. gamma, alpha and
// 1 - alpha (formed in f64) are rounded to the input type once, outside the loops. logsigmoid is
// min(v, 0) - log1p(exp(-|v|)), with log1p(e) = e where 1 + e rounds to 1, else
// log(1 + e) e / ((1 + e) - 1).

// CHECK-LABEL: func @focal_sums_alpha_f32
// CHECK-SAME:    (%{{.*}}: tensor<?xf32>, %{{.*}}: tensor<?xf32>, %[[G64:.*]]: f64, %[[A64:.*]]: f64)
// CHECK-DAG:     %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[ONE64:.*]] = arith.constant 1.000000e+00 : f64
// CHECK:         %[[G:.*]] = arith.truncf %[[G64]] : f64 to f32
// CHECK:         %[[A:.*]] = arith.truncf %[[A64]] : f64 to f32
// CHECK:         %[[AC64:.*]] = arith.subf %[[ONE64]], %[[A64]] : f64
// CHECK:         %[[AC:.*]] = arith.truncf %[[AC64]] : f64 to f32
// CHECK:         tensor.expand_shape %{{.*}} {{\[}}[0, 1, 2]] output_shape [%{{.*}}, 64, 16] : tensor<?xf32> into tensor<?x64x16xf32>
// CHECK:         %[[PART:.*]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      outs(%{{.*}} : tensor<?x16xf32>)
// CHECK:         ^bb0(%[[X:[a-z0-9_]+]]: f32, %[[T:[a-z0-9_]+]]: f32, %[[ACC:[a-z0-9_]+]]: f32):
// CHECK-NOT:       f64
// CHECK:           %[[LOW:.*]] = arith.minimumf %[[X]], %[[ZERO]] : f32
// CHECK:           %[[ABS:.*]] = math.absf %[[X]] : f32
// CHECK:           %[[NABS:.*]] = arith.negf %[[ABS]] : f32
// CHECK:           %[[E:.*]] = math.exp %[[NABS]] : f32
// CHECK:           %[[U:.*]] = arith.addf %[[E]], %[[ONE]] : f32
// CHECK:           %[[EXACT:.*]] = arith.cmpf oeq, %[[U]], %[[ONE]] : f32
// CHECK:           %[[UM1:.*]] = arith.subf %[[U]], %[[ONE]] : f32
// CHECK:           %[[LOGU:.*]] = math.log %[[U]] : f32
// CHECK:           %[[LE:.*]] = arith.mulf %[[LOGU]], %[[E]] : f32
// CHECK:           %[[SCALED:.*]] = arith.divf %[[LE]], %[[UM1]] : f32
// CHECK:           %[[L1P:.*]] = arith.select %[[EXACT]], %[[E]], %[[SCALED]] : f32
// CHECK:           %[[LSX:.*]] = arith.subf %[[LOW]], %[[L1P]] : f32
// CHECK:           %[[XT:.*]] = arith.mulf %[[X]], %[[T]] : f32
// CHECK:           %[[XMXT:.*]] = arith.subf %[[X]], %[[XT]] : f32
// CHECK:           %[[BCE:.*]] = arith.subf %[[XMXT]], %[[LSX]] : f32
// CHECK:           %[[T2:.*]] = arith.mulf %[[T]], %[[TWO]] : f32
// CHECK:           %[[S:.*]] = arith.subf %[[T2]], %[[ONE]] : f32
// CHECK:           %[[NX:.*]] = arith.negf %[[X]] : f32
// CHECK:           %[[Z:.*]] = arith.mulf %[[NX]], %[[S]] : f32
// CHECK:           %[[LOWZ:.*]] = arith.minimumf %[[Z]], %[[ZERO]] : f32
// CHECK:           %[[LSZ:.*]] = arith.subf %[[LOWZ]], %{{.*}} : f32
// CHECK:           %[[GL:.*]] = arith.mulf %[[LSZ]], %[[G]] : f32
// CHECK:           %[[F:.*]] = math.exp %[[GL]] : f32
// CHECK-DAG:       %[[OMT:.*]] = arith.subf %[[ONE]], %[[T]] : f32
// CHECK-DAG:       %[[NEG:.*]] = arith.mulf %[[OMT]], %[[AC]] : f32
// CHECK-DAG:       %[[POS:.*]] = arith.mulf %[[T]], %[[A]] : f32
// CHECK:           %[[FAC:.*]] = arith.addf %[[POS]], %[[NEG]] : f32
// CHECK:           %[[TERM:.*]] = arith.mulf %[[F]], %[[BCE]] : f32
// CHECK:           %[[WTERM:.*]] = arith.mulf %[[FAC]], %[[TERM]] : f32
// CHECK:           %[[NEXT:.*]] = arith.addf %[[ACC]], %[[WTERM]] : f32
// CHECK:           linalg.yield %[[NEXT]] : f32
// CHECK:         tensor.collapse_shape %[[PART]] {{\[}}[0, 1]] : tensor<?x16xf32> into tensor<?xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK-SAME:      outs(%{{.*}} : tensor<16xf64>)
// CHECK:           arith.extf %{{.*}} : f32 to f64
// The elements after the last group: the same term, straight into f64.
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<?x16xf32>) outs(%{{.*}} : tensor<16xf64>)
// CHECK:           math.log
// CHECK:           arith.extf %{{.*}} : f32 to f64
// CHECK:         tensor.from_elements %{{.*}} : tensor<1xf64>
func.func @focal_sums_alpha_f32(%x: tensor<?xf32>, %t: tensor<?xf32>, %g: f64, %a: f64) -> tensor<1xf64> {
  %0 = med.focal_sums %x, %t, %g, %a : tensor<?xf32>, tensor<?xf32> -> tensor<1xf64>
  return %0 : tensor<1xf64>
}

// -----

// Without alpha there is no alpha factor; f64 needs no rounding of gamma.
// CHECK-LABEL: func @focal_sums_f64
// CHECK-SAME:    (%{{.*}}: tensor<?xf64>, %{{.*}}: tensor<?xf64>, %[[G:.*]]: f64)
// CHECK-NOT:     arith.truncf
// CHECK:         linalg.generic
// CHECK:           %[[GL:.*]] = arith.mulf %{{.*}}, %[[G]] : f64
// CHECK-NEXT:      %[[F:.*]] = math.exp %[[GL]] : f64
// CHECK-NEXT:      %[[TERM:.*]] = arith.mulf %[[F]], %{{.*}} : f64
// CHECK-NEXT:      arith.addf %{{.*}}, %[[TERM]] : f64
// CHECK-NEXT:      linalg.yield
func.func @focal_sums_f64(%x: tensor<?xf64>, %t: tensor<?xf64>, %g: f64) -> tensor<1xf64> {
  %0 = med.focal_sums %x, %t, %g : tensor<?xf64>, tensor<?xf64> -> tensor<1xf64>
  return %0 : tensor<1xf64>
}

// -----

// The gradient: one elementwise map, coefficient * f * (gamma sigmoid(-z) (-s) bce +
// (sigmoid(x) - t)) with z = -x s and s = 2 t - 1.
// CHECK-LABEL: func @focal_grad_f64
// CHECK-SAME:    (%{{.*}}: tensor<?xf64>, %{{.*}}: tensor<?xf64>, %[[K:.*]]: f64, %[[G:.*]]: f64)
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK:         ^bb0(%[[X:[a-z0-9_]+]]: f64, %[[T:[a-z0-9_]+]]: f64, %{{[a-z0-9_]+}}: f64):
// CHECK:           %[[XT:.*]] = arith.mulf %[[X]], %[[T]] : f64
// CHECK-NEXT:      %[[XMXT:.*]] = arith.subf %[[X]], %[[XT]] : f64
// CHECK-NEXT:      %[[BCE:.*]] = arith.subf %[[XMXT]], %{{.*}} : f64
// CHECK-NEXT:      %[[T2:.*]] = arith.mulf %[[T]], %{{.*}} : f64
// CHECK-NEXT:      %[[S:.*]] = arith.subf %[[T2]], %{{.*}} : f64
// CHECK-NEXT:      %[[NX:.*]] = arith.negf %[[X]] : f64
// CHECK-NEXT:      %[[Z:.*]] = arith.mulf %[[NX]], %[[S]] : f64
// CHECK:           %[[GL:.*]] = arith.mulf %{{.*}}, %[[G]] : f64
// CHECK-NEXT:      %[[F:.*]] = math.exp %[[GL]] : f64
// CHECK:           %[[NS:.*]] = arith.negf %[[S]] : f64
// CHECK:           %[[EZ:.*]] = math.exp %[[Z]] : f64
// CHECK:           %[[DEN:.*]] = arith.addf %[[EZ]], %{{.*}} : f64
// CHECK:           %[[SMZ:.*]] = arith.divf %{{.*}}, %[[DEN]] : f64
// CHECK:           %[[GS:.*]] = arith.mulf %[[G]], %[[SMZ]] : f64
// CHECK:           %[[DLOG:.*]] = arith.mulf %[[GS]], %[[NS]] : f64
// CHECK:           %[[SX:.*]] = arith.divf
// CHECK:           %[[DBCE:.*]] = arith.subf %[[SX]], %[[T]] : f64
// CHECK:           %[[A:.*]] = arith.mulf %[[DLOG]], %[[BCE]] : f64
// CHECK:           %[[IN:.*]] = arith.addf %[[A]], %[[DBCE]] : f64
// CHECK:           %[[FG:.*]] = arith.mulf %[[F]], %[[IN]] : f64
// CHECK:           %[[R:.*]] = arith.mulf %[[K]], %[[FG]] : f64
// CHECK:           linalg.yield %[[R]] : f64
func.func @focal_grad_f64(%x: tensor<?xf64>, %t: tensor<?xf64>, %k: f64, %g: f64) -> tensor<?xf64> {
  %0 = med.focal_grad %x, %t, %k, %g : tensor<?xf64>, tensor<?xf64> -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

// The softmax form over a (channels x voxels) block of classes first.. first + C - 1: per voxel
// the log softmax l_c = (x_c - m) - log(sum_k exp(x_k - m)), p_c = exp(l_c), and the term
// -(1 - p_c)^gamma l_c t_c, the power as exp(gamma log q) (1 when gamma = 0); with first = 1 row
// c reads class c + 1 of the label (1 <= v < 2,
// 2 <= v < 3), and the last sum counts the labels naming a class in [0, first + C): -1 < v < 3.
// CHECK-LABEL: func @softmax_focal_sums_labels
// CHECK-DAG:     %[[M1:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG:     %[[THREE:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-DAG:     %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[G:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[GZ:.*]] = arith.cmpf oeq, %{{.*}}, %{{.*}} : f64
// CHECK:         %[[PART:.*]]:3 = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64x16xf32>, tensor<?x64x16xf32>, tensor<?x64x16xf32>)
// CHECK:         ^bb0(%[[X0:[a-z0-9_]+]]: f32, %[[X1:[a-z0-9_]+]]: f32, %[[L:[a-z0-9_]+]]: f32, %[[A0:[a-z0-9_]+]]: f32, %[[A1:[a-z0-9_]+]]: f32, %[[AN:[a-z0-9_]+]]: f32):
// CHECK-NOT:       f64
// CHECK:           %[[M:.*]] = arith.maximumf %[[X0]], %[[X1]] : f32
// CHECK:           %[[D0:.*]] = arith.subf %[[X0]], %[[M]] : f32
// CHECK:           %[[E0:.*]] = math.exp %[[D0]] : f32
// CHECK:           %[[D1:.*]] = arith.subf %[[X1]], %[[M]] : f32
// CHECK:           %[[E1:.*]] = math.exp %[[D1]] : f32
// CHECK:           %[[SUM:.*]] = arith.addf %[[E0]], %[[E1]] : f32
// CHECK:           %[[LSE:.*]] = math.log %[[SUM]] : f32
// CHECK:           %[[L0:.*]] = arith.subf %[[D0]], %[[LSE]] : f32
// CHECK:           %[[P0:.*]] = math.exp %[[L0]] : f32
// CHECK:           %[[L1:.*]] = arith.subf %[[D1]], %[[LSE]] : f32
// CHECK:           math.exp %[[L1]] : f32
// CHECK:           %[[GE1:.*]] = arith.cmpf oge, %[[L]], %[[ONE]] : f32
// CHECK:           %[[LT2:.*]] = arith.cmpf olt, %[[L]], %[[TWO]] : f32
// CHECK:           %[[H0:.*]] = arith.andi %[[GE1]], %[[LT2]] : i1
// CHECK:           %[[T0:.*]] = arith.select %[[H0]], %[[ONE]], %[[ZERO]] : f32
// CHECK:           arith.cmpf oge, %[[L]], %[[TWO]] : f32
// CHECK:           arith.cmpf olt, %[[L]], %[[THREE]] : f32
// CHECK:           %[[Q0:.*]] = arith.subf %[[ONE]], %[[P0]] : f32
// CHECK:           %[[LQ0:.*]] = math.log %[[Q0]] : f32
// CHECK:           %[[GLQ0:.*]] = arith.mulf %[[G]], %[[LQ0]] : f32
// CHECK:           %[[E0:.*]] = math.exp %[[GLQ0]] : f32
// CHECK:           %[[QG0:.*]] = arith.select %[[GZ]], %[[ONE]], %[[E0]] : f32
// CHECK:           %[[W0:.*]] = arith.negf %[[QG0]] : f32
// CHECK:           %[[WL0:.*]] = arith.mulf %[[W0]], %[[L0]] : f32
// CHECK:           %[[TERM0:.*]] = arith.mulf %[[WL0]], %[[T0]] : f32
// CHECK:           arith.select %[[GZ]], %[[ONE]], %{{.*}} : f32
// CHECK:           %[[ABOVE:.*]] = arith.cmpf ogt, %[[L]], %[[M1]] : f32
// CHECK:           %[[BELOW:.*]] = arith.cmpf olt, %[[L]], %[[THREE]] : f32
// CHECK:           %[[VALID:.*]] = arith.andi %[[ABOVE]], %[[BELOW]] : i1
// CHECK:           %[[COUNT:.*]] = arith.select %[[VALID]], %[[ONE]], %[[ZERO]] : f32
// CHECK:           arith.addf %[[A0]], %[[TERM0]] : f32
// CHECK:           arith.addf %[[A1]], %{{.*}} : f32
// CHECK:           arith.addf %[[AN]], %[[COUNT]] : f32
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}}, %{{.*}} : tensor<3xf64>
func.func @softmax_focal_sums_labels(%x: tensor<2x?xf32>, %t: tensor<?xf32>, %g: f64) -> tensor<3xf64> {
  %0 = med.softmax_focal_sums %x, %t, %g {first = 1} : tensor<2x?xf32>, tensor<?xf32> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

// Per-class targets: the target rows join the logit rows; no labelled count.
// CHECK-LABEL: func @softmax_focal_sums_targets
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64x16xf64>, tensor<?x64x16xf64>, tensor<?x64x16xf64>, tensor<?x64x16xf64>)
// CHECK-NOT:       arith.cmpf
// CHECK-NOT:       math.powf
// CHECK:         tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xf64>
func.func @softmax_focal_sums_targets(%x: tensor<2x?xf64>, %t: tensor<2x?xf64>, %g: f64) -> tensor<2xf64> {
  %0 = med.softmax_focal_sums %x, %t, %g : tensor<2x?xf64>, tensor<2x?xf64> -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

// The gradient: coefficients, gamma and gamma - 1 rounded once, a flag for gamma = 0; then one
// loop over the voxels: u_c = k_c t_c (gamma (1 - p_c)^(gamma - 1) p_c l_c - (1 - p_c)^gamma)
// (the first product 0 when gamma = 0), and u_c - p_c sum_k u_k inserted for every channel.
// CHECK-LABEL: func @softmax_focal_grad_targets
// CHECK-SAME:    (%{{.*}}: tensor<2x?xf32>, %[[TGT:.*]]: tensor<2x?xf32>, %{{.*}}: tensor<2xf64>, %[[G64:.*]]: f64)
// CHECK-DAG:     %[[FZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[ZERO64:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG:     %[[ONE64:.*]] = arith.constant 1.000000e+00 : f64
// CHECK:         %[[K0:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[K1:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[GM164:.*]] = arith.subf %[[G64]], %[[ONE64]] : f64
// CHECK:         %[[G:.*]] = arith.truncf %[[G64]] : f64 to f32
// CHECK:         %[[GM1:.*]] = arith.truncf %[[GM164]] : f64 to f32
// CHECK:         %[[FLAT:.*]] = arith.cmpf oeq, %[[G64]], %[[ZERO64]] : f64
// CHECK:         %[[GM1Z:.*]] = arith.cmpf oeq, %[[GM164]], %[[ZERO64]] : f64
// CHECK:         %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<2x?xf32>
// CHECK:         scf.for %[[V:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (tensor<2x?xf32>)
// CHECK:           %[[T0:.*]] = tensor.extract %[[TGT]][%{{.*}}, %[[V]]] : tensor<2x?xf32>
// CHECK:           %[[LSE:.*]] = math.log %{{.*}} : f32
// CHECK-NEXT:      %[[L0:.*]] = arith.subf %{{.*}}, %[[LSE]] : f32
// CHECK-NEXT:      %[[P0:.*]] = math.exp %[[L0]] : f32
// CHECK-NEXT:      %[[L1:.*]] = arith.subf %{{.*}}, %[[LSE]] : f32
// CHECK-NEXT:      %[[P1:.*]] = math.exp %[[L1]] : f32
// CHECK-NEXT:      %[[Q0:.*]] = arith.subf %[[ONE]], %[[P0]] : f32
// CHECK-NEXT:      %[[LQ0:.*]] = math.log %[[Q0]] : f32
// CHECK-NEXT:      %[[GLQ0:.*]] = arith.mulf %[[G]], %[[LQ0]] : f32
// CHECK-NEXT:      %[[E0:.*]] = math.exp %[[GLQ0]] : f32
// CHECK-NEXT:      %[[QG0:.*]] = arith.select %[[FLAT]], %[[ONE]], %[[E0]] : f32
// CHECK-NEXT:      %[[LQ1:.*]] = math.log %[[Q0]] : f32
// CHECK-NEXT:      %[[GLQ1:.*]] = arith.mulf %[[GM1]], %[[LQ1]] : f32
// CHECK-NEXT:      %[[E1:.*]] = math.exp %[[GLQ1]] : f32
// CHECK-NEXT:      %[[QG10:.*]] = arith.select %[[GM1Z]], %[[ONE]], %[[E1]] : f32
// CHECK-NEXT:      %[[A:.*]] = arith.mulf %[[G]], %[[QG10]] : f32
// CHECK-NEXT:      %[[B:.*]] = arith.mulf %[[A]], %[[P0]] : f32
// CHECK-NEXT:      %[[SL:.*]] = arith.mulf %[[B]], %[[L0]] : f32
// CHECK-NEXT:      %[[SL0:.*]] = arith.select %[[FLAT]], %[[FZERO]], %[[SL]] : f32
// CHECK-NEXT:      %[[DG0:.*]] = arith.subf %[[SL0]], %[[QG0]] : f32
// CHECK-NEXT:      %[[KT0:.*]] = arith.mulf %[[K0]], %[[T0]] : f32
// CHECK-NEXT:      %[[U0:.*]] = arith.mulf %[[KT0]], %[[DG0]] : f32
// CHECK:           %[[KT1:.*]] = arith.mulf %[[K1]], %{{.*}} : f32
// CHECK-NEXT:      %[[U1:.*]] = arith.mulf %[[KT1]], %{{.*}} : f32
// CHECK-NEXT:      %[[TOTAL:.*]] = arith.addf %[[U0]], %[[U1]] : f32
// CHECK-NEXT:      %[[PT0:.*]] = arith.mulf %[[P0]], %[[TOTAL]] : f32
// CHECK-NEXT:      %[[G0:.*]] = arith.subf %[[U0]], %[[PT0]] : f32
// CHECK-NEXT:      %[[PT1:.*]] = arith.mulf %[[P1]], %[[TOTAL]] : f32
// CHECK-NEXT:      %[[G1:.*]] = arith.subf %[[U1]], %[[PT1]] : f32
// CHECK-NEXT:      %[[I0:.*]] = tensor.insert %[[G0]] into %[[ACC]][%{{.*}}, %[[V]]] : tensor<2x?xf32>
// CHECK-NEXT:      %[[I1:.*]] = tensor.insert %[[G1]] into %[[I0]][%{{.*}}, %[[V]]] : tensor<2x?xf32>
// CHECK-NEXT:      scf.yield %[[I1]] : tensor<2x?xf32>
func.func @softmax_focal_grad_targets(%x: tensor<2x?xf32>, %t: tensor<2x?xf32>, %k: tensor<2xf64>, %g: f64) -> tensor<2x?xf32> {
  %0 = med.softmax_focal_grad %x, %t, %k, %g : tensor<2x?xf32>, tensor<2x?xf32>, tensor<2xf64> -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// Reduction "none", sigmoid form: the term of every element times the coefficient, one
// elementwise generic (the term as med.focal_sums forms it).
// CHECK-LABEL: func @focal_terms
// CHECK:         %[[K:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>)
// CHECK:           %[[F:.*]] = math.exp
// CHECK:           %[[R:.*]] = arith.mulf %[[K]], %{{.*}} : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @focal_terms(%x: tensor<?xf32>, %t: tensor<?xf32>, %k: f64, %g: f64) -> tensor<?xf32> {
  %0 = med.focal_terms %x, %t, %k, %g : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Its gradient: med.focal_grad's with the coefficient times the incoming gradient of the element.
// CHECK-LABEL: func @focal_terms_grad
// CHECK:         %[[K:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>)
// CHECK:         ^bb0(%{{.*}}: f32, %{{.*}}: f32, %[[UP:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK:           %[[KU:.*]] = arith.mulf %[[K]], %[[UP]] : f32
// CHECK:           %[[R:.*]] = arith.mulf %[[KU]], %{{.*}} : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @focal_terms_grad(%x: tensor<?xf32>, %t: tensor<?xf32>, %u: tensor<?xf32>, %k: f64, %g: f64, %a: f64) -> tensor<?xf32> {
  %0 = med.focal_terms_grad %x, %t, %u, %k, %g, %a : tensor<?xf32>, tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Softmax form: a loop over the voxels inserting each class's term times its coefficient.
// CHECK-LABEL: func @softmax_focal_terms
// CHECK:         %[[K0:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[K1:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         scf.for
// CHECK:           %[[R0:.*]] = arith.mulf %[[K0]], %{{.*}} : f32
// CHECK:           %[[R1:.*]] = arith.mulf %[[K1]], %{{.*}} : f32
// CHECK:           tensor.insert %[[R0]]
// CHECK:           tensor.insert %[[R1]]
func.func @softmax_focal_terms(%x: tensor<2x?xf32>, %t: tensor<?xf32>, %k: tensor<2xf64>, %g: f64) -> tensor<2x?xf32> {
  %0 = med.softmax_focal_terms %x, %t, %k, %g {first = 1} : tensor<2x?xf32>, tensor<?xf32>, tensor<2xf64> -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// Its gradient reads the voxel's incoming gradient beside logits and targets and scales each
// class's coefficient by it before the softmax backward.
// CHECK-LABEL: func @softmax_focal_terms_grad
// CHECK:         %[[K0:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         %[[K1:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:         scf.for
// CHECK:           %[[U0:.*]] = tensor.extract %arg2[%{{.*}}, %{{.*}}] : tensor<2x?xf32>
// CHECK:           %[[U1:.*]] = tensor.extract %arg2[%{{.*}}, %{{.*}}] : tensor<2x?xf32>
// CHECK:           arith.mulf %[[K0]], %[[U0]] : f32
// CHECK:           arith.mulf %[[K1]], %[[U1]] : f32
// CHECK:           math.log
func.func @softmax_focal_terms_grad(%x: tensor<2x?xf32>, %t: tensor<2x?xf32>, %u: tensor<2x?xf32>, %k: tensor<2xf64>, %g: f64) -> tensor<2x?xf32> {
  %0 = med.softmax_focal_terms_grad %x, %t, %u, %k, %g : tensor<2x?xf32>, tensor<2x?xf32>, tensor<2x?xf32>, tensor<2xf64> -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}
