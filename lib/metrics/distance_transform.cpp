// Exact Euclidean distance transform (separable lower envelope of parabolas) and the two-pass
// chamfer transforms that are exact for the chessboard and taxicab grid metrics.
#include "med/metrics/distance_transform.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "med/core/error.h"
#include "surface_internal.h"

namespace med::metrics {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// One line of the squared-distance transform: out[p] = min_q f[q] + (w (p - q))^2, where f may
/// hold inf. v/z are scratch of size n / n + 1; inv[k] = 1 / (2 w^2 k) for 0 < k < n, so that
/// the parabola intersections multiply instead of divide (a tie broken differently picks a
/// parabola of the same value).
void envelope1d(const double *f, double *out, int64_t n, double w, const double *inv, int64_t *v,
                double *z) {
  const double w2 = w * w;
  double *g = out; // g[q] = f[q] + w^2 q^2, in the output until the final sweep overwrites it
  for (int64_t q = 0; q < n; ++q)
    g[q] = f[q] + w2 * double(q) * double(q);
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf)
      continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
      continue;
    }
    double s;
    while (true) {
      int64_t p = v[k];
      // Intersection of the parabolas rooted at p and q (in index units).
      s = (g[q] - g[p]) * inv[q - p];
      if (s <= z[k] && k > 0) {
        --k;
        continue;
      }
      if (s <= z[k]) { // k == 0: the new parabola dominates everywhere left of z[0] = -inf
        k = -1;
      }
      break;
    }
    ++k;
    v[k] = q;
    z[k] = k == 0 ? -kInf : s;
    z[k + 1] = kInf;
  }
  if (k < 0) {
    for (int64_t p = 0; p < n; ++p)
      out[p] = kInf;
    return;
  }
  int64_t j = 0;
  for (int64_t p = 0; p < n; ++p) {
    while (z[j + 1] < double(p))
      ++j;
    double d = w * double(p - v[j]);
    out[p] = f[v[j]] + d * d;
  }
}

/// The first pass, along axis 0, where data is 0 (feature) or inf: the squared distance to the
/// nearest zero along axis 0, by a forward and a backward sweep over whole planes (contiguous,
/// so the loops stream and vectorise instead of gathering one strided value per line).
void binaryAxis0(double *data, int64_t n, int64_t plane, double w) {
  at::parallel_for(0, plane, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = 1; i < n; ++i) {
      double *row = data + i * plane, *prev = row - plane;
      for (int64_t p = b; p < e; ++p)
        row[p] = std::min(row[p], prev[p] + 1.0); // 0 stays 0; inf becomes steps since a zero
    }
    for (int64_t i = n - 2; i >= 0; --i) {
      double *row = data + i * plane, *next = row + plane;
      for (int64_t p = b; p < e; ++p)
        row[p] = std::min(row[p], next[p] + 1.0);
    }
    for (int64_t i = 0; i < n; ++i) {
      double *row = data + i * plane;
      for (int64_t p = b; p < e; ++p) {
        double d = w * row[p];
        row[p] = d * d; // inf stays inf
      }
    }
  });
}

/// Applies `lineFn(in, out, n, v, z)` to every line along `axis` of the contiguous float64
/// buffer `data`, in place. Lines are taken kBlock neighbours at a time, so a strided axis is
/// read and written in runs of kBlock contiguous values rather than one value per cache line.
template <typename F>
void forEachLine(double *data, const std::vector<int64_t> &shape, int64_t axis, F lineFn) {
  constexpr int64_t kBlock = 16;
  int64_t n = shape[axis];
  int64_t stride = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    stride *= shape[d];
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  if (n == 0 || outer * stride == 0)
    return;
  const int64_t blocks = (stride + kBlock - 1) / kBlock, tasks = outer * blocks;
  at::parallel_for(0, tasks, std::max<int64_t>(1, 4096 / (n * kBlock)), [&](int64_t b, int64_t e) {
    std::vector<double> in(n * kBlock), out(n), z(n + 1);
    std::vector<int64_t> v(n);
    for (int64_t t = b; t < e; ++t) {
      const int64_t i0 = (t % blocks) * kBlock, k = std::min(kBlock, stride - i0);
      double *base = data + (t / blocks) * n * stride + i0;
      for (int64_t q = 0; q < n; ++q)
        for (int64_t j = 0; j < k; ++j)
          in[j * n + q] = base[q * stride + j];
      for (int64_t j = 0; j < k; ++j) {
        lineFn(&in[j * n], out.data(), n, v.data(), z.data());
        std::copy(out.begin(), out.end(), in.begin() + j * n);
      }
      for (int64_t q = 0; q < n; ++q)
        for (int64_t j = 0; j < k; ++j)
          base[q * stride + j] = in[j * n + q];
    }
  });
}

