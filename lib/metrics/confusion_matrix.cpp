// Confusion-matrix counts and the metrics MONAI derives from them.
#include "med/metrics/confusion_matrix.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "med/core/error.h"

namespace med::metrics {

at::Tensor get_confusion_matrix(const at::Tensor &y_pred_in, const at::Tensor &y_in,
                                bool include_background) {
  const std::string owner = "ConfusionMatrixMetric";
  detail::check_same_shape(y_pred_in, y_in, owner, 2);
  at::Tensor k = detail::overlap_counts(y_pred_in, y_in, owner, true);
  if (!include_background && k.size(1) > 1)
    k = k.slice(1, 1);
  const double n =
      double(y_pred_in.numel() / std::max<int64_t>(1, y_pred_in.size(0) * y_pred_in.size(1)));
  at::Tensor tp = k.select(2, 0), pp = k.select(2, 1), yp = k.select(2, 2);
  at::Tensor fp = pp - tp, fn = yp - tp;
  at::Tensor tn = n - tp - fp - fn;
  return at::stack({tp, fp, tn, fn}, -1).to(at::kFloat);
}

std::string check_confusion_matrix_metric_name(const std::string &metric_name) {
  std::string m = metric_name;
  std::replace(m.begin(), m.end(), ' ', '_');
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::map<std::string, std::string> names = {
      {"sensitivity", "tpr"},
      {"recall", "tpr"},
      {"hit_rate", "tpr"},
      {"true_positive_rate", "tpr"},
      {"tpr", "tpr"},
      {"specificity", "tnr"},
      {"selectivity", "tnr"},
      {"true_negative_rate", "tnr"},
      {"tnr", "tnr"},
      {"precision", "ppv"},
      {"positive_predictive_value", "ppv"},
      {"ppv", "ppv"},
      {"negative_predictive_value", "npv"},
      {"npv", "npv"},
      {"miss_rate", "fnr"},
      {"false_negative_rate", "fnr"},
      {"fnr", "fnr"},
      {"fall_out", "fpr"},
      {"false_positive_rate", "fpr"},
      {"fpr", "fpr"},
      {"false_discovery_rate", "fdr"},
      {"fdr", "fdr"},
      {"false_omission_rate", "for"},
      {"for", "for"},
      {"prevalence_threshold", "pt"},
      {"pt", "pt"},
      {"threat_score", "ts"},
      {"critical_success_index", "ts"},
      {"ts", "ts"},
      {"csi", "ts"},
      {"accuracy", "acc"},
      {"acc", "acc"},
      {"balanced_accuracy", "ba"},
      {"ba", "ba"},
      {"f1_score", "f1"},
      {"f1", "f1"},
      {"matthews_correlation_coefficient", "mcc"},
      {"mcc", "mcc"},
      {"fowlkes_mallows_index", "fm"},
      {"fm", "fm"},
      {"informedness", "bm"},
      {"bookmaker_informedness", "bm"},
      {"bm", "bm"},
      {"youden_index", "bm"},
      {"youden", "bm"},
      {"markedness", "mk"},
      {"deltap", "mk"},
      {"mk", "mk"},
  };
  auto it = names.find(m);
  if (it == names.end())
    throw Error("ConfusionMatrixMetric.metric_name",
                "unknown metric name '" + metric_name +
                    "'; expected one of MONAI's names, e.g. sensitivity, specificity, precision, "
                    "f1 score, accuracy, threat score, mcc");
  return it->second;
}

at::Tensor compute_confusion_matrix_metric(const std::string &metric_name,
                                           const at::Tensor &confusion_matrix) {
  const std::string m = check_confusion_matrix_metric_name(metric_name);
  at::Tensor cm = confusion_matrix;
  if (cm.dim() == 1)
    cm = cm.unsqueeze(0);
  if (cm.size(-1) != 4)
    throw Error("compute_confusion_matrix_metric.confusion_matrix",
                "expected a last dimension of 4 [tp, fp, tn, fn], got " +
                    std::to_string(cm.size(-1)));
  at::Tensor tp = cm.select(-1, 0), fp = cm.select(-1, 1), tn = cm.select(-1, 2),
             fn = cm.select(-1, 3);
  at::Tensor p = tp + fn, n = fp + tn;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto ratio = [&](const at::Tensor &num, const at::Tensor &den) {
    return at::where(den != 0, num / den, at::full_like(num, nan));
  };
  auto one = at::ones_like(tp);
  at::Tensor num, den;
  if (m == "tpr") {
    num = tp, den = p;
  } else if (m == "tnr") {
    num = tn, den = n;
  } else if (m == "ppv") {
    num = tp, den = tp + fp;
  } else if (m == "npv") {
    num = tn, den = tn + fn;
  } else if (m == "fnr") {
    num = fn, den = p;
  } else if (m == "fpr") {
    num = fp, den = n;
  } else if (m == "fdr") {
    num = fp, den = fp + tp;
  } else if (m == "for") {
    num = fn, den = fn + tn;
  } else if (m == "pt") {
    at::Tensor tpr = ratio(tp, p), tnr = ratio(tn, n);
    num = at::sqrt(tpr * (1.0 - tnr)) + tnr - 1.0;
    den = tpr + tnr - 1.0;
  } else if (m == "ts") {
    num = tp, den = tp + fn + fp;
  } else if (m == "acc") {
    num = tp + tn, den = p + n;
  } else if (m == "ba") {
    num = ratio(tp, p) + ratio(tn, n), den = 2.0 * one;
  } else if (m == "f1") {
    num = 2.0 * tp, den = 2.0 * tp + fn + fp;
  } else if (m == "mcc") {
    num = tp * tn - fp * fn;
    den = at::sqrt((tp + fp) * p * n * (tn + fn));
  } else if (m == "fm") {
    num = at::sqrt(ratio(tp, tp + fp) * ratio(tp, p)), den = one;
  } else if (m == "bm") {
    num = ratio(tp, p) + ratio(tn, n) - 1.0, den = one;
  } else { // mk
    num = ratio(tp, tp + fp) + ratio(tn, tn + fn) - 1.0, den = one;
  }
  return ratio(num, den);
}

ConfusionMatrixMetric::ConfusionMatrixMetric(ConfusionMatrixMetricOptions options_)
    : CumulativeIterationMetric("ConfusionMatrixMetric"), options(std::move(options_)) {
  check_reduction(options.reduction(), name_);
  if (options.metric_name().empty())
    throw Error(name_ + ".metric_name", "expected at least one metric name");
  for (const std::string &m : options.metric_name())
    check_confusion_matrix_metric_name(m);
}

std::vector<at::Tensor> ConfusionMatrixMetric::compute(const at::Tensor &y_pred,
                                                       const at::Tensor &y) {
  return {get_confusion_matrix(y_pred, y, options.include_background())};
}

std::vector<std::pair<at::Tensor, at::Tensor>>
ConfusionMatrixMetric::aggregate_with_not_nans(bool compute_sample,
                                               const std::string &reduction) const {
  const std::string r = reduction.empty() ? options.reduction() : reduction;
  at::Tensor data = get_buffer();
  std::vector<std::pair<at::Tensor, at::Tensor>> out;
  for (const std::string &m : options.metric_name()) {
    if (compute_sample || options.compute_sample()) {
      out.push_back(do_metric_reduction(compute_confusion_matrix_metric(m, data), r, name_));
    } else {
      auto [f, notNans] = do_metric_reduction(data, r, name_);
      out.push_back({compute_confusion_matrix_metric(m, f), notNans});
    }
  }
  return out;
}

std::vector<at::Tensor> ConfusionMatrixMetric::aggregate(bool compute_sample,
                                                         const std::string &reduction) const {
  std::vector<at::Tensor> out;
  for (auto &fn : aggregate_with_not_nans(compute_sample, reduction))
    out.push_back(fn.first);
  return out;
}

at::Tensor compute_f_beta_score(const at::Tensor &confusion_matrix, double beta) {
  at::Tensor cm = confusion_matrix.dim() == 1 ? confusion_matrix.unsqueeze(0) : confusion_matrix;
  if (cm.size(-1) != 4)
    throw Error("compute_f_beta_score.confusion_matrix", "expected a last dimension of 4");
  at::Tensor tp = cm.select(-1, 0), fp = cm.select(-1, 1), fn = cm.select(-1, 3);
  const double b2 = beta * beta;
  at::Tensor num = (1.0 + b2) * tp, den = (1.0 + b2) * tp + b2 * fn + fp;
  return at::where(den != 0, num / den,
                   at::full_like(num, std::numeric_limits<double>::quiet_NaN()));
}

FBetaScore::FBetaScore(FBetaScoreOptions options_)
    : CumulativeIterationMetric("FBetaScore"), options(options_) {
  check_reduction(options.reduction(), name_);
  if (!(options.beta() >= 0) || !std::isfinite(options.beta()))
    throw Error(name_ + ".beta", "expected a finite beta >= 0");
}

std::vector<at::Tensor> FBetaScore::compute(const at::Tensor &y_pred, const at::Tensor &y) {
  return {get_confusion_matrix(y_pred, y, options.include_background())};
}

at::Tensor FBetaScore::aggregate(const std::string &reduction) const {
  auto [f, notNans] =
      do_metric_reduction(get_buffer(), reduction.empty() ? options.reduction() : reduction, name_);
  return compute_f_beta_score(f, options.beta());
}

} // namespace med::metrics
