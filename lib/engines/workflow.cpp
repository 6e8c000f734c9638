// Workflow: postprocessing, key metric + best metric, additional metrics, handlers; AmpGuard.
#include "med/engines/workflow.h"

#include <ATen/autocast_mode.h>

#include "med/core/error.h"

namespace med::engines {

Workflow::Workflow(WorkflowConfig config) : Engine(ProcessFn{}), config_(std::move(config)) {
  if (config_.max_epochs < 1)
    throw Error("Workflow.max_epochs", "expected >= 1, got " + std::to_string(config_.max_epochs));
  if (!config_.prepare_batch)
    throw Error("Workflow.prepare_batch", "expected a callable, got none");
  if (config_.key_metric.size() > 1)
    throw Error("Workflow.key_metric", "expected at most one key metric, got " +
                                           std::to_string(config_.key_metric.size()));
  data = config_.data;
  state.max_epochs = config_.max_epochs;
  if (config_.epoch_length > 0)
    state.epoch_length = config_.epoch_length;

  if (config_.postprocessing)
    add_event_handler(Events::ITERATION_COMPLETED,
                      [](Engine &e) { static_cast<Workflow &>(e).apply_postprocessing(); });
  for (auto &[name, metric] : config_.key_metric) {
    if (!metric)
      throw Error("Workflow.key_metric." + name, "expected a metric handler, got nullptr");
    metric->attach(*this, name);
    state.key_metric_name = name;
    add_event_handler(Events::EPOCH_COMPLETED, [name = name](Engine &e) {
      auto it = e.state.metrics.find(name);
      if (it == e.state.metrics.end())
        return;
      auto &w = static_cast<Workflow &>(e);
      if (e.state.best_metric_epoch < 0 ||
          w.config_.metric_cmp_fn(it->second, e.state.best_metric)) {
        e.state.best_metric = it->second;
        e.state.best_metric_epoch = e.state.epoch;
      }
    });
  }
  for (auto &[name, metric] : config_.additional_metrics) {
    if (!metric)
      throw Error("Workflow.additional_metrics." + name, "expected a metric handler, got nullptr");
    metric->attach(*this, name);
  }
  for (auto &h : config_.handlers)
    attach(h);
}

void Workflow::apply_postprocessing() {
  if (config_.postprocessing)
    state.output = config_.postprocessing(std::move(state.output));
}

AmpGuard::AmpGuard(bool enabled, const c10::Device &device) : active_(enabled && device.is_cuda()) {
  if (!active_)
    return;
  previous_ = at::autocast::is_enabled();
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(true);
  at::autocast::increment_nesting();
}

AmpGuard::~AmpGuard() {
  if (!active_)
    return;
  if (at::autocast::decrement_nesting() == 0)
    at::autocast::clear_cache();
  at::autocast::set_enabled(previous_);
}

} // namespace med::engines
