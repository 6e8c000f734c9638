// Workflow: what SupervisedTrainer and the evaluators share (MONAI's Workflow): the device,
// batch preparation, postprocessing, the key metric and its best value, additional metrics,
// handlers, amp.
#pragma once

#include <memory>
#include <vector>

#include <c10/core/Device.h>

#include "med/engines/engine.h"
#include "med/engines/utils.h"

namespace med::engines {

/// The settings every workflow takes (filled from the trainer / evaluator options).
struct WorkflowConfig {
  c10::Device device = c10::kCPU;
  int64_t max_epochs = 1;
  DataSource data;
  int64_t epoch_length = -1;
  bool non_blocking = false;
  PrepareBatch prepare_batch = default_prepare_batch;
  Postprocessing postprocessing;
  MetricMap key_metric;
  MetricMap additional_metrics;
  MetricCmpFn metric_cmp_fn = default_metric_cmp_fn;
  std::vector<std::shared_ptr<Handler>> handlers;
  bool amp = false;
};

/// An Engine with MONAI's workflow conventions. Constructing one attaches, in this order:
/// postprocessing (first ITERATION_COMPLETED callback), the key metric, the best-metric update
/// (EPOCH_COMPLETED: when metric_cmp_fn(metrics[key], best_metric) holds, best_metric and
/// best_metric_epoch are updated), the additional metrics, then the handlers.
/// Subclasses set the iteration (SupervisedTrainer, SupervisedEvaluator).
class Workflow : public Engine {
public:
  explicit Workflow(WorkflowConfig config);

  const c10::Device &device() const { return config_.device; }
  bool non_blocking() const { return config_.non_blocking; }
  bool amp() const { return config_.amp; }
  const PrepareBatch &prepare_batch() const { return config_.prepare_batch; }
  /// Applies the postprocessing to state.output (no-op without one).
  void apply_postprocessing();

protected:
  WorkflowConfig config_;
};

/// Turns autocast on for CUDA devices while alive when `enabled` (MONAI's amp=True); on the CPU
/// it does nothing, so amp has no effect on CPU runs.
class AmpGuard {
public:
  AmpGuard(bool enabled, const c10::Device &device);
  ~AmpGuard();
  AmpGuard(const AmpGuard &) = delete;
  AmpGuard &operator=(const AmpGuard &) = delete;

private:
  bool active_ = false;
  bool previous_ = false;
};

} // namespace med::engines
