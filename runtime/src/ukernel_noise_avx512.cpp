// med_uk_gaussian_noise_f32's AVX-512 build (ukernel_noise.h), compiled with -mavx512f
// -mavx512dq -mfma; called only where the CPU has them.
//
// Why a microkernel: the generated noise loop is the costliest kernel of the augmentation chain
// to compile (its Philox rounds, log and cos appear in the vectorised loop, its remainder and the
// partial groups at both ends). Here blocks of 16 groups (64 voxels), four blocks at a time:
// Philox on 16 lanes of 32-bit words, the two logs and four cosines of each group once, the
// normals interleaved into voxel order.
#include "ukernel_noise.h"

#include <immintrin.h>

namespace med::ukernel {
namespace {

namespace fm = med::rt::fastmath;

__m512 v(float x) { return _mm512_set1_ps(x); }

template <size_t N> __m512 horner16(__m512 x, const float (&k)[N]) {
  __m512 acc = v(k[0]);
  for (size_t i = 1; i < N; ++i)
    acc = _mm512_fmadd_ps(acc, x, v(k[i]));
  return acc;
}

// The high and the low 32 bits of the 16 products a * b of 32-bit lanes, both from the two
// 64-bit products of the even and the odd lanes (cheaper than a separate vpmulld).
void mulHiLo(__m512i a, __m512i b, __m512i &hi, __m512i &lo) {
  const __m512i even = _mm512_mul_epu32(a, b);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32));
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// Philox4x32-10 of K sets of 16 counters (lo, hi, 0, 0) under one key. The K sets' rounds are
// interleaved: each round waits on the previous one's multiplies, and K independent chains keep
// the multipliers busy in the meantime.
template <int K>
void philox16(const __m512i (&lo)[K], const __m512i (&hi)[K], std::array<uint32_t, 2> key,
              __m512i (&w)[K][4]) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(0xCD9E8D57u));
  __m512i c[K][4];
  for (int k = 0; k < K; ++k) {
    c[k][0] = lo[k];
    c[k][1] = hi[k];
    c[k][2] = c[k][3] = _mm512_setzero_si512();
  }
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    for (int k = 0; k < K; ++k) {
      __m512i hi0, lo0, hi1, lo1;
      mulHiLo(m0, c[k][0], hi0, lo0);
      mulHiLo(m1, c[k][2], hi1, lo1);
      const __m512i n0 =
          _mm512_xor_si512(_mm512_xor_si512(hi1, c[k][1]), _mm512_set1_epi32(static_cast<int>(k0)));
      const __m512i n2 =
          _mm512_xor_si512(_mm512_xor_si512(hi0, c[k][3]), _mm512_set1_epi32(static_cast<int>(k1)));
      c[k][0] = n0;
      c[k][1] = lo1;
      c[k][2] = n2;
      c[k][3] = lo0;
    }
  }
  for (int k = 0; k < K; ++k)
    for (int i = 0; i < 4; ++i)
      w[k][i] = c[k][i];
}

__m512 log16(__m512 x) {
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, v(0x1p-126f), _CMP_LT_OQ);
  const __m512i bits = _mm512_castps_si512(_mm512_mask_mul_ps(x, tiny, x, v(0x1p23f)));
  __m512i e = _mm512_sub_epi32(
      _mm512_srli_epi32(bits, 23),
      _mm512_mask_blend_epi32(tiny, _mm512_set1_epi32(127), _mm512_set1_epi32(127 + 23)));
  __m512 m = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x3f800000)));
  const __mmask16 big = _mm512_cmp_ps_mask(m, v(fm::kSqrt2), _CMP_GT_OQ);
  m = _mm512_mask_mul_ps(m, big, m, v(0.5f));
  e = _mm512_mask_add_epi32(e, big, e, _mm512_set1_epi32(1));
  const __m512 ef = _mm512_cvtepi32_ps(e);
  const __m512 t = _mm512_sub_ps(m, v(1.0f)), z = _mm512_mul_ps(t, t);
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(horner16(t, fm::kLogP), t), z);
  y = _mm512_fmadd_ps(ef, v(fm::kLn2Lo), y);
  y = _mm512_fmadd_ps(z, v(-0.5f), y);
  __m512 r = _mm512_fmadd_ps(ef, v(fm::kLn2Hi), _mm512_add_ps(t, y));
  r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ),
                         v(-std::numeric_limits<float>::infinity()));
  r = _mm512_mask_mov_ps(
      r, _mm512_cmp_ps_mask(x, v(std::numeric_limits<float>::infinity()), _CMP_EQ_OQ), x);
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ),
                            v(std::numeric_limits<float>::quiet_NaN()));
}

