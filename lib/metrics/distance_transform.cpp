// The public distance transforms: the exact Euclidean one (squared_edt.cpp) and the two-pass
// chamfer transforms that are exact for the chessboard and taxicab grid metrics.
#include "med/metrics/distance_transform.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "med/core/error.h"
#include "surface_internal.h"

namespace med::metrics {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

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
