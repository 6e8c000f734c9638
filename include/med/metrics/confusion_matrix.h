// Confusion-matrix metrics (MONAI 1.4.0): ConfusionMatrixMetric with all of MONAI's metric names
// and abbreviations, FBetaScore, and the functions behind them.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/metrics/metric.h"

namespace med::metrics {

/// (B, C', 4) float32 [tp, fp, tn, fn] per item and class of binarized (B, C, *spatial) inputs.
at::Tensor get_confusion_matrix(const at::Tensor &y_pred, const at::Tensor &y,
                                bool include_background = true);

/// MONAI's canonical short name for a metric name ("sensitivity", "recall", "tpr" -> "tpr";
/// spaces count as underscores, case is ignored). Throws med::Error for unknown names.
std::string check_confusion_matrix_metric_name(const std::string &metric_name);

/// One metric from a (..., 4) confusion matrix (a 1-D (4) matrix is treated as (1, 4)); nan
/// where the denominator is 0.
at::Tensor compute_confusion_matrix_metric(const std::string &metric_name,
                                           const at::Tensor &confusion_matrix);

struct ConfusionMatrixMetricOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(std::vector<std::string>, metric_name) = {"hit_rate"};
  /// true: metric per item then reduce; false: reduce the counts then compute the metric.
  TORCH_ARG(bool, compute_sample) = false;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
};

/// Confusion-matrix counts per (item, class) accumulated over batches; aggregate() gives one
/// tensor per requested metric name, in order.
///
///   med::metrics::ConfusionMatrixMetric cm(
///       med::metrics::ConfusionMatrixMetricOptions().metric_name({"sensitivity", "f1"}));
///   cm(pred_onehot, label_onehot);
///   std::vector<at::Tensor> values = cm.aggregate();   // {sensitivity, f1}
class ConfusionMatrixMetric : public CumulativeIterationMetric {
public:
  explicit ConfusionMatrixMetric(ConfusionMatrixMetricOptions options = {});
  std::vector<at::Tensor> aggregate(bool compute_sample = false,
                                    const std::string &reduction = "") const;
  /// (value, not_nans) per metric name.
  std::vector<std::pair<at::Tensor, at::Tensor>>
  aggregate_with_not_nans(bool compute_sample = false, const std::string &reduction = "") const;
  ConfusionMatrixMetricOptions options;

protected:
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
};

/// F-beta from a (..., 4) confusion matrix: (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp).
at::Tensor compute_f_beta_score(const at::Tensor &confusion_matrix, double beta);

struct FBetaScoreOptions {
  TORCH_ARG(double, beta) = 1.0;
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
};

/// F-beta score: counts accumulated per (item, class), reduced, then scored.
///
///   med::metrics::FBetaScore f2(med::metrics::FBetaScoreOptions().beta(2.0));
class FBetaScore : public CumulativeIterationMetric {
public:
  explicit FBetaScore(FBetaScoreOptions options = {});
  at::Tensor aggregate(const std::string &reduction = "") const;
  FBetaScoreOptions options;

protected:
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
};

} // namespace med::metrics