std::vector<double> fullSpacing(std::vector<double> spacing, int64_t dims, const char *owner) {
  if (spacing.empty())
    spacing.assign(dims, 1.0);
  else if (spacing.size() == 1)
    spacing.assign(dims, spacing[0]);
  if (int64_t(spacing.size()) != dims)
    throw Error(std::string(owner) + ".spacing", "expected " + std::to_string(dims) +
                                                     " values (one per spatial dimension), got " +
                                                     std::to_string(spacing.size()));
  for (double s : spacing)
    if (!(s > 0) || !std::isfinite(s))
      throw Error(std::string(owner) + ".spacing",
                  "expected positive finite voxel sizes, got " + std::to_string(s));
  return spacing;
}

void checkMask(const at::Tensor &mask, const char *owner) {
  if (!mask.defined() || mask.dim() < 1)
    throw Error(std::string(owner) + ".mask", "expected a mask with at least one dimension");
}

} // namespace

at::Tensor distance_transform_edt(const at::Tensor &mask, std::vector<double> spacing) {
  checkMask(mask, "distance_transform_edt");
  spacing = fullSpacing(std::move(spacing), mask.dim(), "distance_transform_edt");
  at::Tensor fg = (mask.cpu() != 0);
  at::Tensor d =
      at::where(fg, at::full({}, kInf, at::kDouble), at::zeros({}, at::kDouble)).contiguous();
  std::vector<int64_t> shape(mask.sizes().begin(), mask.sizes().end());
  detail::squared_edt(d.data_ptr<double>(), shape, spacing);
  return d.sqrt_();
}

void detail::squared_edt(double *data, const std::vector<int64_t> &shape,
                         const std::vector<double> &spacing) {
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    double w = spacing[axis];
    if (axis == 0) {
      int64_t plane = 1;
      for (size_t d = 1; d < shape.size(); ++d)
        plane *= shape[d];
      binaryAxis0(data, shape[0], plane, w);
    } else {
      std::vector<double> inv(size_t(std::max<int64_t>(shape[axis], 1)));
      for (size_t k = 1; k < inv.size(); ++k)
        inv[k] = 1.0 / (2.0 * w * w * double(k));
      forEachLine(data, shape, int64_t(axis),
                  [w, &inv](const double *f, double *out, int64_t n, int64_t *v, double *z) {
                    envelope1d(f, out, n, w, inv.data(), v, z);
                  });
    }
  }
}

at::Tensor distance_transform_cdt(const at::Tensor &mask, const std::string &metric) {
  checkMask(mask, "distance_transform_cdt");
  if (metric != "chessboard" && metric != "taxicab")
    throw Error("distance_transform_cdt.metric",
                "expected 'chessboard' or 'taxicab', got '" + metric + "'");
  const bool chess = metric == "chessboard";
  const int64_t dims = mask.dim();
  at::Tensor fg = (mask.cpu() != 0);
  at::Tensor d =
      at::where(fg, at::full({}, kInf, at::kDouble), at::zeros({}, at::kDouble)).contiguous();
  std::vector<int64_t> shape(mask.sizes().begin(), mask.sizes().end());
  std::vector<int64_t> strides(dims, 1);
  for (int64_t a = dims - 2; a >= 0; --a)
    strides[a] = strides[a + 1] * shape[a + 1];
  // The neighbour offsets that precede a voxel in raster order (the forward half-mask).
  std::vector<std::vector<int64_t>> offsets;
  int64_t combos = 1;
  for (int64_t a = 0; a < dims; ++a)
    combos *= 3;
  for (int64_t c = 0; c < combos; ++c) {
    std::vector<int64_t> off(dims);
    int64_t rest = c, nonzero = 0;
    for (int64_t a = dims - 1; a >= 0; --a) {
      off[a] = rest % 3 - 1;
      rest /= 3;
      nonzero += off[a] != 0;
    }
    if (nonzero == 0 || (!chess && nonzero != 1))
      continue;
    int64_t lin = 0;
    for (int64_t a = 0; a < dims; ++a)
      lin += off[a] * strides[a];
    if (lin < 0)
      offsets.push_back(off);
  }
  double *data = d.data_ptr<double>();
  const int64_t total = d.numel();
  std::vector<int64_t> idx(dims);
  auto pass = [&](int sign) {
    for (int64_t step = 0; step < total; ++step) {
      int64_t i = sign > 0 ? step : total - 1 - step;
      int64_t rest = i;
      for (int64_t a = dims - 1; a >= 0; --a) {
        idx[a] = rest % shape[a];
        rest /= shape[a];
      }
      double best = data[i];
      if (best == 0)
        continue;
      for (const auto &off : offsets) {
        int64_t j = i;
        bool inside = true;
        for (int64_t a = 0; a < dims && inside; ++a) {
          int64_t q = idx[a] + sign * off[a];
          inside = q >= 0 && q < shape[a];
          j += sign * off[a] * strides[a];
        }
        if (inside)
          best = std::min(best, data[j] + 1.0);
      }
      data[i] = best;
    }
  };
  pass(+1);
  pass(-1);
  return d;
}

} // namespace med::metrics
