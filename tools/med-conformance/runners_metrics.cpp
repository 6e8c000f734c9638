// Runners for the metric cases: build the med::metrics object from MONAI's constructor kwargs,
// call it once on the stored batch (with the call kwargs, e.g. spacing), and report the per-item
// buffer and aggregate() both as arrays and as the scalars case.json stores.
#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/metrics/metrics.h"
#include "registry.h"

namespace med::conformance {
namespace M = med::metrics;
using nlohmann::json;

namespace {

/// A tensor as nested JSON lists of doubles (0-d -> a number).
json toJson(const at::Tensor &t) {
  at::Tensor d = t.detach().cpu().to(at::kDouble);
  if (d.dim() == 0)
    return d.item<double>();
  json out = json::array();
  for (int64_t i = 0; i < d.size(0); ++i)
    out.push_back(toJson(d[i]));
  return out;
}

/// Reads params.call_kwargs (only `spacing` is understood) into the per-item spacing form.
M::SpacingPerItem callSpacing(Kwargs &kw) {
  Kwargs call(kw.owner() + ".call_kwargs", kw.raw("call_kwargs"));
  const json &s = call.raw("spacing");
  call.finish();
  M::SpacingPerItem out;
  if (s.is_null())
    return out;
  if (s.is_number())
    return {{s.get<double>()}};
  if (!s.is_array())
    throw Error(kw.owner() + ".spacing", "expected a number or a list, got " + s.dump());
  bool nested = !s.empty() && s[0].is_array();
  if (!nested)
    return {s.get<std::vector<double>>()};
  for (const json &e : s)
    out.push_back(e.get<std::vector<double>>());
  return out;
}

/// Call kwargs for metrics that take none.
void noCallKwargs(Kwargs &kw) {
  Kwargs call(kw.owner() + ".call_kwargs", kw.raw("call_kwargs"));
  call.finish();
}

void notNansUnsupported(Kwargs &kw) {
  kw.only("get_not_nans", {false}, "get_not_nans=True returns a tuple; cases store plain values");
}

/// The common output layout: per_item and aggregate, arrays and scalars.
Outputs reducedOutputs(const at::Tensor &perItem, const at::Tensor &aggregate) {
  Outputs o;
  o.arrays["per_item"] = MetaTensor(perItem.contiguous());
  o.arrays["aggregate"] = MetaTensor(aggregate.contiguous());
  o.scalars["per_item"] = toJson(perItem);
  o.scalars["aggregate"] = toJson(aggregate);
  return o;
}

Outputs dice(const Case &c) {
  Kwargs kw("DiceMetric", c.params);
  M::DiceMetricOptions opt;
  opt.include_background(kw.boolean("include_background", true))
      .reduction(kw.string("reduction", "mean"))
      .ignore_empty(kw.boolean("ignore_empty", true));
  if (kw.has("num_classes"))
    opt.num_classes(kw.integer("num_classes", 0));
  else
    kw.raw("num_classes");
  notNansUnsupported(kw);
  noCallKwargs(kw);
  kw.finish();
  M::DiceMetric m(opt);
  at::Tensor per = m(c.input("y_pred").data, c.input("y").data);
  return reducedOutputs(per, m.aggregate());
}

Outputs meanIou(const Case &c) {
  Kwargs kw("MeanIoU", c.params);
  M::MeanIoUOptions opt;
  opt.include_background(kw.boolean("include_background", true))
      .reduction(kw.string("reduction", "mean"))
      .ignore_empty(kw.boolean("ignore_empty", true));
  notNansUnsupported(kw);
  noCallKwargs(kw);
  kw.finish();
  M::MeanIoU m(opt);
  at::Tensor per = m(c.input("y_pred").data, c.input("y").data);
  return reducedOutputs(per, m.aggregate());
}

Outputs confusion(const Case &c) {
  Kwargs kw("ConfusionMatrixMetric", c.params);
  const json &names = kw.raw("metric_name");
  std::vector<std::string> list;
  if (names.is_string())
    list.push_back(names.get<std::string>());
  else if (names.is_array())
    list = names.get<std::vector<std::string>>();
  else if (names.is_null())
    list = {"hit_rate"};
  M::ConfusionMatrixMetricOptions opt;
  opt.include_background(kw.boolean("include_background", true))
      .metric_name(list)
      .compute_sample(kw.boolean("compute_sample", false))
      .reduction(kw.string("reduction", "mean"));
  notNansUnsupported(kw);
  noCallKwargs(kw);
  kw.finish();
  M::ConfusionMatrixMetric m(opt);
  at::Tensor per = m(c.input("y_pred").data, c.input("y").data);
  std::vector<at::Tensor> agg = m.aggregate();
  Outputs o;
  o.arrays["per_item"] = MetaTensor(per.contiguous());
  o.scalars["per_item"] = toJson(per);
  json all = json::array();
  for (size_t i = 0; i < agg.size(); ++i) {
    o.arrays["aggregate_" + std::to_string(i)] = MetaTensor(agg[i].contiguous());
    all.push_back(toJson(agg[i]));
  }
  o.scalars["aggregate"] = all;
  return o;
}

Outputs hausdorff(const Case &c) {
  Kwargs kw("HausdorffDistanceMetric", c.params);
  M::HausdorffDistanceMetricOptions opt;
  opt.include_background(kw.boolean("include_background", false))
      .distance_metric(kw.string("distance_metric", "euclidean"))
      .percentile(kw.optNumber("percentile"))
      .directed(kw.boolean("directed", false))
      .reduction(kw.string("reduction", "mean"));
  notNansUnsupported(kw);
  M::SpacingPerItem spacing = callSpacing(kw);
  kw.finish();
  M::HausdorffDistanceMetric m(opt);
  at::Tensor per = m(c.input("y_pred").data, c.input("y").data, spacing);
  return reducedOutputs(per, m.aggregate());
}

Outputs surfaceDistance(const Case &c) {
  Kwargs kw("SurfaceDistanceMetric", c.params);
  M::SurfaceDistanceMetricOptions opt;
  opt.include_background(kw.boolean("include_background", false))
      .symmetric(kw.boolean("symmetric", false))
      .distance_metric(kw.string("distance_metric", "euclidean"))
      .reduction(kw.string("reduction", "mean"));
  notNansUnsupported(kw);
  M::SpacingPerItem spacing = callSpacing(kw);
  kw.finish();
  M::SurfaceDistanceMetric m(opt);
  at::Tensor per = m(c.input("y_pred").data, c.input("y").data, spacing);
  return reducedOutputs(per, m.aggregate());
}

Outputs surfaceDice(const Case &c) {
  Kwargs kw("SurfaceDiceMetric", c.params);
  M::SurfaceDiceMetricOptions opt(kw.numbers("class_thresholds"));
  opt.include_background(kw.boolean("include_background", false))
      .distance_metric(kw.string("distance_metric", "euclidean"))
      .reduction(kw.string("reduction", "mean"))
      .use_subvoxels(kw.boolean("use_subvoxels", false));
  notNansUnsupported(kw);
  M::SpacingPerItem spacing = callSpacing(kw);
  kw.finish();
  M::SurfaceDiceMetric m(opt);
  at::Tensor per = m(c.input("y_pred").data, c.input("y").data, spacing);
  return reducedOutputs(per, m.aggregate());
}

Outputs rocAuc(const Case &c) {
  Kwargs kw("ROCAUCMetric", c.params);
  M::ROCAUCMetric m(M::ROCAUCMetricOptions().average(kw.string("average", "macro")));
  noCallKwargs(kw);
  kw.finish();
  m(c.input("y_pred").data, c.input("y").data);
  at::Tensor agg = m.aggregate();
  Outputs o;
  if (agg.dim() == 0) {
    o.arrays["aggregate"] = MetaTensor(agg);
  } else {
    for (int64_t i = 0; i < agg.size(0); ++i)
      o.arrays["aggregate_" + std::to_string(i)] = MetaTensor(agg[i].clone());
  }
  o.scalars["aggregate"] = toJson(agg);
  return o;
}

/// MSE / MAE / RMSE / PSNR / SSIM: build, call once, report.
template <typename Make> Runner regression(std::string name, Make make) {
  return [name, make](const Case &c) {
    Kwargs kw(name, c.params);
    auto m = make(kw);
    notNansUnsupported(kw);
    noCallKwargs(kw);
    kw.finish();
    at::Tensor per = m(c.input("y_pred").data, c.input("y").data);
    return reducedOutputs(per, m.aggregate());
  };
}

M::RegressionMetricOptions regressionOptions(Kwargs &kw) {
  return M::RegressionMetricOptions().reduction(kw.string("reduction", "mean"));
}

} // namespace

void registerMetricRunners(Registry &r) {
  r.add("DiceMetric", dice);
  r.add("MeanIoU", meanIou);
  r.add("ConfusionMatrixMetric", confusion);
  r.add("HausdorffDistanceMetric", hausdorff);
  r.add("SurfaceDistanceMetric", surfaceDistance);
  r.add("SurfaceDiceMetric", surfaceDice);
  r.add("ROCAUCMetric", rocAuc);
  r.add("MSEMetric",
        regression("MSEMetric", [](Kwargs &kw) { return M::MSEMetric(regressionOptions(kw)); }));
  r.add("MAEMetric",
        regression("MAEMetric", [](Kwargs &kw) { return M::MAEMetric(regressionOptions(kw)); }));
  r.add("RMSEMetric",
        regression("RMSEMetric", [](Kwargs &kw) { return M::RMSEMetric(regressionOptions(kw)); }));
  r.add("PSNRMetric", regression("PSNRMetric", [](Kwargs &kw) {
          return M::PSNRMetric(
              M::PSNRMetricOptions(kw.number("max_val")).reduction(kw.string("reduction", "mean")));
        }));
  r.add("SSIMMetric", regression("SSIMMetric", [](Kwargs &kw) {
          M::SSIMMetricOptions o(kw.integer("spatial_dims", 2));
          o.data_range(kw.number("data_range", 1.0))
              .kernel_type(kw.string("kernel_type", "gaussian"))
              .win_size(kw.ints("win_size", {11}))
              .kernel_sigma(kw.has("kernel_sigma") ? kw.numbers("kernel_sigma")
                                                   : std::vector<double>{1.5})
              .k1(kw.number("k1", 0.01))
              .k2(kw.number("k2", 0.03))
              .reduction(kw.string("reduction", "mean"));
          return M::SSIMMetric(o);
        }));
}

} // namespace med::conformance
