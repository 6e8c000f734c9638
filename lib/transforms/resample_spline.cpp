// MONAI's integer interpolation modes: B-spline interpolation of order 0-3 as
// scipy.ndimage.map_coordinates(input, coordinates, order, mode, cval=0, prefilter=True) computes
// it, which MONAI's Resample calls per channel for an integer `mode` on the CPU.
//
// Two steps, both in float64:
// - Prefilter (order >= 2): the image becomes the coefficients of the spline that interpolates
//   it. Per axis, per line, the recursive filter of the spline's pole z (gain (1 - z)(1 - 1/z),
//   a causal pass, an anticausal pass). The line is taken as one period of its boundary
//   extension (mirror: period 2n - 2; reflect: 2n; grid-wrap: n), and both passes start from
//   their exact values on that periodic signal (the geometric sums over one period divided by
//   1 - z^P), which is what ndimage's boundary initialisations compute to ~1e-15. Which
//   extension the filter uses follows ndimage: mirror for constant, grid-constant, mirror and
//   wrap; reflect for nearest and reflect; grid-wrap for grid-wrap. For nearest and
//   grid-constant ndimage first pads every axis with 12 edge values (or zeros) and shifts the
//   coordinates by 12; so does this.
// - Evaluation: per output voxel and axis, the coordinate is mapped into the image by the
//   boundary mode (constant: outside [0, n - 1] the voxel is 0), the order + 1 taps start at
//   floor(x) - order / 2 (odd orders) or floor(x + 0.5) - order / 2 (even), taps outside the
//   image are mapped back (mirror for constant and wrap), and the value is the sum over the
//   (order + 1)^n taps of coefficient times the axes' B-spline weights, in row-major tap order.
//   The result is rounded to float32, as map_coordinates writes into a float32 array.
//
// Not taken from ndimage: orders 4 and 5 (refused), and coordinates that are not finite, which
// give 0 here (ndimage converts them to integers).
#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "resample_impl.h"

