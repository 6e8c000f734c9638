// med_uk_resample_linear_f32's AVX-512 build (ukernel_resample.h), compiled with -mavx512f
// -mavx512dq -mfma; called only where the CPU has them.
//
// Why a microkernel: LLVM's vectoriser turns the generated gather into per-lane extracts and
// inserts around 128 scalar loads per 16 voxels, and the flags and clamps every voxel carries for
// the image's border double its arithmetic. Here each output row is split where its positions
// enter and leave the input's interior: inside, 16 voxels at a time read their indices from one
// vector store and their two innermost neighbours as one 64-bit word each, and need no flags.
#include "ukernel_resample.h"

#include <immintrin.h>

#include <cstring>

namespace med::ukernel {
namespace {

// arith.maximumf / arith.minimumf on 8 lanes: NaN propagates (max_pd / min_pd would return the
// second operand); for equal operands they return the second one, which is the +0 of max(-0, +0)
// and, with a bound that is never -0, what minimumf returns.
__m512d maximumf8(__m512d a, __m512d b) {
  return _mm512_mask_mov_pd(_mm512_max_pd(a, b), _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), a);
}
__m512d minimumf8(__m512d a, __m512d b) {
  return _mm512_mask_mov_pd(_mm512_min_pd(a, b), _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), a);
}

__m512 join(__m256 lo, __m256 hi) { return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1); }

// Eight lanes' innermost neighbour pairs (base[idx[l]], base[idx[l] + 1]) as 64-bit words, two
// per 128-bit lane.
__m512i pairsOf(const float *base, const int64_t *idx) {
  __m128i q[4];
  for (int j = 0; j < 4; ++j) {
    int64_t second;
    std::memcpy(&second, base + idx[2 * j + 1], sizeof second);
    q[j] = _mm_insert_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(base + idx[2 * j])),
                            second, 1);
  }
  __m512i v = _mm512_castsi128_si512(q[0]);
  v = _mm512_inserti64x2(v, q[1], 1);
  v = _mm512_inserti64x2(v, q[2], 2);
  return _mm512_inserti64x2(v, q[3], 3);
}

