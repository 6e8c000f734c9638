// Per-item mean errors: MSE, MAE, RMSE and PSNR.
#include "med/metrics/regression.h"

#include <ATen/ATen.h>

#include <cmath>

#include "med/core/error.h"

namespace med::metrics {

namespace {
/// Mean over everything but the batch dimension, kept as (B, 1).
at::Tensor perItemMean(const at::Tensor &t) { return t.flatten(1).mean(-1, true); }
} // namespace

RegressionMetric::RegressionMetric(std::string name, const RegressionMetricOptions &o)
    : ReducedMetric(std::move(name), o.reduction()) {}

std::vector<at::Tensor> RegressionMetric::compute(const at::Tensor &y_pred, const at::Tensor &y) {
  detail::check_finite_input(y_pred, name_, "y_pred");
  detail::check_finite_input(y, name_, "y");
  if (!y_pred.sizes().equals(y.sizes()))
    throw Error(name_ + ".y", "expected the shape of y_pred " +
                                  std::string(c10::str(y_pred.sizes())) + ", got " +
                                  std::string(c10::str(y.sizes())));
  if (y_pred.dim() < 2)
    throw Error(name_ + ".y_pred",
                "expected a channel or spatial dimension after the batch dimension");
  if (!at::isFloatingType(y_pred.scalar_type()) || !at::isFloatingType(y.scalar_type()))
    throw Error(name_ + ".y_pred", "expected floating-point tensors");
  return {compute_metric(y_pred, y)};
}

MSEMetric::MSEMetric(RegressionMetricOptions o) : RegressionMetric("MSEMetric", o) {}
at::Tensor MSEMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  return perItemMean((y - y_pred).square());
}

MAEMetric::MAEMetric(RegressionMetricOptions o) : RegressionMetric("MAEMetric", o) {}
at::Tensor MAEMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  return perItemMean((y - y_pred).abs());
}

RMSEMetric::RMSEMetric(RegressionMetricOptions o) : RegressionMetric("RMSEMetric", o) {}
at::Tensor RMSEMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  return perItemMean((y - y_pred).square()).sqrt();
}

PSNRMetric::PSNRMetric(PSNRMetricOptions o)
    : RegressionMetric(
          "PSNRMetric",
          RegressionMetricOptions().reduction(o.reduction()).get_not_nans(o.get_not_nans())),
      options(o) {
  if (!(options.max_val() > 0) || !std::isfinite(options.max_val()))
    throw Error(name_ + ".max_val", "expected a positive finite maximum value");
}
at::Tensor PSNRMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  at::Tensor mse = perItemMean((y - y_pred).square());
  return 20.0 * std::log10(options.max_val()) - 10.0 * at::log10(mse);
}

} // namespace med::metrics