namespace med::transforms::rs {

namespace {

// ndimage's boundary modes.
enum class Ext { Constant, GridConstant, Nearest, Mirror, Reflect, Wrap, GridWrap };

Ext extension(const std::string &padding, const std::string &where) {
  if (padding == "zeros" || padding == "constant")
    return Ext::Constant;
  if (padding == "grid-constant")
    return Ext::GridConstant;
  if (padding == "border" || padding == "nearest")
    return Ext::Nearest;
  if (padding == "mirror")
    return Ext::Mirror;
  if (padding == "reflection" || padding == "reflect" || padding == "grid-mirror")
    return Ext::Reflect;
  if (padding == "wrap")
    return Ext::Wrap;
  if (padding == "grid-wrap")
    return Ext::GridWrap;
  throw Error(where, "unknown padding mode '" + padding + "' for a spline mode");
}

// A position outside [0, len - 1] moved inside by the boundary mode, or -1 (constant) for "no
// value". Truncating casts as ndimage's integer arithmetic has them.
double mapCoordinate(double in, int64_t len, Ext mode) {
  auto trunc = [](double v) { return static_cast<double>(static_cast<int64_t>(v)); };
  if (in < 0) {
    switch (mode) {
    case Ext::Mirror: {
      if (len <= 1)
        return 0;
      const double sz2 = double(2 * len - 2);
      in = sz2 * trunc(-in / sz2) + in;
      return in <= double(1 - len) ? in + sz2 : -in;
    }
    case Ext::Reflect: {
      if (len <= 1)
        return 0;
      const double sz2 = double(2 * len);
      if (in < -sz2)
        in = sz2 * trunc(-in / sz2) + in;
      // An `in` within rounding of 0 must not become -1 after the reflection.
      return in < -double(len) ? in + sz2 : (in > -1e-15 ? 1e-15 : -in) - 1;
    }
    case Ext::Wrap: {
      if (len <= 1)
        return 0;
      const double sz = double(len - 1);
      return in + sz * (trunc(-in / sz) + 1);
    }
    case Ext::GridWrap:
      return len <= 1 ? 0 : in + double(len) * (trunc((-1 - in) / double(len)) + 1);
    case Ext::Nearest:
      return 0;
    case Ext::Constant:
      return -1;
    case Ext::GridConstant:
      return in;
    }
  } else if (in > double(len - 1)) {
    switch (mode) {
    case Ext::Mirror: {
      if (len <= 1)
        return 0;
      const double sz2 = double(2 * len - 2);
      in -= sz2 * trunc(in / sz2);
      return in >= double(len) ? sz2 - in : in;
    }
    case Ext::Reflect: {
      if (len <= 1)
        return 0;
      const double sz2 = double(2 * len);
      in -= sz2 * trunc(in / sz2);
      return in >= double(len) ? sz2 - in - 1 : in;
    }
    case Ext::Wrap:
      return len <= 1 ? 0 : in - double(len - 1) * trunc(in / double(len - 1));
    case Ext::GridWrap:
      return len <= 1 ? 0 : in - double(len) * trunc(in / double(len));
    case Ext::Nearest:
      return double(len - 1);
    case Ext::Constant:
      return -1;
    case Ext::GridConstant:
      return in;
    }
  }
  return in;
}

// The extension a tap outside the image is read from.
Ext tapExtension(Ext mode) {
  return mode == Ext::Constant || mode == Ext::Wrap ? Ext::Mirror : mode;
}

// The extension the prefilter assumes beyond a line's ends.
Ext filterExtension(Ext mode) {
  switch (mode) {
  case Ext::Nearest:
  case Ext::Reflect:
    return Ext::Reflect;
  case Ext::GridWrap:
    return Ext::GridWrap;
  default:
    return Ext::Mirror;
  }
}

// In-place prefilter of one line of n > 1 values for the pole z under extension `ext`
// (Mirror, Reflect or GridWrap); `work` holds two periods of scratch.
void filterLine(double *c, int64_t n, double z, Ext ext, std::vector<double> &work) {
  const int64_t period = ext == Ext::Mirror ? 2 * n - 2 : ext == Ext::Reflect ? 2 * n : n;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);
  work.resize(2 * period);
  double *e = work.data(), *cp = work.data() + period;
  for (int64_t k = 0; k < period; ++k) {
    const int64_t i = k < n ? k : ext == Ext::Mirror ? 2 * n - 2 - k : 2 * n - 1 - k;
    e[k] = gain * c[i];
  }
  const double scale = 1.0 / (1.0 - std::pow(z, double(period)));
  // Causal: cp[0] = sum_j z^j e[-j], over one period.
  double acc = 0, zj = 1;
  for (int64_t j = 0; j < period; ++j, zj *= z)
    acc += zj * e[(period - j) % period];
  cp[0] = acc * scale;
  for (int64_t k = 1; k < period; ++k)
    cp[k] = e[k] + z * cp[k - 1];
  // Anticausal: cm[P-1] = -z sum_j z^j cp[P-1+j]; cm[k] = z (cm[k+1] - cp[k]). Written over e.
  acc = 0, zj = 1;
  for (int64_t j = 0; j < period; ++j, zj *= z)
    acc += zj * cp[(period - 1 + j) % period];
  e[period - 1] = -z * acc * scale;
  for (int64_t k = period - 2; k >= 0; --k)
    e[k] = z * (e[k + 1] - cp[k]);
  std::copy(e, e + n, c);
}

// Prefilters `coef` (contiguous float64, spatial shape `shape`) along every axis.
void prefilter(double *coef, const std::vector<int64_t> &shape, double z, Ext ext) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  int64_t total = 1;
  for (int64_t s : shape)
    total *= s;
  for (int64_t a = 0; a < nd; ++a) {
    const int64_t len = shape[a];
    if (len <= 1) // ndimage leaves one-voxel axes alone (no gain either)
      continue;
    int64_t stride = 1;
    for (int64_t d = a + 1; d < nd; ++d)
      stride *= shape[d];
    const int64_t lines = total / len;
    at::parallel_for(0, lines, 16, [&](int64_t lo, int64_t hi) {
      std::vector<double> line(len), work;
      for (int64_t l = lo; l < hi; ++l) {
        const int64_t base = (l / stride) * stride * len + l % stride;
        for (int64_t i = 0; i < len; ++i)
          line[i] = coef[base + i * stride];
        filterLine(line.data(), len, z, ext, work);
        for (int64_t i = 0; i < len; ++i)
          coef[base + i * stride] = line[i];
      }
    });
  }
}

