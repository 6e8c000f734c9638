// ValidationHandler, EarlyStopHandler, LrScheduleHandler.
#include <algorithm>
#include <iostream>

#include <torch/optim/adagrad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/lbfgs.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include "med/core/error.h"
#include "med/handlers/early_stop.h"
#include "med/handlers/lr_schedule.h"
#include "med/handlers/validation.h"

namespace med::handlers {

using engines::Events;

ValidationHandler::ValidationHandler(int64_t interval, std::shared_ptr<Engine> validator,
                                     std::function<void(int64_t)> run, bool epoch_level,
                                     bool exec_at_start)
    : interval_(interval), validator_(std::move(validator)), run_(std::move(run)),
      epoch_level_(epoch_level), exec_at_start_(exec_at_start) {
  if (interval_ < 1)
    throw Error("ValidationHandler.interval", "expected >= 1, got " + std::to_string(interval_));
  if (!validator_ || !run_)
    throw Error("ValidationHandler.validator", "expected an evaluator, got nullptr");
}

void ValidationHandler::attach(Engine &engine) {
  const engines::Event &ev = epoch_level_ ? Events::EPOCH_COMPLETED : Events::ITERATION_COMPLETED;
  engine.add_event_handler(ev.every(interval_), [this](Engine &e) { run_(e.state.epoch); });
  if (exec_at_start_)
    engine.add_event_handler(Events::STARTED,
                             [this](Engine &e) { run_(std::max<int64_t>(e.state.epoch, 1)); });
}

EarlyStopHandler::EarlyStopHandler(int64_t patience,
                                   std::function<double(const Engine &)> score_function,
                                   double min_delta, bool cumulative_delta, bool epoch_level)
    : patience_(patience), score_function_(std::move(score_function)), min_delta_(min_delta),
      cumulative_delta_(cumulative_delta), epoch_level_(epoch_level) {
  if (patience_ < 1)
    throw Error("EarlyStopHandler.patience", "expected >= 1, got " + std::to_string(patience_));
  if (!score_function_)
    throw Error("EarlyStopHandler.score_function", "expected a callable, got none");
  if (min_delta_ < 0)
    throw Error("EarlyStopHandler.min_delta", "expected >= 0, got " + std::to_string(min_delta_));
}

void EarlyStopHandler::attach(Engine &engine) {
  engine.add_event_handler(epoch_level_ ? Events::EPOCH_COMPLETED : Events::ITERATION_COMPLETED,
                           [this](Engine &e) { check(e); });
}

void EarlyStopHandler::check(Engine &engine) {
  double score = score_function_(engine);
  if (!has_best_) {
    has_best_ = true;
    best_ = score;
    return;
  }
  if (score <= best_ + min_delta_) {
    if (!cumulative_delta_ && score > best_)
      best_ = score;
    if (++counter_ >= patience_)
      (trainer_ ? *trainer_ : engine).terminate();
  } else {
    best_ = score;
    counter_ = 0;
  }
}

double current_lr(torch::optim::Optimizer &optimizer) {
  if (optimizer.param_groups().empty())
    throw Error("current_lr", "the optimizer has no parameter groups");
  auto &opts = optimizer.param_groups()[0].options();
  if (auto *o = dynamic_cast<torch::optim::AdamOptions *>(&opts))
    return o->lr();
  if (auto *o = dynamic_cast<torch::optim::AdamWOptions *>(&opts))
    return o->lr();
  if (auto *o = dynamic_cast<torch::optim::SGDOptions *>(&opts))
    return o->lr();
  if (auto *o = dynamic_cast<torch::optim::RMSpropOptions *>(&opts))
    return o->lr();
  if (auto *o = dynamic_cast<torch::optim::AdagradOptions *>(&opts))
    return o->lr();
  if (auto *o = dynamic_cast<torch::optim::LBFGSOptions *>(&opts))
    return o->lr();
  throw Error("current_lr", "unknown optimizer options type");
}

LrScheduleHandler::LrScheduleHandler(std::shared_ptr<torch::optim::LRScheduler> lr_scheduler,
                                     bool epoch_level,
                                     std::shared_ptr<torch::optim::Optimizer> print_lr_of,
                                     std::ostream *stream)
    : scheduler_(std::move(lr_scheduler)), epoch_level_(epoch_level),
      print_lr_of_(std::move(print_lr_of)), stream_(stream ? stream : &std::clog) {
  if (!scheduler_)
    throw Error("LrScheduleHandler.lr_scheduler", "expected a scheduler, got nullptr");
  step_ = [s = scheduler_.get()](Engine &) { s->step(); };
}

LrScheduleHandler::LrScheduleHandler(std::function<void(Engine &)> step, bool epoch_level)
    : step_(std::move(step)), epoch_level_(epoch_level), stream_(&std::clog) {
  if (!step_)
    throw Error("LrScheduleHandler.lr_scheduler", "expected a step callable, got none");
}

void LrScheduleHandler::attach(Engine &engine) {
  engine.add_event_handler(
      epoch_level_ ? Events::EPOCH_COMPLETED : Events::ITERATION_COMPLETED, [this](Engine &e) {
        step_(e);
        if (print_lr_of_)
          *stream_ << "Current learning rate: " << current_lr(*print_lr_of_) << "\n";
      });
}

} // namespace med::handlers
