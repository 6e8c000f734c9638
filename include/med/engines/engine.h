// Engine: the event loop every trainer and evaluator runs (ignite's Engine as MONAI uses it):
// epochs of iterations over a DataSource, a State that handlers read and write, and handlers
// attached to events. SupervisedTrainer / SupervisedEvaluator (trainer.h, evaluator.h) fill in
// the iteration; handlers (include/med/handlers) attach to any Engine.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "med/core/dict.h"
#include "med/engines/data_source.h"
#include "med/engines/events.h"

namespace med::engines {

/// What one iteration returns, MONAI's engine output dictionary: CommonKeys "image", "label",
/// "pred", "loss" (trainers) and whatever a custom iteration adds.
using Output = std::map<std::string, at::Tensor>;

/// MONAI's CommonKeys.
namespace keys {
inline constexpr const char *IMAGE = "image";
inline constexpr const char *LABEL = "label";
inline constexpr const char *PRED = "pred";
inline constexpr const char *LOSS = "loss";
} // namespace keys

/// The run's progress and results, read and written by handlers (ignite's State plus MONAI's
/// best-metric fields). `epoch` is 1-based while an epoch runs; `iteration` counts every
/// iteration since the start of training (not reset per epoch).
struct State {
  int64_t epoch = 0;
  int64_t max_epochs = 1;
  int64_t iteration = 0;
  /// Iterations per epoch (the data source's size unless set).
  int64_t epoch_length = 0;
  /// The batch of the current iteration, as the data source yielded it.
  Data batch;
  /// What the current iteration returned.
  Output output;
  /// Scalar metrics by name, written by metric handlers at EPOCH_COMPLETED.
  std::map<std::string, double> metrics;
  /// Per-item / per-class metric tensors by name (MONAI's metric_details).
  std::map<std::string, at::Tensor> metric_details;
  /// The metric whose improvement defines "best" (MONAI's key metric); empty when none.
  std::string key_metric_name;
  double best_metric = -1.0;
  int64_t best_metric_epoch = -1;
  /// Set while EXCEPTION_RAISED handlers run.
  std::exception_ptr exception;
};

class Engine;

/// A handler: something that attaches callbacks to an engine's events (StatsHandler,
/// CheckpointSaver, ...). Engines attached through Engine::attach keep the handler alive, so
/// callbacks may capture `this`.
///
///   engine.attach(std::make_shared<med::handlers::StatsHandler>());
class Handler {
public:
  virtual ~Handler() = default;
  virtual void attach(Engine &engine) = 0;
};

/// The loop. It is neither copyable nor movable: handlers hold on to it.
///
///   Engine engine([](Engine &e, Data &batch) { return Output{{"loss", step(batch)}}; });
///   engine.add_event_handler(Events::EPOCH_COMPLETED, [](Engine &e) { ... e.state.epoch ... });
///   engine.run(batches, /*max_epochs=*/5);
class Engine {
public:
  /// A callback; it reads and writes the engine's state.
  using HandlerFn = std::function<void(Engine &)>;
  /// One iteration: the batch in, the output out (stored in state.output).
  using ProcessFn = std::function<Output(Engine &, Data &batch)>;
  /// Identifies an attached callback for remove_event_handler.
  using HandlerId = uint64_t;

  explicit Engine(ProcessFn process);
  virtual ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  /// Calls `fn` whenever `event` fires and its filter passes; callbacks of one event run in the
  /// order they were added. Throws med::Error for an event that is neither built in nor
  /// registered.
  HandlerId add_event_handler(const Event &event, HandlerFn fn);
  /// Detaches a callback (no-op for an unknown id).
  void remove_event_handler(HandlerId id);
  /// Whether any callback is attached to the event named `event`.
  bool has_event_handler(const Event &event) const;
  /// Makes custom event names usable with add_event_handler / fire_event (MONAI's
  /// register_events). Registering a known name again is allowed.
  void register_events(const std::vector<std::string> &names);
  /// Whether `name` is a built-in or registered event.
  bool is_registered(const std::string &name) const;
  /// Runs the callbacks of `event` (built-in events are fired by run(); call this for custom
  /// ones). The event's own filter is ignored; each callback's filter decides.
  void fire_event(const Event &event);
  /// Keeps `handler` alive for the engine's lifetime and calls handler->attach(*this).
  void attach(std::shared_ptr<Handler> handler);

  /// Stops the run after the current iteration: the remaining iterations and epochs are
  /// skipped, EPOCH_COMPLETED of the current epoch is skipped, TERMINATE then COMPLETED fire.
  void terminate();
  /// Skips the remaining iterations of the current epoch (EPOCH_COMPLETED still fires).
  void terminate_epoch();
  /// Whether terminate() was called during this run.
  bool should_terminate() const { return should_terminate_; }

  /// Runs from the current state until state.max_epochs epochs are done (resuming mid-epoch
  /// after load_state_dict: the batches of the current epoch that were already used are
  /// skipped). A finished run started again starts over from epoch 0. Exceptions: state.exception
  /// is set and EXCEPTION_RAISED fires; without callbacks for it the exception is rethrown.
  void run();
  /// Sets the data source, max_epochs and (when > 0) epoch_length, then run().
  void run(DataSource data, int64_t max_epochs, int64_t epoch_length = -1);

  /// The checkpointed part of the state: epoch, iteration, epoch_length, max_epochs,
  /// best_metric, best_metric_epoch (integers are exact in a double up to 2^53).
  std::map<std::string, double> state_dict() const;
  /// Restores state_dict(); `epoch` is recomputed from `iteration` / `epoch_length` so that a
  /// mid-epoch checkpoint resumes at the next iteration of that epoch.
  void load_state_dict(const std::map<std::string, double> &dict);

  /// Read and written by handlers.
  State state;
  /// What run() iterates.
  DataSource data;

protected:
  /// Replaces the iteration (subclasses that build theirs after construction).
  void set_process(ProcessFn process) { process_ = std::move(process); }

private:
  struct Callback {
    HandlerId id;
    Event event;
    HandlerFn fn;
  };
  void fire(const Event &event, int64_t count);
  int64_t event_count(const Event &event);
  void run_epoch(int64_t skip);

  ProcessFn process_;
  std::map<std::string, std::vector<Callback>> callbacks_;
  std::map<std::string, int64_t> fired_;
  std::vector<std::string> custom_events_;
  std::vector<std::shared_ptr<Handler>> handlers_;
  HandlerId next_id_ = 1;
  bool should_terminate_ = false;
  bool should_terminate_epoch_ = false;
  DataSource::Cursor cursor_;
};

} // namespace med::engines