__m512 cos16(__m512 x) {
  const __mmask16 finite = _mm512_cmp_ps_mask(_mm512_abs_ps(x), v(fm::kCosLimit), _CMP_LT_OQ);
  const __m512 xg = _mm512_maskz_mov_ps(finite, x);
  const __m512 q = _mm512_roundscale_ps(_mm512_mul_ps(xg, v(fm::kTwoOverPi)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(q, v(-fm::kPiOver2[0]), xg);
  r = _mm512_fmadd_ps(q, v(-fm::kPiOver2[1]), r);
  r = _mm512_fmadd_ps(q, v(-fm::kPiOver2[2]), r);
  const __m512 z = _mm512_mul_ps(r, r);
  const __m512 cosR = _mm512_fmadd_ps(_mm512_mul_ps(horner16(z, fm::kCosC), z), z,
                                      _mm512_fmadd_ps(z, v(-0.5f), v(1.0f)));
  const __m512 sinR = _mm512_fmadd_ps(_mm512_mul_ps(horner16(z, fm::kSinS), z), r, r);
  const __m512 quarter =
      _mm512_roundscale_ps(_mm512_mul_ps(q, v(0.25f)), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512 k = _mm512_fmadd_ps(v(-4.0f), quarter, q);
  const __mmask16 is1 = _mm512_cmp_ps_mask(k, v(1.0f), _CMP_EQ_OQ);
  const __mmask16 is2 = _mm512_cmp_ps_mask(k, v(2.0f), _CMP_EQ_OQ);
  const __mmask16 is3 = _mm512_cmp_ps_mask(k, v(3.0f), _CMP_EQ_OQ);
  __m512 out = _mm512_mask_mov_ps(cosR, is1 | is3, sinR);
  out = _mm512_mask_xor_ps(out, is1 | is2, out, v(-0.0f)); // the sign flipped, as negf
  return _mm512_mask_mov_ps(v(std::numeric_limits<float>::quiet_NaN()), finite, out);
}

__m512 uniform16(__m512i word) {
  return _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepu32_ps(word), v(0.5f)), v(0x1p-32f));
}

__m512 normal16(__m512 radius, __m512i word, float shift) {
  const __m512 angle = _mm512_sub_ps(
      _mm512_mul_ps(v(static_cast<float>(6.283185307179586)), uniform16(word)), v(shift));
  return _mm512_mul_ps(radius, cos16(angle));
}

// K blocks of 16 groups (64 voxels each) from `at`, their Philox rounds interleaved; each block's
// values are computed exactly as alone.
template <int K>
void noiseBlocks(const Noise &p, const float *in, float *out, int64_t at, uint64_t base) {
  const __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  const float sine = static_cast<float>(1.5707963267948966);
  const __m512i pairLo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i pairHi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i quadLo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
  const __m512i quadHi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  __m512i lo[K], hi[K];
  for (int k = 0; k < K; ++k) {
    // The 16 groups' 64-bit numbers, split into their 32-bit halves (lanes in group order).
    const uint64_t first = (base + static_cast<uint64_t>(at + 64 * k)) >> 2;
    const __m512i gA = _mm512_add_epi64(_mm512_set1_epi64(static_cast<int64_t>(first)), lanes);
    const __m512i gB = _mm512_add_epi64(gA, _mm512_set1_epi64(8));
    lo[k] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(gA)),
                               _mm512_cvtepi64_epi32(gB), 1);
    hi[k] =
        _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(_mm512_srli_epi64(gA, 32))),
                           _mm512_cvtepi64_epi32(_mm512_srli_epi64(gB, 32)), 1);
  }
  __m512i words[K][4];
  philox16<K>(lo, hi, p.key, words);
  for (int k = 0; k < K; ++k) {
    const __m512i *w = words[k];
    const int64_t from = at + 64 * k;
    const __m512 r0 = _mm512_sqrt_ps(_mm512_mul_ps(v(-2.0f), log16(uniform16(w[0]))));
    const __m512 r1 = _mm512_sqrt_ps(_mm512_mul_ps(v(-2.0f), log16(uniform16(w[2]))));
    const __m512 n[4] = {normal16(r0, w[1], 0.0f), normal16(r0, w[1], sine),
                         normal16(r1, w[3], 0.0f), normal16(r1, w[3], sine)};
    // Voxel order: group j's four normals at 4j .. 4j + 3.
    const __m512 a = _mm512_permutex2var_ps(n[0], pairLo, n[1]); // groups 0-7: (n0, n1)
    const __m512 b = _mm512_permutex2var_ps(n[0], pairHi, n[1]); // groups 8-15
    const __m512 c = _mm512_permutex2var_ps(n[2], pairLo, n[3]);
    const __m512 d = _mm512_permutex2var_ps(n[2], pairHi, n[3]);
    auto quads = [&](__m512 x, __m512 y, __m512i idx) {
      return _mm512_castpd_ps(
          _mm512_permutex2var_pd(_mm512_castps_pd(x), idx, _mm512_castps_pd(y)));
    };
    const __m512 normals[4] = {quads(a, c, quadLo), quads(a, c, quadHi), quads(b, d, quadLo),
                               quads(b, d, quadHi)};
    for (int q = 0; q < 4; ++q) {
      const __m512 x = _mm512_loadu_ps(in + from + 16 * q);
      const __m512 noise = _mm512_add_ps(v(p.mean), _mm512_mul_ps(v(p.std), normals[q]));
      _mm512_storeu_ps(out + from + 16 * q, p.on ? _mm512_add_ps(x, noise) : x);
    }
  }
}

} // namespace

void gaussianNoiseAvx512(const Noise &p, const float *in, float *out, int64_t count,
                         uint64_t base) {
  int64_t at = 0;
  // Four blocks at a time: the Philox rounds are a chain of multiplies per block, and four
  // independent chains (16 registers of state) keep the multipliers busy (1x128^3: 1.92 ms one
  // block at a time, 1.67 two, 1.51 four, no better with eight).
  for (; at + 256 <= count; at += 256)
    noiseBlocks<4>(p, in, out, at, base);
  for (; at + 64 <= count; at += 64)
    noiseBlocks<1>(p, in, out, at, base);
}

} // namespace med::ukernel
