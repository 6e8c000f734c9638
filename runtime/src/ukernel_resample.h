// Internal to the runtime: the parts of med_uk_resample_linear_f32 (ukernels.h) shared by its
// portable and its AVX-512 translation unit, each of which compiles its own copy with its own
// instruction set (std::fma and std::floor become single instructions in the AVX-512 one).
//
// Every value is computed as lib/compiler/MedToLinalgResample.cpp's generated code computes it
// (the same f64 positions and index arithmetic, the same f32 weights, products and sums in the
// same order, the same flags), so the results are identical bit for bit; both files are built
// with -ffp-contract=off so that no multiply and add are fused where the generated code keeps
// them apart.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace med::ukernel {

constexpr int kMaxRank = 3;

// The row-invariant geometry of one call, as the generated code's loop invariants.
struct Geometry {
  int n = 0;
  bool border = false;
  double in[kMaxRank], out[kMaxRank], m[kMaxRank][kMaxRank + 1];
  double inv[kMaxRank], inStride[kMaxRank], inChannel = 1, inMax[kMaxRank];
  double invColumn[kMaxRank]; // 1 / m[d][n - 1]: interiorRun's estimate multiplies
  float inMaxC[kMaxRank], hiMaxC[kMaxRank], baseMaxC[kMaxRank];
  int64_t cornerOffset[1 << kMaxRank];
  double firstRow = 0;
  int64_t rowLength = 0;
};

// What the generated code knows of a row: where its first voxel maps and its channel's base.
struct Row {
  double start[kMaxRank]; // M (o, 1) without the innermost column's term
  double channelBase;
};

