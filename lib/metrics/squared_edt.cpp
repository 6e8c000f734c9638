// The exact squared Euclidean distance transform (separable lower envelope of parabolas) behind
// distance_transform_edt and the surface metrics, in two forms: every voxel (squared_edt), and
// only the voxels a surface metric reads (squared_edt_at), which skips the planes and lines that
// hold none of them.
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <limits>

#include "surface_internal.h"

namespace med::metrics::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Scratch for one line: the envelope's parabola roots v, boundaries z and values g.
struct LineScratch {
  explicit LineScratch(int64_t n) : v(n), z(n + 1), g(n) {}
  std::vector<int64_t> v;
  std::vector<double> z, g;
};

/// Builds the lower envelope of the parabolas f[q] + (w (p - q))^2 over the finite f[q] of one
/// line; returns the index of its last parabola, -1 when the line is all inf. inv[k] = 1 / (2 w^2
/// k) for 0 < k < n, so that intersections multiply instead of divide (a tie broken differently
/// picks a parabola of the same value).
int64_t lowerEnvelope(const double *f, int64_t n, double w, const double *inv, LineScratch &s) {
  const double w2 = w * w;
  int64_t *v = s.v.data();
  double *z = s.z.data(), *g = s.g.data();
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf)
      continue;
    g[q] = f[q] + w2 * double(q) * double(q);
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
      continue;
    }
    double x;
    while (true) {
      // Intersection of the parabolas rooted at v[k] and q (in index units).
      x = (g[q] - g[v[k]]) * inv[q - v[k]];
      if (x <= z[k] && k > 0) {
        --k;
        continue;
      }
      if (x <= z[k]) // k == 0: the new parabola dominates everywhere left of z[0] = -inf
        k = -1;
      break;
    }
    ++k;
    v[k] = q;
    z[k] = k == 0 ? -kInf : x;
    z[k + 1] = kInf;
  }
  return k;
}

/// out[p] = min_q f[q] + (w (p - q))^2 for the p where want(p) (every p when want is null), in
/// increasing p; inf when the line has no finite value.
template <typename Want>
void envelopeSweep(const double *f, double *out, int64_t n, double w, const double *inv,
                   LineScratch &s, Want want) {
  const int64_t k = lowerEnvelope(f, n, w, inv, s);
  int64_t j = 0;
  for (int64_t p = 0; p < n; ++p) {
    if (!want(p))
      continue;
    if (k < 0) {
      out[p] = kInf;
      continue;
    }
    while (s.z[j + 1] < double(p))
      ++j;
    const double d = w * double(p - s.v[j]);
    out[p] = f[s.v[j]] + d * d;
  }
}

/// The first pass, along axis 0, where data is 0 (feature) or inf: the squared distance to the
/// nearest zero along axis 0, by a forward and a backward sweep over whole planes (contiguous,
/// so the loops stream and vectorise instead of gathering one strided value per line).
void binaryAxis0(double *data, int64_t n, int64_t plane, double w) {
  if (n == 0)
    return;
  at::parallel_for(0, plane, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = 1; i < n; ++i) {
      double *row = data + i * plane, *prev = row - plane;
      for (int64_t p = b; p < e; ++p)
        row[p] = std::min(row[p], prev[p] + 1.0); // 0 stays 0; inf becomes steps since a zero
    }
    // Backward, squaring each row once the row before it has read its step count (one sweep
    // fewer over memory than squaring afterwards).
    auto square = [w](double steps) { return (w * steps) * (w * steps); }; // inf stays inf
    for (int64_t i = n - 2; i >= 0; --i) {
      double *row = data + i * plane, *next = row + plane;
      for (int64_t p = b; p < e; ++p) {
        row[p] = std::min(row[p], next[p] + 1.0);
        next[p] = square(next[p]);
      }
    }
    for (int64_t p = b; p < e; ++p)
      data[p] = square(data[p]);
  });
}

std::vector<double> reciprocals(int64_t n, double w) {
  std::vector<double> inv(size_t(std::max<int64_t>(n, 1)));
  for (size_t k = 1; k < inv.size(); ++k)
    inv[k] = 1.0 / (2.0 * w * w * double(k));
  return inv;
}

