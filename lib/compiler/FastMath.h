// Inline float32 log, exp, cos and a power on [0, 1] for the per-voxel transcendental work of the
// random intensity kernels (internal to lib/compiler).
//
// Why not math.log/exp/cos: those become calls into libmvec (AVX2 variants only, with a scalar
// fallback for any lane that holds a special value), which took most of the Gaussian noise and
// the contrast kernels' time. These are straight-line arithmetic and selects that LLVM
// vectorises at the target's full width. Accuracy, checked over dense sweeps of float32 inputs
// by unittests/compiler/fast_math_test.cpp: within 2 ulp of the correctly rounded value (log on
// (0, inf], exp on [-87.3, 88.7], cos on |x| <= 64). Special values: log(0) = -inf,
// log(x < 0) = NaN, log(inf) = inf; exp(x) = 0 below -87.3 (no subnormal results: they cost a
// microcode assist per vector that holds one) and inf above 88.72; cos(x) = NaN for
// |x| >= 2^20 (and +-inf); NaN in gives NaN out.
//
// Only for f32: f64 compute types keep the math dialect's ops (the error bounds above are the
// f32 ones). `logOf` and friends pick the form from the value's type.
#pragma once

#include "mlir/IR/Builders.h"

namespace mlir::med::lowering {

/// log(x) for f32 x: frexp-style reduction to m in [sqrt(1/2), sqrt(2)) and a degree-11
/// polynomial in m - 1 (t - t^2 / 2 + t^3 times a degree-8 fit).
Value fastLogF32(OpBuilder &b, Location loc, Value x);
/// exp(x) for f32 x: x = n ln2 + r with |r| <= ln2 / 2, a degree-7 polynomial in r, and 2^n
/// applied as two factors (2^128 is not a float); 0 below -87.3.
Value fastExpF32(OpBuilder &b, Location loc, Value x);
/// x^g for f32 x in [0, 1] and g > 0 (RandAdjustContrast's power of the image scaled to its
/// range): exp(g log x) exactly as fastExpF32 of g times fastLogF32 gives it there, bit for bit,
/// without the work those spend on arguments this range excludes (log's results for inf and
/// negative x; exp's second factor of 2^n, which only n > 127 needs): 8.1 -> 6.9 ms for the
/// contrast over 1x256x256x128 on one thread. NaN x gives NaN; x > 1 still gives x^g, inf
/// from exp(88.38) on (fastExpF32: 88.72).
Value fastPowUnitF32(OpBuilder &b, Location loc, Value x, Value g);
/// exp(x) for f64 x, within a few double ulp: x = n ln2 + r, r's Taylor series to r^13, 2^n as
/// two factors; 0 below -708.39 (no subnormals). libmvec has no 8-lane exp that LLVM maps, so
/// math.exp on f64 becomes eight scalar calls per AVX-512 vector.
Value fastExpF64(OpBuilder &b, Location loc, Value x);
/// cos(x) for f32 x: x = q pi/2 + r with |r| <= pi/4 (pi/2 in three parts), then cos or sin
/// of r by q mod 4.
Value fastCosF32(OpBuilder &b, Location loc, Value x);

/// log, exp and cos of a compute-type value: the inline forms for f32, math ops for f64.
Value logOf(OpBuilder &b, Location loc, Value x);
Value expOf(OpBuilder &b, Location loc, Value x);
Value cosOf(OpBuilder &b, Location loc, Value x);

} // namespace mlir::med::lowering
