// The voxel blocks of the fused DiceLoss (dice_fused_blocks.h): scalar templates for double and
// for the tails, eight-lane GCC vector code for float.
#include "dice_fused_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace med::losses::detail {

namespace {

constexpr int64_t kLanes = 8; // independent partial sums, so that block sums vectorise

/// Cephes' degree-6 minimax polynomial for exp(r), |r| <= ln2 / 2, on a float or on a GCC
/// vector of floats (V{} + c broadcasts for both).
template <typename V> [[gnu::always_inline]] inline V expPoly(V r) {
  V p = V{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * (r * r) + r + 1.0f;
}

/// exp(x) for float without calls or branches, so that the voxel loops vectorise: x = n ln2 + r
/// with |r| <= ln2 / 2, Cephes' degree-6 minimax polynomial for exp(r) (within 2 ulp of expf)
/// and 2^n built in the exponent bits. Clamped to [-87, 88]: exp(-87) ~ 1.6e-38 stands for
/// the zero of a far smaller input; NaN stays NaN.
[[gnu::always_inline]] inline float expApprox(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float t = x * 1.44269504088896341f; // n = t rounded to nearest, by conversions (floorf is a call)
  float n = float(int32_t(t + (t < 0.0f ? -0.5f : 0.5f)));
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = expPoly(r);
  int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
inline double expT(double x) { return std::exp(x); }
/// The class of a label as MONAI's .long() gives it (truncation), or -1 outside (-1, C) or NaN;
/// by conversions rather than std::trunc so that the loops vectorise.
template <typename T> [[gnu::always_inline]] inline T labelClass(T l, int64_t C) {
  bool inside = (l > T(-1)) & (l < T(C)); // & rather than &&: no branch
  return T(int32_t(inside ? l : T(-1)));
}
inline float expT(float x) { return expApprox(x); }

/// Pass 1 over voxels [v0, v0 + len) of one sample: the softmax over the C channels (stride n)
/// into p, and per channel the block sums of p*t, p and t into sI/sP/sT (t = one-hot label).
/// Returns the number of labels outside [0, C) (after truncation, as MONAI's .long()).
template <typename T>
[[gnu::always_inline]] inline int64_t forwardBlock(const T *x, const T *lab, T *p, int64_t n,
                                                   int64_t C, int64_t len, T *m, T *z, T *tl,
                                                   double *sI, double *sP, double *sT) {
  for (int64_t i = 0; i < len; ++i)
    m[i] = x[i];
  for (int64_t c = 1; c < C; ++c)
    for (int64_t i = 0; i < len; ++i)
      m[i] = std::max(m[i], x[c * n + i]);
  for (int64_t i = 0; i < len; ++i)
    z[i] = 0;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < len; ++i) {
      T e = expT(x[c * n + i] - m[i]);
      p[c * n + i] = e;
      z[i] += e;
    }
  for (int64_t i = 0; i < len; ++i)
    z[i] = T(1) / z[i];
  int64_t bad = 0;
  for (int64_t i = 0; i < len; ++i) {
    T l = lab[i];
    bad += !((l > T(-1)) & (l < T(C)));
    tl[i] = labelClass(l, C);
  }
  for (int64_t c = 0; c < C; ++c) {
    T aI[kLanes] = {}, aP[kLanes] = {}, aT[kLanes] = {};
    T *pc = p + c * n;
    for (int64_t i = 0; i < len; ++i)
      pc[i] *= z[i];
    for (int64_t i0 = 0; i0 < len; i0 += kLanes)
      for (int64_t j = 0; j < kLanes && i0 + j < len; ++j) {
        T t = tl[i0 + j] == T(c) ? T(1) : T(0);
        aP[j] += pc[i0 + j];
        aI[j] += pc[i0 + j] * t;
        aT[j] += t;
      }
    for (int64_t j = 0; j < kLanes; ++j)
      sI[c] += double(aI[j]), sP[c] += double(aP[j]), sT[c] += double(aT[j]);
  }
  return bad;
}

/// Pass 2 over the same block: d loss / d x_c = p_c (g_c - sum_k p_k g_k) with
/// g_c = beta_c + alpha_c t_c, in place over p.
template <typename T>
[[gnu::always_inline]] inline void backwardBlock(const T *lab, T *p, int64_t n, int64_t C,
                                                 int64_t len, const T *al, const T *be, T *dot) {
  for (int64_t i = 0; i < len; ++i)
    dot[i] = 0;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < len; ++i) {
      T g = be[c] + (labelClass(lab[i], C) == T(c) ? al[c] : T(0));
      dot[i] += p[c * n + i] * g;
    }
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < len; ++i) {
      T g = be[c] + (labelClass(lab[i], C) == T(c) ? al[c] : T(0));
      p[c * n + i] = p[c * n + i] * (g - dot[i]);
    }
}

