// LrScheduleHandler: steps a learning-rate scheduler from engine events (MONAI's
// LrScheduleHandler).
#pragma once

#include <functional>
#include <memory>
#include <ostream>

#include <torch/optim/optimizer.h>
#include <torch/optim/schedulers/lr_scheduler.h>

#include "med/engines/engine.h"

namespace med::handlers {

using engines::Engine;

/// Calls lr_scheduler.step() at every EPOCH_COMPLETED (epoch_level) or ITERATION_COMPLETED.
/// With `print_lr_of` set, writes "Current learning rate: X" (its first param group) to
/// `stream` after each step. For schedulers with another step signature (plateau schedulers),
/// pass a step callable instead.
///
///   auto sched = std::make_shared<torch::optim::StepLR>(*opt, /*step_size=*/10, /*gamma=*/0.5);
///   trainer.attach(std::make_shared<LrScheduleHandler>(sched));
class LrScheduleHandler : public engines::Handler {
public:
  LrScheduleHandler(std::shared_ptr<torch::optim::LRScheduler> lr_scheduler,
                    bool epoch_level = true,
                    std::shared_ptr<torch::optim::Optimizer> print_lr_of = nullptr,
                    std::ostream *stream = nullptr);
  LrScheduleHandler(std::function<void(Engine &)> step, bool epoch_level = true);
  void attach(Engine &engine) override;

private:
  std::shared_ptr<torch::optim::LRScheduler> scheduler_;
  std::function<void(Engine &)> step_;
  bool epoch_level_;
  std::shared_ptr<torch::optim::Optimizer> print_lr_of_;
  std::ostream *stream_;
};

/// The learning rate of the first param group of `optimizer` (med::Error when it has none).
double current_lr(torch::optim::Optimizer &optimizer);

} // namespace med::handlers
