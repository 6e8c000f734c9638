// sliding_window_inference (sliding_window.h): pad, cut windows, predict in batches, blend with
// the importance map, normalise by the summed weights, crop back.
#include "med/inferers/sliding_window.h"

#include <algorithm>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "check.h"
#include "med/core/error.h"

namespace med::inferers {

namespace {

const char *kWhere = "sliding_window_inference";

std::string shapeText(c10::IntArrayRef s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i)
    t += (i ? ", " : "") + std::to_string(s[i]);
  return t + ")";
}

/// The view of `t` (B or N, C, *spatial) covering window `start` of size `roi` on batch item b.
at::Tensor window(const at::Tensor &t, int64_t b, const std::vector<int64_t> &start,
                  const std::vector<int64_t> &roi) {
  at::Tensor w = t.select(0, b);
  for (size_t i = 0; i < start.size(); ++i)
    w = w.narrow(static_cast<int64_t>(i) + 1, start[i], roi[i]);
  return w;
}

/// Symmetric padding of the spatial axes up to the layout's padded size.
at::Tensor padToRoi(const at::Tensor &inputs, const SlidingWindowLayout &l,
                    const std::string &padding_mode, double cval) {
  std::vector<int64_t> pad; // at::pad wants the last axis first
  bool any = false;
  for (size_t i = l.image_size.size(); i-- > 0;) {
    pad.push_back(l.pad_before[i]);
    pad.push_back(l.pad_after[i]);
    any = any || l.pad_before[i] > 0 || l.pad_after[i] > 0;
  }
  if (!any)
    return inputs;
  if (padding_mode == "constant")
    return at::pad(inputs, pad, "constant", cval);
  for (size_t i = 0; i < l.image_size.size(); ++i)
    if (padding_mode == "reflect" && l.pad_after[i] >= l.image_size[i])
      throw Error(std::string(kWhere) + ".padding_mode",
                  "\"reflect\" needs the padding (" + std::to_string(l.pad_after[i]) +
                      ") to be smaller than the image along axis " + std::to_string(i) + " (" +
                      std::to_string(l.image_size[i]) + ")");
  return at::pad(inputs, pad, padding_mode);
}

} // namespace

at::Tensor sliding_window_inference(const at::Tensor &inputs, c10::IntArrayRef roi_size,
                                    int64_t sw_batch_size, const Predictor &predictor,
                                    double overlap, const std::string &mode,
                                    const std::vector<double> &sigma_scale,
                                    const std::string &padding_mode, double cval) {
  detail::checkSettings(kWhere, sw_batch_size, overlap, mode, sigma_scale, padding_mode, cval);
  if (!predictor)
    throw Error(std::string(kWhere) + ".predictor", "expected a callable, got an empty one");
  if (!inputs.defined() || inputs.dim() < 3)
    throw Error(std::string(kWhere) + ".inputs",
                "expected (batch, channel, *spatial) with at least one spatial axis, got shape " +
                    (inputs.defined() ? shapeText(inputs.sizes()) : std::string("undefined")));
  const int64_t nd = inputs.dim() - 2;
  if (sigma_scale.size() != 1 && static_cast<int64_t>(sigma_scale.size()) != nd)
    throw Error(std::string(kWhere) + ".sigma_scale", "expected 1 or " + std::to_string(nd) +
                                                          " values (one per spatial axis), got " +
                                                          std::to_string(sigma_scale.size()));
  const int64_t batch = inputs.size(0);
  if (batch < 1)
    throw Error(std::string(kWhere) + ".inputs", "expected a non-empty batch");

  SlidingWindowLayout l = sliding_window_layout(inputs.sizes().slice(2), roi_size, overlap, kWhere);
  at::Tensor image = padToRoi(inputs, l, padding_mode, cval);

  const int64_t nWin = static_cast<int64_t>(l.window_starts.size());
  const int64_t total = nWin * batch;
  at::Tensor out, count, weight;
  // Windows are numbered batch item first: slice g is window g % nWin of item g / nWin.
  for (int64_t g0 = 0; g0 < total; g0 += sw_batch_size) {
    int64_t g1 = std::min(g0 + sw_batch_size, total);
    std::vector<at::Tensor> wins;
    for (int64_t g = g0; g < g1; ++g)
      wins.push_back(window(image, g / nWin, l.window_starts[g % nWin], l.roi_size));
    at::Tensor pred = predictor(at::stack(wins));
    std::vector<int64_t> expected{g1 - g0, -1};
    expected.insert(expected.end(), l.roi_size.begin(), l.roi_size.end());
    bool ok = pred.defined() && pred.dim() == nd + 2 && pred.size(0) == g1 - g0;
    for (int64_t i = 0; ok && i < nd; ++i)
      ok = pred.size(i + 2) == l.roi_size[i];
    if (!ok)
      throw Error(std::string(kWhere) + ".predictor",
                  "expected an output of shape " + shapeText(expected) +
                      " (windows, channels, *roi_size), got " +
                      (pred.defined() ? shapeText(pred.sizes()) : std::string("undefined")));
    if (!out.defined()) {
      c10::ScalarType dt = at::isFloatingType(pred.scalar_type()) ? pred.scalar_type() : at::kFloat;
      std::vector<int64_t> shape{batch, pred.size(1)};
      shape.insert(shape.end(), l.padded_size.begin(), l.padded_size.end());
      out = at::zeros(shape, pred.options().dtype(dt));
      shape[1] = 1;
      count = at::zeros(shape, pred.options().dtype(dt));
      weight = compute_importance_map(l.roi_size, mode, sigma_scale, dt, kWhere)
                   .to(pred.device())
                   .unsqueeze(0);
    } else if (pred.size(1) != out.size(1)) {
      throw Error(std::string(kWhere) + ".predictor",
                  "changed its channel count between calls: " + std::to_string(out.size(1)) +
                      " then " + std::to_string(pred.size(1)));
    }
    at::Tensor p = pred.to(out.scalar_type());
    for (int64_t g = g0; g < g1; ++g) {
      const auto &start = l.window_starts[g % nWin];
      window(out, g / nWin, start, l.roi_size).add_(p[g - g0] * weight);
      window(count, g / nWin, start, l.roi_size).add_(weight);
    }
  }
  out.div_(count);
  for (int64_t i = 0; i < nd; ++i)
    out = out.narrow(i + 2, l.pad_before[i], l.image_size[i]);
  return out.contiguous();
}

} // namespace med::inferers
