// Metric handlers: run any med::metrics metric over an engine's iterations and publish its
// epoch value in state.metrics (MONAI's IgniteMetricHandler, MeanDice).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/engines/utils.h"
#include "med/metrics/meandice.h"
#include "med/metrics/metric.h"

namespace med::handlers {

using engines::Engine;
using engines::State;

/// (state) -> (y_pred, y) for the metric; the default reads state.output["pred"] and
/// state.output["label"] (MONAI's from_engine(["pred", "label"])).
using MetricOutputTransform = std::function<std::pair<at::Tensor, at::Tensor>(const State &)>;

/// The default MetricOutputTransform.
std::pair<at::Tensor, at::Tensor> pred_label(const State &state);

/// Wraps any CumulativeIterationMetric: reset at EPOCH_STARTED, metric(y_pred, y) at each
/// ITERATION_COMPLETED, and at EPOCH_COMPLETED state.metrics[name] = the aggregate (the mean of
/// its non-nan entries when the reduction leaves more than one value) and, with save_details,
/// state.metric_details[name] = the per-item buffer. `aggregate` overrides how the buffer is
/// reduced; by default ReducedMetric::aggregate() (metrics with another aggregate, such as
/// ROCAUCMetric, pass theirs).
///
///   auto dice = std::make_shared<med::metrics::DiceMetric>();
///   auto handler = std::make_shared<IgniteMetricHandler>(dice);
///   evaluator_options.key_val_metric({{"val_dice", handler}});
class IgniteMetricHandler : public engines::MetricHandler {
public:
  IgniteMetricHandler(std::shared_ptr<metrics::CumulativeIterationMetric> metric,
                      MetricOutputTransform output_transform = pred_label, bool save_details = true,
                      std::function<at::Tensor()> aggregate = nullptr);
  using engines::MetricHandler::attach;
  void attach(Engine &engine, const std::string &name) override;
  /// The metric's MONAI class name.
  std::string default_name() const override;
  metrics::CumulativeIterationMetric &metric() { return *metric_; }

private:
  std::shared_ptr<metrics::CumulativeIterationMetric> metric_;
  MetricOutputTransform output_transform_;
  bool save_details_;
  std::function<at::Tensor()> aggregate_;
};

/// MeanDice's arguments (MONAI's names and defaults).
struct MeanDiceOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(std::optional<int64_t>, num_classes) = std::nullopt;
  TORCH_ARG(MetricOutputTransform, output_transform) = pred_label;
  TORCH_ARG(bool, save_details) = true;
};

/// DiceMetric as a handler; y_pred and y are one-hot (or binary) (B, C, ...) tensors, so put
/// the argmax / threshold and one-hot in the engine's postprocessing.
///
///   SupervisedEvaluatorOptions(val, net).key_val_metric(
///       {{"val_mean_dice",
///       std::make_shared<MeanDice>(MeanDiceOptions().include_background(false))}});
class MeanDice : public IgniteMetricHandler {
public:
  explicit MeanDice(MeanDiceOptions options = {});
  std::string default_name() const override { return "mean_dice"; }
};

} // namespace med::handlers