// The order + 1 B-spline weights at x (relative to the first tap).
void weights(double x, int64_t order, double *w) {
  switch (order) {
  case 0:
    w[0] = 1;
    return;
  case 1: {
    const double t = x - std::floor(x);
    w[0] = 1 - t, w[1] = t;
    return;
  }
  case 2: {
    const double t = x - std::floor(x + 0.5); // in [-0.5, 0.5)
    w[1] = 0.75 - t * t;
    w[0] = 0.5 * (0.5 - t) * (0.5 - t);
    w[2] = 1 - w[0] - w[1];
    return;
  }
  default: {
    const double t = x - std::floor(x), u = 1 - t;
    w[0] = u * u * u / 6;
    w[3] = t * t * t / 6;
    w[1] = (3 * t * t * t - 6 * t * t + 4) / 6;
    w[2] = 1 - w[0] - w[1] - w[3];
  }
  }
}

} // namespace

int64_t splineOrder(const std::string &mode) {
  if (mode.size() == 1 && mode[0] >= '0' && mode[0] <= '3')
    return mode[0] - '0';
  return -1;
}

at::Tensor splineSample(const at::Tensor &img, const at::Tensor &coords, int64_t order,
                        const std::string &padding, const std::string &where) {
  const Ext mode = extension(padding, where + ".padding_mode");
  const int64_t nd = img.dim() - 1, channels = img.size(0);
  if (order < 0 || order > 3)
    throw Error(where + ".mode",
                "spline orders 0 to 3 are supported, got " + std::to_string(order));
  if (coords.dim() < 1 || coords.size(0) != nd)
    throw Error(where, "expected one coordinate per spatial axis (" + std::to_string(nd) +
                           "), got " + std::to_string(coords.dim() ? coords.size(0) : 0));
  // ndimage pads nearest and grid-constant by 12 before filtering (and only then).
  const bool filtered = order > 1;
  const int64_t npad = filtered && (mode == Ext::Nearest || mode == Ext::GridConstant) ? 12 : 0;
  at::Tensor coef = img.to(at::kDouble);
  if (npad) {
    std::vector<int64_t> pads(2 * nd, npad);
    if (mode == Ext::GridConstant)
      coef = at::constant_pad_nd(coef, pads, 0.0);
    else
      for (int64_t d = 0; d < nd; ++d) { // edge values: clamped indices along each axis
        const int64_t len = coef.size(d + 1);
        at::Tensor idx = at::arange(-npad, len + npad, at::kLong).clamp(0, len - 1);
        coef = coef.index_select(d + 1, idx);
      }
  }
  coef = coef.contiguous();
  const std::vector<int64_t> shape(coef.sizes().begin() + 1, coef.sizes().end());
  int64_t voxels = 1;
  for (int64_t s : shape)
    voxels *= s;
  if (filtered) {
    const double z = order == 2 ? std::sqrt(8.0) - 3.0 : std::sqrt(3.0) - 2.0;
    for (int64_t ch = 0; ch < channels; ++ch)
      prefilter(coef.data_ptr<double>() + ch * voxels, shape, z, filterExtension(mode));
  }

  at::Tensor pos = coords.to(at::kDouble).reshape({nd, -1}).contiguous();
  const int64_t outVoxels = pos.size(1);
  std::vector<int64_t> outShape{channels};
  outShape.insert(outShape.end(), coords.sizes().begin() + 1, coords.sizes().end());
  at::Tensor out = at::empty({channels, outVoxels}, at::kFloat);
  std::vector<int64_t> strides(nd, 1);
  for (int64_t d = nd - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  const double *p = pos.data_ptr<double>(), *cf = coef.data_ptr<double>();
  float *o = out.data_ptr<float>();
  const int64_t taps = order + 1;
  const Ext tapExt = tapExtension(mode);
  // Each tap of the (order + 1)^n footprint as its per-axis indices, row-major (first axis
  // slowest), the order ndimage sums them in.
  int64_t footprint = 1;
  for (int64_t d = 0; d < nd; ++d)
    footprint *= taps;
  std::vector<int64_t> tapIndex(footprint * nd);
  for (int64_t k = 0; k < footprint; ++k)
    for (int64_t d = nd - 1, rest = k; d >= 0; --d, rest /= taps)
      tapIndex[k * nd + d] = d * taps + rest % taps;
  at::parallel_for(0, outVoxels, 1024, [&](int64_t lo, int64_t hi) {
    std::vector<double> w(nd * taps);
    std::vector<int64_t> offs(nd * taps); // element offset of each axis' tap
    std::vector<char> outside(nd * taps);
    for (int64_t v = lo; v < hi; ++v) {
      bool constant = false;
      for (int64_t d = 0; d < nd && !constant; ++d) {
        const int64_t len = shape[d];
        double cc = p[d * outVoxels + v];
        if (!std::isfinite(cc)) {
          constant = true;
          break;
        }
        cc += double(npad);
        if (mode != Ext::GridConstant && mode != Ext::Nearest)
          cc = mapCoordinate(cc, len, mode);
        else // far outside every tap reads the edge (or 0): keep the integers representable
          cc = std::clamp(cc, -double(len) - 8.0, 2.0 * double(len) + 8.0);
        if (!(cc > -1.0 || mode == Ext::GridConstant || mode == Ext::Nearest)) {
          constant = true;
          break;
        }
        const int64_t start =
            static_cast<int64_t>(std::floor(order & 1 ? cc : cc + 0.5)) - order / 2;
        for (int64_t l = 0; l < taps; ++l) {
          int64_t idx = start + l;
          outside[d * taps + l] = mode == Ext::GridConstant && (idx < 0 || idx >= len);
          if (mode != Ext::GridConstant && (idx < 0 || idx >= len))
            idx = static_cast<int64_t>(mapCoordinate(double(idx), len, tapExt));
          offs[d * taps + l] = std::clamp<int64_t>(idx, 0, len - 1) * strides[d];
        }
        weights(cc, order, w.data() + d * taps);
      }
      for (int64_t ch = 0; ch < channels; ++ch) {
        double t = 0.0;
        if (!constant) {
          const double *c = cf + ch * voxels;
          for (int64_t k = 0; k < footprint; ++k) {
            const int64_t *f = tapIndex.data() + k * nd;
            int64_t off = 0;
            bool zero = false;
            for (int64_t d = 0; d < nd; ++d) {
              off += offs[f[d]];
              zero = zero || outside[f[d]];
            }
            double coeff = zero ? 0.0 : c[off];
            for (int64_t d = 0; d < nd && order > 0; ++d)
              coeff *= w[f[d]];
            t += coeff;
          }
        }
        o[ch * outVoxels + v] = static_cast<float>(t);
      }
    }
  });
  return out.reshape(outShape);
}

at::Tensor splineResample(const at::Tensor &img, const at::Tensor &centred, int64_t order,
                          const std::string &padding, bool alignCorners, const std::string &where) {
  std::vector<at::Tensor> rows;
  for (int64_t d = 0; d < img.dim() - 1; ++d) {
    const double dim = double(std::max<int64_t>(img.size(d + 1), 2));
    at::Tensor c = centred[d].to(at::kFloat);
    if (alignCorners)
      c = c * float((dim - 1) / dim);
    rows.push_back(c + float((dim - 1) / 2));
  }
  return splineSample(img, at::stack(rows), order, padding, where);
}

} // namespace med::transforms::rs
