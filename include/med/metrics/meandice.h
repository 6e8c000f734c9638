// Overlap metrics on binarized segmentations (MONAI 1.4.0): DiceMetric / compute_dice,
// MeanIoU / compute_iou and GeneralizedDiceScore / compute_generalized_dice.
#pragma once

#include <optional>
#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/metrics/metric.h"

namespace med::metrics {

/// (B, C') Dice per item and class. `y_pred` and `y` are one-hot (B, C, *spatial) with 0/1
/// values, or, when `num_classes` is set, either may be a (B, 1, *spatial) label map. Empty
/// ground truth: nan with `ignore_empty` (default), else 1 when the prediction is empty too and 0
/// otherwise. Float32 unless y is float64.
at::Tensor compute_dice(const at::Tensor &y_pred, const at::Tensor &y,
                        bool include_background = true, bool ignore_empty = true,
                        std::optional<int64_t> num_classes = std::nullopt);

struct DiceMetricOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
  TORCH_ARG(bool, ignore_empty) = true;
  TORCH_ARG(std::optional<int64_t>, num_classes) = std::nullopt;
};

/// Dice per (item, class), accumulated over batches.
///
///   med::metrics::DiceMetric dice(med::metrics::DiceMetricOptions().include_background(false));
///   dice(pred_onehot, label_onehot);
///   at::Tensor mean_dice = dice.aggregate();   // nan entries (empty ground truth) skipped
class DiceMetric : public ReducedMetric {
public:
  explicit DiceMetric(DiceMetricOptions options = {});
  DiceMetricOptions options;

protected:
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
};

/// (B, C') intersection over union. Empty ground truth: nan with `ignore_empty`, else 1 when the
/// union is empty and 0 otherwise.
at::Tensor compute_iou(const at::Tensor &y_pred, const at::Tensor &y,
                       bool include_background = true, bool ignore_empty = true);

struct MeanIoUOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
  TORCH_ARG(bool, ignore_empty) = true;
};

/// IoU (Jaccard) per (item, class), accumulated over batches.
///
///   med::metrics::MeanIoU iou;  iou(pred_onehot, label_onehot);  iou.aggregate();
class MeanIoU : public ReducedMetric {
public:
  explicit MeanIoU(MeanIoUOptions options = {});
  MeanIoUOptions options;

protected:
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
};

/// (B,) generalized Dice score: 2 sum_c w_c |P_c Y_c| / sum_c w_c (|P_c| + |Y_c|) with
/// w_c = 1/|Y_c|^2 ("square"), 1/|Y_c| ("simple") or 1 ("uniform"). Classes absent from the
/// ground truth get the largest finite weight of the item; an item whose denominator is 0 scores
/// 1 when its prediction is empty, else 0.
at::Tensor compute_generalized_dice(const at::Tensor &y_pred, const at::Tensor &y,
                                    bool include_background = true,
                                    const std::string &weight_type = "square");

struct GeneralizedDiceScoreOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(std::string, reduction) = "mean_batch";
  TORCH_ARG(std::string, weight_type) = "square";
};

/// Generalized Dice score per item, accumulated over batches; the buffer is (B, 1) so the
/// usual reductions apply.
///
///   med::metrics::GeneralizedDiceScore gds;  gds(pred_onehot, label_onehot);  gds.aggregate();
class GeneralizedDiceScore : public ReducedMetric {
public:
  explicit GeneralizedDiceScore(GeneralizedDiceScoreOptions options = {});
  GeneralizedDiceScoreOptions options;

protected:
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
};

} // namespace med::metrics
