// Area under the ROC curve for classification (MONAI 1.4.0's ROCAUCMetric / compute_roc_auc).
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/metrics/metric.h"

namespace med::metrics {

/// AUC of scores `y_pred` against 0/1 labels `y`: (N,) or (N, 1) for one class, (N, C) for
/// several (one-hot labels). Tied scores count one half. `average`: "macro" (mean over
/// classes), "weighted" (weights = positives per class), "micro" (all entries pooled) or "none"
/// (one value per class). Returns float64: 0-d, or (C,) for "none". A class whose labels are all
/// equal gives nan (as MONAI, which warns). Labels other than 0/1 throw.
at::Tensor compute_roc_auc(const at::Tensor &y_pred, const at::Tensor &y,
                           const std::string &average = "macro");

struct ROCAUCMetricOptions {
  TORCH_ARG(std::string, average) = "macro";
};

/// Accumulates scores and labels over batches; aggregate() computes the AUC of all of them.
///
///   med::metrics::ROCAUCMetric auc;
///   auc(probabilities, onehot_labels);   // per batch
///   double value = auc.aggregate().item<double>();
class ROCAUCMetric : public CumulativeIterationMetric {
public:
  explicit ROCAUCMetric(ROCAUCMetricOptions options = {});
  at::Tensor aggregate(const std::string &average = "") const;
  ROCAUCMetricOptions options;

protected:
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
};

} // namespace med::metrics
