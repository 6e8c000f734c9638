// Runner for the inference cases: MONAI's sliding_window_inference with the stored Conv3d
// predictor. Besides the blended output it reports the window layout (padded size, scan
// interval, every window start) and the importance map, which the cases store too.
#include <ATen/Functions.h>

#include "med/core/error.h"
#include "med/inferers/sliding_window.h"
#include "registry.h"

namespace med::conformance {
namespace I = med::inferers;
using nlohmann::json;

namespace {

/// roi_size as MONAI takes it: an int or a list whose entries may be None (-> whole axis).
std::vector<int64_t> roiSize(Kwargs &kw) {
  const json &v = kw.raw("roi_size");
  std::vector<int64_t> roi;
  auto entry = [&](const json &e) {
    if (e.is_null())
      return int64_t(-1);
    if (!e.is_number_integer())
      throw Error(kw.owner() + ".roi_size", "expected integers or null, got " + v.dump());
    return e.get<int64_t>();
  };
  if (v.is_array())
    for (const json &e : v)
      roi.push_back(entry(e));
  else
    roi.push_back(entry(v));
  return roi;
}

Outputs slidingWindow(const Case &c) {
  Kwargs kw("sliding_window_inference", c.params);
  std::vector<int64_t> roi = roiSize(kw);
  int64_t swBatch = kw.integer("sw_batch_size", 1);
  double overlap = kw.number("overlap", 0.25);
  std::string mode = kw.string("mode", "constant");
  std::vector<double> sigma = kw.numbers("sigma_scale");
  if (sigma.empty())
    sigma = {0.125};
  std::string padding = kw.string("padding_mode", "constant");
  double cval = kw.number("cval", 0.0);
  kw.finish();

  const at::Tensor &inputs = c.input("inputs").data;
  at::Tensor weight = c.input("predictor_weight").data;
  at::Tensor bias = c.input("predictor_bias").data;
  // The stored predictor: Conv3d(1, 2, 3, stride 1, zero padding 1) on each window.
  I::Predictor predictor = [&](const at::Tensor &x) {
    return at::conv3d(x, weight, bias, {1, 1, 1}, {1, 1, 1});
  };

  Outputs o;
  o.arrays["out"] = MetaTensor(I::sliding_window_inference(inputs, roi, swBatch, predictor, overlap,
                                                           mode, sigma, padding, cval));
  I::SlidingWindowLayout l =
      I::sliding_window_layout(inputs.sizes().slice(2), roi, overlap, kw.owner());
  o.arrays["importance_map"] =
      MetaTensor(I::compute_importance_map(l.roi_size, mode, sigma, inputs.scalar_type()));
  o.scalars["padded_image_size"] = l.padded_size;
  o.scalars["scan_interval"] = l.scan_interval;
  o.scalars["window_starts"] = l.window_starts;
  o.scalars["n_windows"] = l.window_starts.size();
  o.skipped["predictor"] = "a description of the Python predictor, not a result";
  return o;
}

} // namespace

void registerInferenceRunners(Registry &r) { r.add("sliding_window_inference", slidingWindow); }

} // namespace med::conformance
