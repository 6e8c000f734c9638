// Events: the points of a run where an engine calls its handlers (ignite's Events and MONAI's
// IterationEvents), with `every(n)` / `once(n)` filters and user-registered custom events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace med::engines {

class Engine;

/// One event an engine fires, plus an optional filter that decides, per firing, whether a
/// handler attached to it runs. The filter sees the event's count: `state.iteration` for
/// ITERATION_* events, `state.epoch` for EPOCH_* events, else how many times this engine has
/// fired the event (1 for the first time).
///
///   engine.add_event_handler(Events::ITERATION_COMPLETED.every(10), log_loss);
///   engine.add_event_handler(Events::EPOCH_COMPLETED.once(3), [](Engine &e) { ... });
///   engine.add_event_handler(Event("MY_EVENT"), fn);   // after engine.register_events
class Event {
public:
  /// The filter: (engine, count) -> whether the handler runs this time.
  using Filter = std::function<bool(const Engine &, int64_t count)>;

  explicit Event(std::string name) : name_(std::move(name)) {}
  /// The event's name ("ITERATION_COMPLETED", or a custom name); handlers are keyed by it.
  const std::string &name() const { return name_; }
  /// Runs the handler when count is a multiple of n (n >= 1, med::Error otherwise).
  Event every(int64_t n) const;
  /// Runs the handler only when count == n (n >= 1).
  Event once(int64_t n) const;
  /// Runs the handler when `f(engine, count)` is true.
  Event filter(Filter f) const;
  /// Whether a handler attached to this event runs at `count` (true when unfiltered).
  bool fires(const Engine &engine, int64_t count) const {
    return !filter_ || filter_(engine, count);
  }
  bool filtered() const { return static_cast<bool>(filter_); }
  /// Same name (filters are not compared).
  bool operator==(const Event &other) const { return name_ == other.name_; }
  bool operator!=(const Event &other) const { return name_ != other.name_; }

private:
  std::string name_;
  Filter filter_;
};

/// The events every engine fires, in ignite's order:
///   STARTED, then per epoch EPOCH_STARTED, then per iteration GET_BATCH_STARTED,
///   GET_BATCH_COMPLETED, ITERATION_STARTED, ITERATION_COMPLETED; then EPOCH_COMPLETED; after
///   the last epoch (or terminate()) COMPLETED. TERMINATE fires when terminate() stopped the
///   run, before COMPLETED. EXCEPTION_RAISED fires instead when a handler or the iteration throws.
struct Events {
  inline static const Event STARTED{"STARTED"};
  inline static const Event EPOCH_STARTED{"EPOCH_STARTED"};
  inline static const Event GET_BATCH_STARTED{"GET_BATCH_STARTED"};
  inline static const Event GET_BATCH_COMPLETED{"GET_BATCH_COMPLETED"};
  inline static const Event ITERATION_STARTED{"ITERATION_STARTED"};
  inline static const Event ITERATION_COMPLETED{"ITERATION_COMPLETED"};
  inline static const Event EPOCH_COMPLETED{"EPOCH_COMPLETED"};
  inline static const Event COMPLETED{"COMPLETED"};
  inline static const Event TERMINATE{"TERMINATE"};
  inline static const Event EXCEPTION_RAISED{"EXCEPTION_RAISED"};
};

/// MONAI's IterationEvents: the steps inside one SupervisedTrainer / evaluator iteration,
/// registered by the supervised engines. FORWARD_COMPLETED follows the network call,
/// LOSS_COMPLETED the loss, BACKWARD_COMPLETED loss.backward(), MODEL_COMPLETED the optimizer
/// step (trainers) or the forward pass (evaluators).
struct IterationEvents {
  inline static const Event FORWARD_COMPLETED{"FORWARD_COMPLETED"};
  inline static const Event LOSS_COMPLETED{"LOSS_COMPLETED"};
  inline static const Event BACKWARD_COMPLETED{"BACKWARD_COMPLETED"};
  inline static const Event MODEL_COMPLETED{"MODEL_COMPLETED"};
  inline static const Event INNER_ITERATION_STARTED{"INNER_ITERATION_STARTED"};
  inline static const Event INNER_ITERATION_COMPLETED{"INNER_ITERATION_COMPLETED"};
};

} // namespace med::engines
