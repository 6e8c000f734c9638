// EarlyStopHandler: stops training when a score stops improving (MONAI's EarlyStopHandler).
#pragma once

#include <cstdint>
#include <functional>

#include "med/engines/engine.h"

namespace med::handlers {

using engines::Engine;

/// After each EPOCH_COMPLETED (epoch_level) or ITERATION_COMPLETED of the engine it is attached
/// to, computes score_function(engine) (higher is better). A score counts as an improvement when
/// it exceeds the best by more than min_delta; `patience` checks in a row without one call
/// terminate() on the trainer (set_trainer; else on the attached engine). With
/// cumulative_delta, scores that improve by less than min_delta do not move the best score.
///
///   auto stop = std::make_shared<EarlyStopHandler>(
///       3, [](const Engine &e) { return e.state.metrics.at("val_mean_dice"); });
///   stop->set_trainer(trainer);
///   evaluator.attach(stop);
class EarlyStopHandler : public engines::Handler {
public:
  EarlyStopHandler(int64_t patience, std::function<double(const Engine &)> score_function,
                   double min_delta = 0.0, bool cumulative_delta = false, bool epoch_level = true);
  /// The engine to stop (a trainer, when this handler sits on its evaluator). It must outlive
  /// this handler's use.
  void set_trainer(Engine &trainer) { trainer_ = &trainer; }
  void attach(Engine &engine) override;
  /// Checks without improvement so far.
  int64_t counter() const { return counter_; }

private:
  void check(Engine &engine);
  int64_t patience_;
  std::function<double(const Engine &)> score_function_;
  double min_delta_;
  bool cumulative_delta_;
  bool epoch_level_;
  Engine *trainer_ = nullptr;
  bool has_best_ = false;
  double best_ = 0.0;
  int64_t counter_ = 0;
};

} // namespace med::handlers
