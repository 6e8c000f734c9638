// Matplotlib's LinearSegmentedColormap tables for gray, hot, hsv and jet, sampled into 256-entry
// lookup tables the way matplotlib builds them (interpolate y1 of the left anchor to y0 of the
// right anchor at x = i / 255; the end entries take the outer anchors' values).
#include "med/visualize/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"

namespace med::visualize {
namespace {

constexpr int kN = 256;

/// One anchor of a channel: position x, value left of x (y0) and right of x (y1).
struct Anchor {
  double x, y0, y1;
};
using Channel = std::vector<Anchor>;
using Segments = std::array<Channel, 3>;

const std::map<std::string, Segments> &segmentTables() {
  static const std::map<std::string, Segments> tables = {
      {"gray", {{{{0, 0, 0}, {1, 1, 1}}, {{0, 0, 0}, {1, 1, 1}}, {{0, 0, 0}, {1, 1, 1}}}}},
      {"hot",
       {{{{0., 0.0416, 0.0416}, {0.365079, 1, 1}, {1, 1, 1}},
         {{0, 0, 0}, {0.365079, 0, 0}, {0.746032, 1, 1}, {1, 1, 1}},
         {{0, 0, 0}, {0.746032, 0, 0}, {1, 1, 1}}}}},
      {"hsv",
       {{{{0., 1., 1.},
          {0.158730, 1.0, 1.0},
          {0.174603, 0.968750, 0.968750},
          {0.333333, 0.031250, 0.031250},
          {0.349206, 0.0, 0.0},
          {0.666667, 0.0, 0.0},
          {0.682540, 0.031250, 0.031250},
          {0.841270, 0.968750, 0.968750},
          {0.857143, 1.0, 1.0},
          {1.0, 1.0, 1.0}},
         {{0., 0., 0.},
          {0.158730, 0.937500, 0.937500},
          {0.174603, 1.0, 1.0},
          {0.507937, 1.0, 1.0},
          {0.666667, 0.062500, 0.062500},
          {0.682540, 0.0, 0.0},
          {1.0, 0., 0.}},
         {{0., 0., 0.},
          {0.333333, 0.0, 0.0},
          {0.349206, 0.062500, 0.062500},
          {0.507937, 1.0, 1.0},
          {0.841270, 1.0, 1.0},
          {0.857143, 0.937500, 0.937500},
          {1.0, 0.09375, 0.09375}}}}},
      {"jet",
       {{{{0.00, 0, 0}, {0.35, 0, 0}, {0.66, 1, 1}, {0.89, 1, 1}, {1.00, 0.5, 0.5}},
         {{0.000, 0, 0}, {0.125, 0, 0}, {0.375, 1, 1}, {0.640, 1, 1}, {0.910, 0, 0}, {1.0, 0, 0}},
         {{0.00, 0.5, 0.5}, {0.11, 1, 1}, {0.34, 1, 1}, {0.65, 0, 0}, {1.00, 0, 0}}}}},
  };
  return tables;
}

/// Samples one channel at the kN table positions.
std::array<double, kN> sampleChannel(const Channel &c) {
  std::array<double, kN> lut{};
  lut[0] = c.front().y1;
  lut[kN - 1] = c.back().y0;
  for (int i = 1; i < kN - 1; ++i) {
    const double pos = static_cast<double>(i); // anchors are scaled by (kN - 1)
    size_t hi = 0;
    while (hi < c.size() && c[hi].x * (kN - 1) < pos)
      ++hi;
    const Anchor &a = c[hi - 1], &b = c[hi];
    const double t = (pos - a.x * (kN - 1)) / ((b.x - a.x) * (kN - 1));
    lut[i] = std::clamp(a.y1 + t * (b.y0 - a.y1), 0.0, 1.0);
  }
  return lut;
}

const Segments &segmentsFor(const std::string &cmap, const std::string &where) {
  const auto &t = segmentTables();
  auto it = t.find(cmap);
  if (it == t.end()) {
    std::string names;
    for (const auto &n : available_colormaps())
      names += (names.empty() ? "" : ", ") + n;
    throw Error(where, "unknown colormap '" + cmap + "'; expected one of " + names);
  }
  return it->second;
}

} // namespace

const std::vector<std::string> &available_colormaps() {
  static const std::vector<std::string> names = {"gray", "hot", "hsv", "jet"};
  return names;
}

at::Tensor colormap_table(const std::string &cmap) {
  const Segments &s = segmentsFor(cmap, "colormap_table.cmap");
  at::Tensor lut = at::ones({kN, 4}, at::kFloat);
  auto acc = lut.accessor<float, 2>();
  for (int ch = 0; ch < 3; ++ch) {
    const auto col = sampleChannel(s[ch]);
    for (int i = 0; i < kN; ++i)
      acc[i][ch] = static_cast<float>(col[i]);
  }
  return lut;
}

at::Tensor apply_colormap(const at::Tensor &values, const std::string &cmap) {
  segmentsFor(cmap, "apply_colormap.cmap");
  at::Tensor lut = colormap_table(cmap);
  at::Tensor v = values.detach().to(at::kCPU);
  at::Tensor idx, bad;
  if (at::isFloatingType(v.scalar_type())) {
    at::Tensor x = v.to(at::kDouble) * static_cast<double>(kN);
    x = at::where(x == static_cast<double>(kN), at::full_like(x, kN - 1), x);
    bad = at::isnan(x);
    // Below 0 -> first entry, >= N -> last entry (matplotlib's default under/over colours).
    x = at::clamp(at::nan_to_num(x, 0.0), -1.0, static_cast<double>(kN));
    idx = at::clamp(x.floor(), 0, kN - 1).to(at::kLong);
  } else {
    idx = at::clamp(v.to(at::kLong), 0, kN - 1);
    bad = at::zeros_like(idx, at::kBool);
  }
  at::Tensor rgba = lut.index_select(0, idx.reshape({-1})).reshape([&] {
    std::vector<int64_t> s(v.sizes().begin(), v.sizes().end());
    s.push_back(4);
    return s;
  }());
  return at::where(bad.unsqueeze(-1), at::zeros_like(rgba), rgba).to(values.device());
}

} // namespace med::visualize
