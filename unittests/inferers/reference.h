// Plain references for the inferer tests, written independently of lib/inferers: window starts
// by walking the axis, Gaussian weights from std::exp, blending voxel by voxel.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/TensorIndexing.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"

namespace ref {

/// Starts along one axis: every `step` while the window stays inside, then one ending at the
/// border (the single start 0 when the window covers the axis).
inline std::vector<int64_t> axisStarts(int64_t size, int64_t roi, int64_t step) {
  std::vector<int64_t> s;
  for (int64_t p = 0; p + roi < size; p += step)
    s.push_back(p);
  s.push_back(size - roi);
  return s;
}

/// 1D Gaussian weights of a window of `n` voxels, sigma = scale * n, centred.
inline std::vector<double> gauss1d(int64_t n, double scale) {
  std::vector<double> g(n);
  double sigma = scale * n, c = (n - 1) / 2.0;
  for (int64_t i = 0; i < n; ++i)
    g[i] = std::exp(-(i - c) * (i - c) / (2 * sigma * sigma));
  return g;
}

/// Sliding-window blend of a 2D (B, C, H, W) input, no padding (image >= roi): every output
/// voxel is sum_w weight * pred_w / sum_w weight over the windows w covering it.
inline at::Tensor blend2d(const at::Tensor &x, int64_t rh, int64_t rw, int64_t sh, int64_t sw,
                          bool gaussian, std::vector<double> scale,
                          const std::function<at::Tensor(const at::Tensor &)> &pred) {
  if (scale.size() == 1)
    scale.push_back(scale[0]);
  using at::indexing::Slice;
  int64_t H = x.size(2), W = x.size(3);
  std::vector<double> gh = gauss1d(rh, scale[0]), gw = gauss1d(rw, scale[1]);
  double minw = 1e300;
  for (double a : gh)
    for (double b : gw)
      minw = std::min(minw, a * b);
  at::Tensor num, den = at::zeros({H, W}, at::kDouble);
  for (int64_t y0 : axisStarts(H, rh, sh))
    for (int64_t x0 : axisStarts(W, rw, sw)) {
      at::Tensor p =
          pred(x.index({Slice(), Slice(), Slice(y0, y0 + rh), Slice(x0, x0 + rw)})).to(at::kDouble);
      if (!num.defined())
        num = at::zeros({x.size(0), p.size(1), H, W}, at::kDouble);
      auto acc = num.accessor<double, 4>();
      auto pa = p.accessor<double, 4>();
      auto da = den.accessor<double, 2>();
      for (int64_t i = 0; i < rh; ++i)
        for (int64_t j = 0; j < rw; ++j) {
          double w = gaussian ? std::max(gh[i] * gw[j], std::max(minw, 1e-3)) : 1.0;
          da[y0 + i][x0 + j] += w;
          for (int64_t b = 0; b < p.size(0); ++b)
            for (int64_t c = 0; c < p.size(1); ++c)
              acc[b][c][y0 + i][x0 + j] += w * pa[b][c][i][j];
        }
    }
  return num / den;
}

template <class F> void expectError(F &&f, std::vector<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "expected med::Error";
  } catch (const med::Error &e) {
    for (const std::string &n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
          << "'" << n << "' not in: " << e.what();
  }
}

} // namespace ref
