// Per-item mean errors: MSE, MAE, RMSE and PSNR, from the generated med.error_sums kernel.
#include "med/metrics/regression.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "med/core/error.h"
#include "med/kernels/reductions.h"

namespace med::metrics {

namespace {
/// Per item, (B, 1) each: the mean of (y - y_pred)^2 (`squared`) or of |y - y_pred|, in the
/// inputs' promoted dtype, from one pass of the generated med.error_sums kernel (half precision
/// is read as float32).
at::Tensor errorMean(const at::Tensor &y_pred, const at::Tensor &y, bool squared,
                     const std::string &owner) {
  const at::ScalarType t = at::promote_types(y_pred.scalar_type(), y.scalar_type());
  const at::ScalarType kt = t == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor p = y_pred.cpu().to(kt).contiguous(), g = y.cpu().to(kt).contiguous();
  const int64_t items = p.size(0);
  at::Tensor sums = kernels::error_sums(p, g, items, at::get_num_threads(), owner);
  // NaN in either input makes the sums NaN; so does inf - inf, which is no error.
  if (at::isnan(sums).any().item<bool>()) {
    detail::check_finite_input(y_pred, owner, "y_pred");
    detail::check_finite_input(y, owner, "y");
  }
  // An item of no elements has a NaN mean, as torch.mean gives.
  const double n = items ? double(p.numel() / items) : 1.0;
  return (sums.select(1, squared ? 0 : 1).unsqueeze(1) / n).to(y_pred.device(), t);
}
} // namespace

RegressionMetric::RegressionMetric(std::string name, const RegressionMetricOptions &o)
    : ReducedMetric(std::move(name), o.reduction()) {}

std::vector<at::Tensor> RegressionMetric::compute(const at::Tensor &y_pred, const at::Tensor &y) {
  if (scanInputs_) {
    detail::check_finite_input(y_pred, name_, "y_pred");
    detail::check_finite_input(y, name_, "y");
  }
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

MSEMetric::MSEMetric(RegressionMetricOptions o) : RegressionMetric("MSEMetric", o) {
  scanInputs_ = false;
}
at::Tensor MSEMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  return errorMean(y_pred, y, true, name_);
}

MAEMetric::MAEMetric(RegressionMetricOptions o) : RegressionMetric("MAEMetric", o) {
  scanInputs_ = false;
}
at::Tensor MAEMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  return errorMean(y_pred, y, false, name_);
}

RMSEMetric::RMSEMetric(RegressionMetricOptions o) : RegressionMetric("RMSEMetric", o) {
  scanInputs_ = false;
}
at::Tensor RMSEMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  return errorMean(y_pred, y, true, name_).sqrt();
}

PSNRMetric::PSNRMetric(PSNRMetricOptions o)
    : RegressionMetric(
          "PSNRMetric",
          RegressionMetricOptions().reduction(o.reduction()).get_not_nans(o.get_not_nans())),
      options(o) {
  if (!(options.max_val() > 0) || !std::isfinite(options.max_val()))
    throw Error(name_ + ".max_val", "expected a positive finite maximum value");
  scanInputs_ = false;
}
at::Tensor PSNRMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  at::Tensor mse = errorMean(y_pred, y, true, name_);
  return 20.0 * std::log10(options.max_val()) - 10.0 * at::log10(mse);
}

} // namespace med::metrics
