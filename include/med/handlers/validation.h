// ValidationHandler: runs an evaluator from a trainer every N epochs or iterations (MONAI's
// ValidationHandler).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "med/engines/engine.h"

namespace med::handlers {

using engines::Engine;

/// Runs `validator->run(trainer_epoch)` at every `interval`-th EPOCH_COMPLETED (epoch_level) or
/// ITERATION_COMPLETED of the engine it is attached to, and at STARTED with exec_at_start.
/// Any evaluator with run(int64_t global_epoch) works (SupervisedEvaluator, EnsembleEvaluator).
///
///   auto evaluator = std::make_shared<SupervisedEvaluator>(...);
///   trainer.attach(std::make_shared<ValidationHandler>(/*interval=*/2, evaluator));
class ValidationHandler : public engines::Handler {
public:
  template <typename Evaluator>
  ValidationHandler(int64_t interval, std::shared_ptr<Evaluator> validator, bool epoch_level = true,
                    bool exec_at_start = false)
      : ValidationHandler(
            interval, std::static_pointer_cast<Engine>(validator),
            [v = validator.get()](int64_t epoch) { v->run(epoch); }, epoch_level, exec_at_start) {}
  ValidationHandler(int64_t interval, std::shared_ptr<Engine> validator,
                    std::function<void(int64_t epoch)> run, bool epoch_level, bool exec_at_start);
  void attach(Engine &engine) override;
  Engine &validator() { return *validator_; }

private:
  int64_t interval_;
  std::shared_ptr<Engine> validator_;
  std::function<void(int64_t)> run_;
  bool epoch_level_;
  bool exec_at_start_;
};

} // namespace med::handlers
