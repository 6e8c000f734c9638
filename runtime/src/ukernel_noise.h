// Internal to the runtime: the parts of med_uk_gaussian_noise_f32 (ukernels.h) shared by its
// portable and its AVX-512 translation unit, each compiled with its own instruction set.
//
// Every value is computed as lib/compiler/MedToLinalgNoise.cpp's generated code computes it:
// the same Philox block per group of four voxels, the same float32 uniforms, the log and cos of
// lib/compiler/FastMath.cpp (constants in med/runtime/fast_math.h) with the same operations in
// the same order, so the results are identical bit for bit (built with -ffp-contract=off).
#pragma once

#include "med/runtime/fast_math.h"
#include "med/runtime/rng.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace med::ukernel {

// One call's parameters, as the generated code holds them: the kernel's f64 operands rounded to
// float32 (mean, std) or to 32-bit keys.
struct Noise {
  bool on;
  float mean, std;
  std::array<uint32_t, 2> key;
};

// Each translation unit keeps its own copy (internal linkage): one is built for AVX-512.
namespace {

inline float asFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t asBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

template <size_t N> float horner(float x, const float (&k)[N]) {
  float acc = k[0];
  for (size_t i = 1; i < N; ++i)
    acc = std::fma(acc, x, k[i]);
  return acc;
}

inline float fastLog(float x) {
  namespace fm = med::rt::fastmath;
  const bool tiny = x < 0x1p-126f;
  const uint32_t bits = asBits(tiny ? x * 0x1p23f : x);
  int32_t e = static_cast<int32_t>(bits >> 23) - (tiny ? 127 + 23 : 127);
  float m = asFloat((bits & 0x007fffffu) | 0x3f800000u);
  const bool big = m > fm::kSqrt2;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const float ef = static_cast<float>(e);
  const float t = m - 1.0f, z = t * t;
  float y = (horner(t, fm::kLogP) * t) * z;
  y = std::fma(ef, fm::kLn2Lo, y);
  y = std::fma(z, -0.5f, y);
  float r = std::fma(ef, fm::kLn2Hi, t + y);
  r = x == 0.0f ? -std::numeric_limits<float>::infinity() : r;
  r = x == std::numeric_limits<float>::infinity() ? x : r;
  return (x < 0.0f || std::isnan(x)) ? std::numeric_limits<float>::quiet_NaN() : r;
}

inline float fastCos(float x) {
  namespace fm = med::rt::fastmath;
  const bool finite = std::fabs(x) < fm::kCosLimit;
  const float xg = finite ? x : 0.0f;
  const float q = std::nearbyint(xg * fm::kTwoOverPi); // ties to even in the default mode
  float r = std::fma(q, -fm::kPiOver2[0], xg);
  r = std::fma(q, -fm::kPiOver2[1], r);
  r = std::fma(q, -fm::kPiOver2[2], r);
  const float z = r * r;
  const float cosR = std::fma(horner(z, fm::kCosC) * z, z, std::fma(z, -0.5f, 1.0f));
  const float sinR = std::fma(horner(z, fm::kSinS) * z, r, r);
  const float k = std::fma(-4.0f, std::floor(q * 0.25f), q);
  const bool odd = k == 1.0f || k == 3.0f, negative = k == 1.0f || k == 2.0f;
  float v = odd ? sinR : cosR;
  v = negative ? -v : v;
  return finite ? v : std::numeric_limits<float>::quiet_NaN();
}

inline float uniformOf(uint32_t word) { return (static_cast<float>(word) + 0.5f) * 0x1p-32f; }

// The standard normal of voxel `global` (its group's Philox block, the pair and cosine or sine
// by global % 4).
inline float voxelNormal(const Noise &p, uint64_t global) {
  const auto w = med::rt::voxelBlock(p.key, global >> 2);
  const unsigned k = static_cast<unsigned>(global & 3);
  const uint32_t a = k < 2 ? w[0] : w[2], b = k < 2 ? w[1] : w[3];
  const float shift = (k & 1) ? static_cast<float>(1.5707963267948966) : 0.0f;
  const float radius = std::sqrt(-2.0f * fastLog(uniformOf(a)));
  const float angle = static_cast<float>(6.283185307179586) * uniformOf(b) - shift;
  return radius * fastCos(angle);
}

inline float noisy(const Noise &p, float x, float normal) {
  const float noise = p.mean + p.std * normal;
  return p.on ? x + noise : x;
}

} // namespace

/// The AVX-512 build: voxels [0, count) of the buffer, whose first voxel has global index
/// `base`, a multiple of 64 voxels from a group boundary (ukernel_noise_avx512.cpp).
void gaussianNoiseAvx512(const Noise &p, const float *in, float *out, int64_t count, uint64_t base);

} // namespace med::ukernel
