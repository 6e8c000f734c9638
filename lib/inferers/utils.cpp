// Window layout and importance map of sliding-window inference (utils.h).
#include "med/inferers/utils.h"

#include <algorithm>
#include <cmath>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "check.h"
#include "med/core/error.h"

namespace med::inferers {

namespace {

std::string list(c10::IntArrayRef v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

} // namespace

namespace detail {

void checkOverlap(const std::string &where, double overlap) {
  if (!(overlap >= 0.0 && overlap < 1.0))
    throw Error(where + ".overlap", "expected 0 <= overlap < 1, got " + std::to_string(overlap));
}

void checkSettings(const std::string &where, int64_t sw_batch_size, double overlap,
                   const std::string &mode, const std::vector<double> &sigma_scale,
                   const std::string &padding_mode, double cval) {
  if (sw_batch_size < 1)
    throw Error(where + ".sw_batch_size",
                "expected at least 1 window per batch, got " + std::to_string(sw_batch_size));
  checkOverlap(where, overlap);
  if (mode != "constant" && mode != "gaussian")
    throw Error(where + ".mode", "expected \"constant\" or \"gaussian\", got \"" + mode + "\"");
  if (sigma_scale.empty())
    throw Error(where + ".sigma_scale", "expected one value or one per spatial axis, got none");
  for (double s : sigma_scale)
    if (!(std::isfinite(s) && s > 0))
      throw Error(where + ".sigma_scale", "expected finite values > 0, got " + std::to_string(s));
  if (padding_mode != "constant" && padding_mode != "reflect" && padding_mode != "replicate" &&
      padding_mode != "circular")
    throw Error(where + ".padding_mode",
                "expected \"constant\", \"reflect\", \"replicate\" or \"circular\", got \"" +
                    padding_mode + "\"");
  if (!std::isfinite(cval))
    throw Error(where + ".cval", "expected a finite number");
}

} // namespace detail

std::vector<int64_t> fallback_roi_size(c10::IntArrayRef roi_size, c10::IntArrayRef image_size,
                                       const std::string &where) {
  const size_t nd = image_size.size();
  if (roi_size.size() != 1 && roi_size.size() != nd)
    throw Error(where + ".roi_size", "expected 1 or " + std::to_string(nd) +
                                         " entries (one per spatial axis), got " + list(roi_size));
  std::vector<int64_t> roi(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t r = roi_size.size() == 1 ? roi_size[0] : roi_size[i];
    roi[i] = r > 0 ? r : image_size[i];
  }
  return roi;
}

std::vector<int64_t> get_scan_interval(c10::IntArrayRef image_size, c10::IntArrayRef roi_size,
                                       double overlap) {
  if (image_size.size() != roi_size.size())
    throw Error("get_scan_interval.roi_size", "expected as many entries as image_size " +
                                                  list(image_size) + ", got " + list(roi_size));
  detail::checkOverlap("get_scan_interval", overlap);
  std::vector<int64_t> interval(roi_size.size());
  for (size_t i = 0; i < roi_size.size(); ++i) {
    if (roi_size[i] < 1 || roi_size[i] > image_size[i])
      throw Error("get_scan_interval.roi_size",
                  "expected 1 <= roi <= image size on every axis, got roi " + list(roi_size) +
                      " for image " + list(image_size));
    if (roi_size[i] == image_size[i]) {
      interval[i] = roi_size[i];
    } else {
      // Truncation as Python's int(): the product is positive.
      auto step = static_cast<int64_t>(static_cast<double>(roi_size[i]) * (1.0 - overlap));
      interval[i] = std::max<int64_t>(step, 1);
    }
  }
  return interval;
}

std::vector<std::vector<int64_t>> dense_patch_slices(c10::IntArrayRef image_size,
                                                     c10::IntArrayRef patch_size,
                                                     c10::IntArrayRef scan_interval) {
  const size_t nd = image_size.size();
  if (patch_size.size() != nd || scan_interval.size() != nd)
    throw Error("dense_patch_slices", "expected image_size, patch_size and scan_interval of "
                                      "the same length, got " +
                                          list(image_size) + ", " + list(patch_size) + ", " +
                                          list(scan_interval));
  std::vector<std::vector<int64_t>> axisStarts(nd);
  for (size_t i = 0; i < nd; ++i) {
    if (scan_interval[i] < 1)
      throw Error("dense_patch_slices.scan_interval",
                  "expected entries >= 1, got " + list(scan_interval));
    if (patch_size[i] < 1 || patch_size[i] > image_size[i])
      throw Error("dense_patch_slices.patch_size", "expected 1 <= patch <= image size, got " +
                                                       list(patch_size) + " for image " +
                                                       list(image_size));
    // Windows until one reaches the border; that last one is moved back to end there.
    int64_t rest = image_size[i] - patch_size[i];
    int64_t n = (rest + scan_interval[i] - 1) / scan_interval[i] + 1;
    for (int64_t k = 0; k < n; ++k)
      axisStarts[i].push_back(std::min(k * scan_interval[i], rest));
  }
  std::vector<std::vector<int64_t>> starts;
  std::vector<size_t> idx(nd, 0);
  while (true) {
    std::vector<int64_t> s(nd);
    for (size_t i = 0; i < nd; ++i)
      s[i] = axisStarts[i][idx[i]];
    starts.push_back(std::move(s));
    // C-order odometer: the last axis moves fastest.
    size_t ax = nd;
    while (ax > 0) {
      --ax;
      if (++idx[ax] < axisStarts[ax].size())
        break;
      idx[ax] = 0;
      if (ax == 0)
        return starts;
    }
    if (nd == 0)
      return starts;
  }
}

SlidingWindowLayout sliding_window_layout(c10::IntArrayRef image_size, c10::IntArrayRef roi_size,
                                          double overlap, const std::string &where) {
  detail::checkOverlap(where, overlap);
  for (int64_t s : image_size)
    if (s < 1)
      throw Error(where + ".inputs", "expected a non-empty spatial size, got " + list(image_size));
  SlidingWindowLayout l;
  l.image_size = image_size.vec();
  l.roi_size = fallback_roi_size(roi_size, image_size, where);
  const size_t nd = image_size.size();
  l.pad_before.resize(nd);
  l.pad_after.resize(nd);
  l.padded_size.resize(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t diff = std::max<int64_t>(l.roi_size[i] - image_size[i], 0);
    l.pad_before[i] = diff / 2;
    l.pad_after[i] = diff - diff / 2;
    l.padded_size[i] = image_size[i] + diff;
  }
  l.scan_interval = get_scan_interval(l.padded_size, l.roi_size, overlap);
  l.window_starts = dense_patch_slices(l.padded_size, l.roi_size, l.scan_interval);
  return l;
}

at::Tensor compute_importance_map(c10::IntArrayRef patch_size, const std::string &mode,
                                  const std::vector<double> &sigma_scale, c10::ScalarType dtype,
                                  const std::string &where) {
  for (int64_t p : patch_size)
    if (p < 1)
      throw Error(where + ".patch_size", "expected sizes >= 1, got " + list(patch_size));
  at::Tensor map;
  if (mode == "constant") {
    map = at::ones(patch_size, at::kFloat);
  } else if (mode == "gaussian") {
    const size_t nd = patch_size.size();
    if (sigma_scale.size() != 1 && sigma_scale.size() != nd)
      throw Error(where + ".sigma_scale", "expected 1 or " + std::to_string(nd) + " values, got " +
                                              std::to_string(sigma_scale.size()));
    map = at::ones({}, at::kFloat);
    for (size_t i = 0; i < nd; ++i) {
      double sigma = (sigma_scale.size() == 1 ? sigma_scale[0] : sigma_scale[i]) *
                     static_cast<double>(patch_size[i]);
      if (!(sigma > 0))
        throw Error(where + ".sigma_scale", "expected values > 0");
      // Offsets from the window centre: -(p-1)/2, ..., (p-1)/2 (exact in float32).
      at::Tensor x = at::arange(patch_size[i], at::kFloat) - float(patch_size[i] - 1) / 2.0f;
      at::Tensor g = at::exp(x * x / static_cast<float>(-2.0 * sigma * sigma));
      std::vector<int64_t> shape(i + 1, 1);
      shape[i] = patch_size[i];
      map = map.unsqueeze(-1) * g.view(shape);
    }
  } else {
    throw Error(where + ".mode", "expected \"constant\" or \"gaussian\", got \"" + mode + "\"");
  }
  // No voxel may get zero weight (it would divide by zero where only it covers the image).
  double floor = std::max(map.min().item<double>(), 1e-3);
  return at::clamp_min(map, floor).to(dtype);
}

} // namespace med::inferers
