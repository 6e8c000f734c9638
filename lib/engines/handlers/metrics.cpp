// IgniteMetricHandler and MeanDice.
#include "med/handlers/metrics.h"

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::handlers {

std::pair<at::Tensor, at::Tensor> pred_label(const State &state) {
  auto pred = state.output.find(engines::keys::PRED);
  auto label = state.output.find(engines::keys::LABEL);
  if (pred == state.output.end() || label == state.output.end() || !pred->second.defined() ||
      !label->second.defined())
    throw Error("IgniteMetricHandler.output_transform",
                "expected \"pred\" and \"label\" tensors in the engine output");
  return {pred->second, label->second};
}

IgniteMetricHandler::IgniteMetricHandler(std::shared_ptr<metrics::CumulativeIterationMetric> metric,
                                         MetricOutputTransform output_transform, bool save_details,
                                         std::function<at::Tensor()> aggregate)
    : metric_(std::move(metric)), output_transform_(std::move(output_transform)),
      save_details_(save_details), aggregate_(std::move(aggregate)) {
  if (!metric_)
    throw Error("IgniteMetricHandler.metric_fn", "expected a metric, got nullptr");
  if (!output_transform_)
    throw Error("IgniteMetricHandler.output_transform", "expected a callable, got none");
  if (!aggregate_) {
    auto *reduced = dynamic_cast<metrics::ReducedMetric *>(metric_.get());
    if (!reduced)
      throw Error("IgniteMetricHandler.metric_fn",
                  metric_->name() + " has no default aggregate; pass `aggregate`");
    aggregate_ = [reduced] { return reduced->aggregate(); };
  }
}

std::string IgniteMetricHandler::default_name() const { return metric_->name(); }

void IgniteMetricHandler::attach(Engine &engine, const std::string &name) {
  if (name.empty())
    throw Error("IgniteMetricHandler.name", "expected a non-empty metric name");
  engine.add_event_handler(engines::Events::EPOCH_STARTED, [this](Engine &) { metric_->reset(); });
  engine.add_event_handler(engines::Events::ITERATION_COMPLETED, [this](Engine &e) {
    auto [y_pred, y] = output_transform_(e.state);
    (*metric_)(y_pred.detach(), y.detach());
  });
  engine.add_event_handler(engines::Events::EPOCH_COMPLETED, [this, name](Engine &e) {
    at::Tensor value = aggregate_().to(at::kDouble);
    if (value.numel() != 1) {
      at::Tensor finite = value.masked_select(~value.isnan());
      value = finite.numel() ? finite.mean() : at::full({}, std::nan(""), at::kDouble);
    }
    e.state.metrics[name] = value.item<double>();
    if (save_details_)
      e.state.metric_details[name] = metric_->get_buffer();
  });
}

MeanDice::MeanDice(MeanDiceOptions o)
    : IgniteMetricHandler(
          std::make_shared<metrics::DiceMetric>(metrics::DiceMetricOptions()
                                                    .include_background(o.include_background())
                                                    .reduction(o.reduction())
                                                    .num_classes(o.num_classes())),
          o.output_transform(), o.save_details()) {}

} // namespace med::handlers