// Float blocks: eight voxels at a time in GCC vector types, compiled for AVX2 and for the
// baseline and picked at load time; the scalar templates above finish each block's tail (and
// do all the double work).
using v8f = float __attribute__((vector_size(32)));
using v8i = int32_t __attribute__((vector_size(32)));
[[gnu::always_inline]] inline v8f ld(const float *p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline void st(float *p, v8f v) { std::memcpy(p, &v, sizeof v); }
[[gnu::always_inline]] inline v8f splat(float f) { return v8f{} + f; }

/// expApprox on eight lanes.
[[gnu::always_inline]] inline v8f vexp(v8f x) {
  x = x < -87.0f ? splat(-87.0f) : x;
  x = x > 88.0f ? splat(88.0f) : x;
  v8f t = x * 1.44269504088896341f;
  v8i ni = __builtin_convertvector(t + (t < 0.0f ? splat(-0.5f) : splat(0.5f)), v8i);
  v8f n = __builtin_convertvector(ni, v8f);
  v8f r = x - n * 0.693359375f + n * 2.12194440e-4f;
  v8f p = expPoly(r);
  v8i bits = (ni + 127) << 23;
  return p * reinterpret_cast<v8f &>(bits);
}

/// labelClass on eight lanes, as integers; `bad` counts the lanes outside (-1, C).
[[gnu::always_inline]] inline v8i vclass(v8f l, float C, v8i &bad) {
  v8i inside = (l > -1.0f) & (l < C);
  bad += inside + 1; // inside is -1 (true) or 0
  return __builtin_convertvector(inside ? l : splat(-1.0f), v8i);
}

constexpr int64_t kMaxVectorC = 16; // more classes take the scalar path

/// forwardBlock for float with len a multiple of 8 and C <= kMaxVectorC.
__attribute__((target_clones("avx2", "default"))) int64_t
forwardBlockV(const float *x, const float *lab, float *p, int64_t n, int64_t C, int64_t len,
              double *sI, double *sP, double *sT) {
  v8f acc[3 * kMaxVectorC];
  v8f *aI = acc, *aP = acc + C, *aT = acc + 2 * C;
  for (int64_t c = 0; c < 3 * C; ++c)
    acc[c] = splat(0.0f);
  v8i bad = v8i{};
  for (int64_t i = 0; i < len; i += 8) {
    v8f m = ld(x + i);
    for (int64_t c = 1; c < C; ++c) {
      v8f xc = ld(x + c * n + i);
      m = xc > m ? xc : m;
    }
    v8f z = splat(0.0f);
    for (int64_t c = 0; c < C; ++c) {
      v8f e = vexp(ld(x + c * n + i) - m);
      st(p + c * n + i, e);
      z += e;
    }
    v8f inv = 1.0f / z;
    v8i cls = vclass(ld(lab + i), float(C), bad);
    for (int64_t c = 0; c < C; ++c) {
      v8f pc = ld(p + c * n + i) * inv;
      st(p + c * n + i, pc);
      v8f t = cls == int32_t(c) ? splat(1.0f) : splat(0.0f);
      aP[c] += pc;
      aI[c] += pc * t;
      aT[c] += t;
    }
  }
  for (int64_t c = 0; c < C; ++c)
    for (int j = 0; j < 8; ++j)
      sI[c] += double(aI[c][j]), sP[c] += double(aP[c][j]), sT[c] += double(aT[c][j]);
  int64_t count = 0;
  for (int j = 0; j < 8; ++j)
    count += bad[j];
  return count;
}

/// backwardBlock for float with len a multiple of 8.
__attribute__((target_clones("avx2", "default"))) void backwardBlockV(const float *lab, float *p,
                                                                      int64_t n, int64_t C,
                                                                      int64_t len, const float *al,
                                                                      const float *be) {
  v8i unused = v8i{};
  for (int64_t i = 0; i < len; i += 8) {
    v8i cls = vclass(ld(lab + i), float(C), unused);
    v8f dot = splat(0.0f);
    for (int64_t c = 0; c < C; ++c) {
      v8f g = splat(be[c]) + (cls == int32_t(c) ? splat(al[c]) : splat(0.0f));
      dot += ld(p + c * n + i) * g;
    }
    for (int64_t c = 0; c < C; ++c) {
      v8f g = splat(be[c]) + (cls == int32_t(c) ? splat(al[c]) : splat(0.0f));
      st(p + c * n + i, ld(p + c * n + i) * (g - dot));
    }
  }
}

} // namespace

int64_t forwardB(const float *x, const float *lab, float *p, int64_t n, int64_t C, int64_t len,
                 BlockScratch<float> &s, double *sI, double *sP, double *sT) {
  const int64_t main = C <= kMaxVectorC ? len - len % 8 : 0;
  int64_t bad = main > 0 ? forwardBlockV(x, lab, p, n, C, main, sI, sP, sT) : 0;
  return bad + forwardBlock<float>(x + main, lab + main, p + main, n, C, len - main, s.m.data(),
                                   s.z.data(), s.tl.data(), sI, sP, sT);
}
void backwardB(const float *lab, float *p, int64_t n, int64_t C, int64_t len, const float *al,
               const float *be, BlockScratch<float> &s) {
  const int64_t main = C <= kMaxVectorC ? len - len % 8 : 0;
  if (main > 0)
    backwardBlockV(lab, p, n, C, main, al, be);
  backwardBlock<float>(lab + main, p + main, n, C, len - main, al, be, s.dot.data());
}
int64_t forwardB(const double *x, const double *lab, double *p, int64_t n, int64_t C, int64_t len,
                 BlockScratch<double> &s, double *sI, double *sP, double *sT) {
  return forwardBlock<double>(x, lab, p, n, C, len, s.m.data(), s.z.data(), s.tl.data(), sI, sP,
                              sT);
}
void backwardB(const double *lab, double *p, int64_t n, int64_t C, int64_t len, const double *al,
               const double *be, BlockScratch<double> &s) {
  backwardBlock<double>(lab, p, n, C, len, al, be, s.dot.data());
}

} // namespace med::losses::detail