/// The envelope pass along `axis` of the contiguous buffer `data`, in place, for the outer
/// indices (the product of the axes before `axis`) where outerWanted is set (all when null).
/// Lines are taken kBlock neighbours at a time, so a strided axis is read and written in runs of
/// kBlock contiguous values rather than one value per cache line.
void envelopePass(double *data, const std::vector<int64_t> &shape, int64_t axis, double w,
                  const uint8_t *outerWanted) {
  constexpr int64_t kBlock = 16;
  const int64_t n = shape[axis];
  int64_t stride = 1, outer = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    stride *= shape[d];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  if (n == 0 || outer * stride == 0)
    return;
  const std::vector<double> inv = reciprocals(n, w);
  const int64_t blocks = (stride + kBlock - 1) / kBlock, tasks = outer * blocks;
  at::parallel_for(0, tasks, std::max<int64_t>(1, 4096 / (n * kBlock)), [&](int64_t b, int64_t e) {
    std::vector<double> in(n * kBlock), out(n);
    LineScratch scratch(n);
    for (int64_t t = b; t < e; ++t) {
      if (outerWanted && !outerWanted[t / blocks])
        continue;
      const int64_t i0 = (t % blocks) * kBlock, k = std::min(kBlock, stride - i0);
      double *base = data + (t / blocks) * n * stride + i0;
      for (int64_t q = 0; q < n; ++q)
        for (int64_t j = 0; j < k; ++j)
          in[j * n + q] = base[q * stride + j];
      for (int64_t j = 0; j < k; ++j) {
        envelopeSweep(&in[j * n], out.data(), n, w, inv.data(), scratch,
                      [](int64_t) { return true; });
        std::copy(out.begin(), out.end(), in.begin() + j * n);
      }
      for (int64_t q = 0; q < n; ++q)
        for (int64_t j = 0; j < k; ++j)
          base[q * stride + j] = in[j * n + q];
    }
  });
}

} // namespace

void squared_edt(double *data, const std::vector<int64_t> &shape,
                 const std::vector<double> &spacing) {
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (axis == 0) {
      int64_t plane = 1;
      for (size_t d = 1; d < shape.size(); ++d)
        plane *= shape[d];
      binaryAxis0(data, shape[0], plane, spacing[0]);
    } else {
      envelopePass(data, shape, int64_t(axis), spacing[axis], nullptr);
    }
  }
}

void squared_edt_at(double *data, const std::vector<int64_t> &shape,
                    const std::vector<double> &spacing, const uint8_t *wanted) {
  const int64_t rank = int64_t(shape.size());
  if (rank == 1) { // the binary pass is the whole transform
    binaryAxis0(data, shape[0], 1, spacing[0]);
    return;
  }
  const int64_t n = shape[rank - 1];
  int64_t lines = 1;
  for (int64_t d = 0; d + 1 < rank; ++d)
    lines *= shape[d];
  if (n == 0 || lines == 0)
    return;
  // Which lines along the last axis hold a wanted voxel, and (3-D) which planes along axis 0.
  std::vector<uint8_t> lineWanted(lines), planeWanted(rank == 3 ? shape[0] : 0);
  for (int64_t l = 0; l < lines; ++l) {
    uint8_t any = 0;
    for (int64_t p = 0; p < n; ++p)
      any |= wanted[l * n + p];
    lineWanted[l] = any != 0;
    if (rank == 3)
      planeWanted[l / shape[1]] |= lineWanted[l];
  }
  binaryAxis0(data, shape[0], lines / shape[0] * n, spacing[0]);
  if (rank == 3)
    envelopePass(data, shape, 1, spacing[1], planeWanted.data());
  // The last axis: contiguous lines, the envelope evaluated at the wanted voxels only and
  // written back after the sweep (the sweep still reads the line).
  const double w = spacing[rank - 1];
  const std::vector<double> inv = reciprocals(n, w);
  at::parallel_for(0, lines, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
    std::vector<double> out(n);
    LineScratch scratch(n);
    for (int64_t l = b; l < e; ++l) {
      if (!lineWanted[l])
        continue;
      double *line = data + l * n;
      const uint8_t *want = wanted + l * n;
      envelopeSweep(line, out.data(), n, w, inv.data(), scratch,
                    [want](int64_t p) { return want[p] != 0; });
      for (int64_t p = 0; p < n; ++p)
        if (want[p])
          line[p] = out[p];
    }
  });
}

} // namespace med::metrics::detail