// 16 voxels from column x by the general formula (`general`), or, with kInterior, by what it
// reduces to when every neighbour is inside (only the upper neighbours' weight-is-zero flags
// left); the same operations in the same order either way.
template <int N, bool kInterior>
void block16(const Geometry &g, const Row &r, const float *in, int64_t x, float *out) {
  const __m512d xl =
      _mm512_add_pd(_mm512_set1_pd(static_cast<double>(x)), _mm512_setr_pd(0, 1, 2, 3, 4, 5, 6, 7));
  const __m512d xh = _mm512_add_pd(xl, _mm512_set1_pd(8.0));
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  __m512 wA[N], wB[N];
  __mmask16 okA[N], okB[N];
  __m512d flatL = _mm512_set1_pd(r.channelBase), flatH = flatL;
  for (int d = 0; d < N; ++d) {
    const __m512d s = _mm512_set1_pd(g.m[d][N - 1]), p0 = _mm512_set1_pd(r.start[d]);
    __m512d pl = _mm512_fmadd_pd(s, xl, p0), ph = _mm512_fmadd_pd(s, xh, p0);
    if (!kInterior && g.border) {
      const __m512d z = _mm512_setzero_pd(), top = _mm512_set1_pd(g.inMax[d]);
      pl = minimumf8(maximumf8(pl, z), top);
      ph = minimumf8(maximumf8(ph, z), top);
    }
    const __m512d fl = _mm512_roundscale_pd(pl, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512d fh = _mm512_roundscale_pd(ph, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512 w1 =
        join(_mm512_cvtpd_ps(_mm512_sub_pd(pl, fl)), _mm512_cvtpd_ps(_mm512_sub_pd(ph, fh)));
    const __m512 w0 = _mm512_sub_ps(one, w1);
    const __mmask16 nonzero = _mm512_cmp_ps_mask(w1, zero, _CMP_NEQ_OQ);
    const __m512d stride = _mm512_set1_pd(g.inStride[d]);
    if (kInterior) {
      wA[d] = w0;
      wB[d] = w1;
      okA[d] = 0xFFFF;
      okB[d] = nonzero;
      flatL = _mm512_fmadd_pd(fl, stride, flatL);
      flatH = _mm512_fmadd_pd(fh, stride, flatH);
      continue;
    }
    const __m512 lo = join(_mm512_cvtpd_ps(fl), _mm512_cvtpd_ps(fh));
    const __mmask16 okLo = _mm512_cmp_ps_mask(lo, zero, _CMP_GE_OQ) &
                           _mm512_cmp_ps_mask(lo, _mm512_set1_ps(g.inMaxC[d]), _CMP_LE_OQ);
    const __mmask16 okHi = nonzero & _mm512_cmp_ps_mask(lo, _mm512_set1_ps(-1.0f), _CMP_GE_OQ) &
                           _mm512_cmp_ps_mask(lo, _mm512_set1_ps(g.hiMaxC[d]), _CMP_LE_OQ);
    const __m512 pos = _mm512_mask_mov_ps(zero, _mm512_cmp_ps_mask(lo, zero, _CMP_GT_OQ), lo);
    const __m512 baseMax = _mm512_set1_ps(g.baseMaxC[d]);
    const __m512 cb =
        _mm512_mask_mov_ps(baseMax, _mm512_cmp_ps_mask(pos, baseMax, _CMP_LT_OQ), pos);
    const __mmask16 atLo = _mm512_cmp_ps_mask(cb, lo, _CMP_EQ_OQ);
    const __mmask16 aIsLo = atLo & okLo;
    const __mmask16 aIsHi = _mm512_cmp_ps_mask(cb, _mm512_add_ps(lo, one), _CMP_EQ_OQ) & okHi;
    const __mmask16 bIsLo = _mm512_cmp_ps_mask(_mm512_add_ps(cb, one), lo, _CMP_EQ_OQ) & okLo;
    const __mmask16 bIsHi = atLo & okHi;
    wA[d] = _mm512_mask_mov_ps(w1, aIsLo, w0);
    okA[d] = aIsLo | aIsHi;
    wB[d] = _mm512_mask_mov_ps(w1, bIsLo, w0);
    okB[d] = bIsLo | bIsHi;
    flatL = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(cb)), stride, flatL);
    flatH = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(cb, 1)), stride, flatH);
  }
  // Indices through memory (one vector store, a scalar load per lane, no lane extracts); the two
  // innermost neighbours as one 64-bit word, inserted two per 128-bit lane.
  alignas(64) int64_t idx[16];
  _mm512_store_si512(idx, _mm512_cvttpd_epi64(flatL));
  _mm512_store_si512(idx + 8, _mm512_cvttpd_epi64(flatH));
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  __m512 terms[1 << N];
  // Unrolled whole: GCC kept the corner loop as a loop, choosing each corner's weights and
  // flags at run time (the general blocks at a rotated row's ends were a fifth of the gather).
#pragma GCC unroll 4
  for (int pair = 0; pair < (1 << (N - 1)); ++pair) {
    const float *base = in + g.cornerOffset[2 * pair];
    const __m512i low = pairsOf(base, idx), high = pairsOf(base, idx + 8);
#pragma GCC unroll 2
    for (int corner = 2 * pair; corner < 2 * pair + 2; ++corner) {
      __m512 w = zero;
      __mmask16 inside = 0xFFFF;
#pragma GCC unroll 3
      for (int d = 0; d < N; ++d) {
        const bool hi = (corner >> (N - 1 - d)) & 1;
        const __m512 wd = hi ? wB[d] : wA[d];
        w = d == 0 ? wd : _mm512_mul_ps(w, wd);
        inside &= hi ? okB[d] : okA[d];
      }
      const __m512 v =
          _mm512_castsi512_ps(_mm512_permutex2var_epi32(low, corner % 2 ? odd : even, high));
      terms[corner] = _mm512_maskz_mul_ps(inside, v, w);
    }
  }
  _mm512_storeu_ps(out + x,
                   cornerSum(terms, N, [](__m512 a, __m512 b) { return _mm512_add_ps(a, b); }));
}

// How many output planes ahead (rows in 2-D) the interior blocks prefetch their input.
constexpr int64_t kPrefetchPlanes = 4;

