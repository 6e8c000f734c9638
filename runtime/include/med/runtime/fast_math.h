// The float32 log and cos that generated kernels compute inline (lib/compiler/FastMath.h builds
// them as IR) and the runtime's microkernels compute in C++: their constants, written once so the
// two stay the same function. The reductions and polynomial coefficients are the classic
// single-precision ones (minimax fits on the reduced ranges); both sides evaluate a polynomial by
// Horner's rule with one FMA per coefficient, highest first.
#pragma once

namespace med::rt::fastmath {

/// log: x = 2^e m, m in [sqrt(1/2), sqrt(2)); log(1 + t) = t - t^2 / 2 + t^3 P(t), t = m - 1;
/// then e ln 2 with ln 2 in two parts (kLn2Hi + kLn2Lo).
inline constexpr float kLogP[] = {7.0376836292e-2f,  -1.1514610310e-1f, 1.1676998740e-1f,
                                  -1.2420140846e-1f, 1.4249322787e-1f,  -1.6668057665e-1f,
                                  2.0000714765e-1f,  -2.4999993993e-1f, 3.3333331174e-1f};
inline constexpr float kSqrt2 = 1.41421356f;
inline constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;

/// cos: x = q pi/2 + r (pi/2 in three parts whose products with small q are exact), then
/// cos(r) = 1 - r^2 / 2 + r^4 C(r^2) and sin(r) = r + r^3 S(r^2) on [-pi/4, pi/4]. Arguments
/// beyond kCosLimit in magnitude give NaN.
inline constexpr float kTwoOverPi = 0.636619772367581343f;
inline constexpr float kPiOver2[] = {1.5703125f, 4.837512969970703125e-4f, 7.54978995489188216e-8f};
inline constexpr float kCosC[] = {2.443315711809948e-5f, -1.388731625493765e-3f,
                                  4.166664568298827e-2f};
inline constexpr float kSinS[] = {-1.9515295891e-4f, 8.3321608736e-3f, -1.6666654611e-1f};
inline constexpr float kCosLimit = 0x1p20f;

} // namespace med::rt::fastmath