// Each translation unit keeps its own copy of the functions (internal linkage): one is built for
// AVX-512, the other for any x86-64, and the linker must never pick one for the other.
namespace {

inline Geometry geometryOf(int n, bool border, const double *args, int64_t windowOffset) {
  Geometry g;
  g.n = n;
  g.border = border;
  for (int d = 0; d < n; ++d) {
    g.in[d] = args[d];
    g.out[d] = args[n + d];
    for (int k = 0; k <= n; ++k)
      g.m[d][k] = args[2 * n + d * (n + 1) + k];
  }
  double prod = 1.0;
  for (int d = n - 1; d >= 0; --d) {
    g.inv[d] = 1.0 / g.out[d];
    g.inStride[d] = prod;
    prod = prod * g.in[d];
  }
  g.inChannel = prod;
  double stepB[kMaxRank];
  for (int d = 0; d < n; ++d) {
    g.inMax[d] = g.in[d] - 1.0;
    const bool wide = g.inMax[d] >= 1.0;
    const double baseMax = wide ? g.inMax[d] - 1.0 : 0.0;
    stepB[d] = wide ? g.inStride[d] : 0.0;
    g.inMaxC[d] = static_cast<float>(g.inMax[d]);
    g.hiMaxC[d] = static_cast<float>(g.inMax[d] - 1.0);
    g.baseMaxC[d] = static_cast<float>(baseMax);
  }
  for (int corner = 0; corner < (1 << n); ++corner) {
    double off = 0.0;
    for (int d = 0; d < n; ++d)
      if ((corner >> (n - 1 - d)) & 1)
        off = off + stepB[d];
    g.cornerOffset[corner] = static_cast<int64_t>(off);
  }
  for (int d = 0; d < n; ++d)
    g.invColumn[d] = 1.0 / g.m[d][n - 1];
  g.firstRow = std::floor((static_cast<double>(windowOffset) + 0.5) * g.inv[n - 1]);
  g.rowLength = static_cast<int64_t>(g.out[n - 1]);
  return g;
}

inline Row rowOf(const Geometry &g, int64_t i) {
  const int n = g.n;
  double o[kMaxRank];
  double rest = static_cast<double>(i) + g.firstRow;
  for (int d = n - 2; d >= 0; --d) {
    const double q = std::floor((rest + 0.5) * g.inv[d]);
    o[d] = rest - q * g.out[d];
    rest = q;
  }
  Row r;
  r.channelBase = rest * g.inChannel;
  for (int d = 0; d < n; ++d) {
    double acc = g.m[d][n];
    for (int k = 0; k < n - 1; ++k)
      acc = std::fma(g.m[d][k], o[k], acc);
    r.start[d] = acc;
  }
  return r;
}

// arith.maximumf / arith.minimumf: NaN propagates, -0 < +0.
inline double maximumf(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return NAN;
  if (a == b)
    return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
inline double minimumf(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return NAN;
  if (a == b)
    return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// The sum of the 2^n corner terms, pairwise: term k and term k + half, halving until one is
// left (((t0 + t4) + (t2 + t6)) + ((t1 + t5) + (t3 + t7)) in 3-D), as the generated code adds
// them. A tree of depth n instead of a chain of 2^n - 1 additions: the gather's latency is
// shorter, which pays where its reads miss the cache.
template <class T, class Add> T cornerSum(T *terms, int n, Add add) {
  for (int half = (1 << n) / 2; half >= 1; half /= 2)
    for (int k = 0; k < half; ++k)
      terms[k] = add(terms[k], terms[k + half]);
  return terms[0];
}

// One voxel by the general formula: per axis the two neighbours' weights and inside flags and a
// base clamped into [0, size - 2]; each read voxel counts with the weight of the neighbour it is.
inline float general(const Geometry &g, const Row &r, const float *in, int64_t x) {
  const int n = g.n;
  float wA[kMaxRank], wB[kMaxRank];
  bool okA[kMaxRank], okB[kMaxRank];
  double flat = r.channelBase;
  for (int d = 0; d < n; ++d) {
    double p = std::fma(g.m[d][n - 1], static_cast<double>(x), r.start[d]);
    if (g.border)
      p = minimumf(maximumf(p, 0.0), g.inMax[d]);
    const double lo64 = std::floor(p);
    const float w1 = static_cast<float>(p - lo64);
    const float w0 = 1.0f - w1;
    const float lo = static_cast<float>(lo64);
    const bool okLo = lo >= 0.0f && lo <= g.inMaxC[d];
    const bool okHi = (w1 < 0.0f || w1 > 0.0f) && lo >= -1.0f && lo <= g.hiMaxC[d];
    const float pos = lo > 0.0f ? lo : 0.0f;
    const float cb = pos < g.baseMaxC[d] ? pos : g.baseMaxC[d];
    const bool atLo = cb == lo;
    const bool aIsLo = atLo && okLo;
    const bool aIsHi = cb == lo + 1.0f && okHi;
    const bool bIsLo = cb + 1.0f == lo && okLo;
    const bool bIsHi = atLo && okHi;
    wA[d] = aIsLo ? w0 : w1;
    okA[d] = aIsLo || aIsHi;
    wB[d] = bIsLo ? w0 : w1;
    okB[d] = bIsLo || bIsHi;
    flat = std::fma(static_cast<double>(cb), g.inStride[d], flat);
  }
  const int64_t base = static_cast<int64_t>(flat);
  float terms[1 << kMaxRank];
  for (int corner = 0; corner < (1 << n); ++corner) {
    float w = 0.0f;
    bool inside = true;
    for (int d = 0; d < n; ++d) {
      const bool hi = (corner >> (n - 1 - d)) & 1;
      const float wd = hi ? wB[d] : wA[d];
      w = d == 0 ? wd : w * wd;
      inside = inside && (hi ? okB[d] : okA[d]);
    }
    const float v = in[base + g.cornerOffset[corner]];
    terms[corner] = inside ? v * w : 0.0f;
  }
  return cornerSum(terms, n, [](float a, float b) { return a + b; });
}

// Whether every neighbour of voxel x lies inside the input: 0 <= p < size - 1 on every axis.
// Then floor(p) and floor(p) + 1 are both inside, the general formula's clamps and flags are
// identities (border's clamp of p too) and only the upper neighbour's weight-is-zero flag is left.
inline bool interior(const Geometry &g, const Row &r, int64_t x) {
  for (int d = 0; d < g.n; ++d) {
    const double p = std::fma(g.m[d][g.n - 1], static_cast<double>(x), r.start[d]);
    if (!(p >= 0.0 && p < g.inMax[d]))
      return false;
  }
  return true;
}

// Whether, with zeros padding, none of the voxels [x0, x1] of the row has a neighbour inside the
// input: on some axis the positions at both ends are at or below -1 or both at or above the size
// (then the lower neighbour is outside and the upper one too or of weight 0), and so, the
// positions being monotone in x, are all those between. Their values are +0: every term is.
inline bool outsideRun(const Geometry &g, const Row &r, int64_t x0, int64_t x1) {
  for (int d = 0; d < g.n; ++d) {
    const double a = std::fma(g.m[d][g.n - 1], static_cast<double>(x0), r.start[d]);
    const double b = std::fma(g.m[d][g.n - 1], static_cast<double>(x1), r.start[d]);
    if ((a <= -1.0 && b <= -1.0) || (a >= g.in[d] && b >= g.in[d]))
      return true;
  }
  return false;
}

// The row's interior run [first, last): the positions are linear in x, so the run is an
// interval; it is estimated from the line with a voxel's margin at each end and kept only if both
// its ends pass the exact test (then every voxel between them does, each axis's position being
// monotone in x). An empty run leaves the whole row to the general formula.
inline void interiorRun(const Geometry &g, const Row &r, int64_t &first, int64_t &last) {
  double lo = 0.0, hi = static_cast<double>(g.rowLength);
  for (int d = 0; d < g.n; ++d) {
    const double s = g.m[d][g.n - 1], p0 = r.start[d];
    if (s == 0.0) {
      if (!(p0 >= 0.0 && p0 < g.inMax[d]))
        hi = lo;
      continue;
    }
    // By the reciprocal: an estimate only (the ends are tested exactly below), and six
    // divisions a row were a third of the rows' own work.
    double a = -p0 * g.invColumn[d], b = (g.inMax[d] - p0) * g.invColumn[d];
    if (a > b)
      std::swap(a, b);
    // Compares rather than std::fmax / std::fmin, which stay library calls (a NaN bound leaves
    // lo and hi as they are, as those would).
    const double from = std::ceil(a) + 1.0, to = std::ceil(b) - 1.0;
    lo = from > lo ? from : lo;
    hi = to < hi ? to : hi;
  }
  first = last = 0;
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
    return;
  const auto a = static_cast<int64_t>(lo), b = static_cast<int64_t>(hi);
  if (interior(g, r, a) && interior(g, r, b - 1)) {
    first = a;
    last = b;
  }
}

} // namespace

/// The AVX-512 build of a window (ukernel_resample_avx512.cpp); only called on CPUs that have
/// AVX-512F and AVX-512DQ.
void resampleLinearAvx512(const Geometry &g, const float *in, float *out, int64_t outRowStride,
                          int64_t rows);

} // namespace med::ukernel