// Whether a row's positions cross the input's rows (it is not along the innermost input axis):
// then its reads leave the hardware prefetchers' streams, and an input larger than the last
// level cache costs a miss at each first touch (at 1x256x256x128, one thread: rotated gathers
// took 27-39 ms against 15 unrotated; prefetching 4 planes ahead, 15-16.6).
bool crossesRows(const Geometry &g) {
  for (int d = 0; d + 1 < g.n; ++d)
    if (g.m[d][g.n - 1] != 0.0)
      return true;
  return false;
}

// Prefetches the input that the 16 voxels from column x of row `ahead` start at: two positions
// (x and x + 8), each its base voxel's line and the line one input row further (the other
// neighbours come in with the planes between). Addresses are formed as integers: a prefetch past
// the input's ends is harmless, a pointer there would not be.
template <int N>
void prefetchBlock(const Geometry &g, const Row &ahead, const float *in, int64_t x) {
  const __m512d xs =
      _mm512_add_pd(_mm512_set1_pd(static_cast<double>(x)), _mm512_setr_pd(0, 8, 0, 8, 0, 8, 0, 8));
  __m512d flat = _mm512_set1_pd(ahead.channelBase);
  for (int d = 0; d < N; ++d) {
    const __m512d p =
        _mm512_fmadd_pd(_mm512_set1_pd(g.m[d][N - 1]), xs, _mm512_set1_pd(ahead.start[d]));
    const __m512d fl = _mm512_roundscale_pd(p, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    flat = _mm512_fmadd_pd(fl, _mm512_set1_pd(g.inStride[d]), flat);
  }
  alignas(64) int64_t at[8];
  _mm512_store_si512(at, _mm512_cvttpd_epi64(flat));
  const auto base = reinterpret_cast<uintptr_t>(in);
  const auto rowBytes = static_cast<uintptr_t>(g.inStride[N - 2]) * sizeof(float);
  for (int k = 0; k < 2; ++k) {
    const uintptr_t a = base + static_cast<uintptr_t>(at[k]) * sizeof(float);
    _mm_prefetch(reinterpret_cast<const char *>(a), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(a + rowBytes), _MM_HINT_T0);
  }
}

void rowOfWindow(const Geometry &g, const float *in, float *out, int64_t i, bool prefetch) {
  const Row r = rowOf(g, i);
  const int64_t planeRows = g.n == 3 ? static_cast<int64_t>(g.out[1]) : 1;
  const Row ahead = prefetch ? rowOf(g, i + kPrefetchPlanes * planeRows) : r;
  int64_t first = 0, last = 0;
  interiorRun(g, r, first, last);
  // 16 voxels at a time: by the general formula up to the interior run (the last of those
  // blocks may reach into it: the formula holds everywhere), inside it, then by the general
  // formula to the end, the last block ending at the row's end (recomputing some voxels with the
  // same values).
  const int64_t length = g.rowLength;
  auto generalBlock = [&](int64_t at) {
    if (!g.border && outsideRun(g, r, at, at + 15)) { // rotated corners: nothing to read
      _mm512_storeu_ps(out + at, _mm512_setzero_ps());
      return;
    }
    g.n == 3 ? block16<3, false>(g, r, in, at, out) : block16<2, false>(g, r, in, at, out);
  };
  int64_t x = 0;
  for (; x < first; x += 16)
    generalBlock(std::min(x, length - 16));
  for (; x + 16 <= last; x += 16) {
    if (g.n == 3) {
      if (prefetch)
        prefetchBlock<3>(g, ahead, in, x);
      block16<3, true>(g, r, in, x, out);
    } else {
      if (prefetch)
        prefetchBlock<2>(g, ahead, in, x);
      block16<2, true>(g, r, in, x, out);
    }
  }
  for (; x < length; x += 16)
    generalBlock(std::min(x, length - 16));
}

} // namespace

void resampleLinearAvx512(const Geometry &g, const float *in, float *out, int64_t outRowStride,
                          int64_t rows) {
  const bool prefetch = crossesRows(g);
  for (int64_t i = 0; i < rows; ++i)
    rowOfWindow(g, in, out + i * outRowStride, i, prefetch);
}

} // namespace med::ukernel
