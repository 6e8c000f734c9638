// StatsHandler: progress and metrics on the terminal or in a log (MONAI's StatsHandler).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include <torch/arg.h>

#include "med/engines/engine.h"

namespace med::handlers {

using engines::Engine;

/// StatsHandler's arguments. `stream` is where it writes: std::cerr (stderr) by default.
/// `progress_bar`: "auto" draws a one-line bar when the stream is std::cerr / std::clog /
/// std::cout and that descriptor is a terminal, plain log lines otherwise; "always" / "never"
/// force it. `output_transform` turns the iteration output into the logged loss (default
/// output["loss"]; return nan to skip).
struct StatsHandlerOptions {
  using StreamPtr = std::ostream *;
  TORCH_ARG(bool, iteration_log) = true;
  /// Log (or redraw the bar) every N iterations.
  TORCH_ARG(int64_t, iteration_interval) = 1;
  TORCH_ARG(bool, epoch_log) = true;
  TORCH_ARG(std::string, tag_name) = "Loss";
  TORCH_ARG(std::function<double(const engines::State &)>, output_transform) = nullptr;
  TORCH_ARG(StreamPtr, stream) = nullptr;
  TORCH_ARG(std::string, progress_bar) = "auto";
  /// Prefix of every line (e.g. "train" / "val"); empty for none.
  TORCH_ARG(std::string, name) = "";
};

/// Writes, for the engine it is attached to:
///  - per iteration, on a terminal: "\r<name> Epoch 2/5 [#####.....] 12/40 ETA 0:00:31
///    Loss 0.4213 (avg 0.4410)" redrawn in place (at most 10 times a second); otherwise a line
///    "<name> Epoch: 2/5, Iter: 12/40 -- Loss: 0.4213";
///  - per epoch: "<name> Epoch[2] Metrics -- name: value ..." and, with a key metric,
///    "<name> Key metric: name best value: v at epoch: e";
///  - on EXCEPTION_RAISED: "<name> Exception: what()" then the exception is rethrown.
/// The running loss in the bar is an exponential moving average (alpha 0.98).
///
///   trainer.attach(std::make_shared<StatsHandler>(StatsHandlerOptions().name("train")));
class StatsHandler : public engines::Handler {
public:
  using Options = StatsHandlerOptions;
  explicit StatsHandler(Options options = {});
  void attach(Engine &engine) override;
  /// Whether this handler draws the progress bar (decided at construction).
  bool progress_bar() const { return bar_; }

private:
  void on_epoch_started(Engine &e);
  void on_iteration(Engine &e);
  void on_epoch_completed(Engine &e);
  std::string prefix() const;

  Options o_;
  std::ostream *os_;
  bool bar_ = false;
  bool bar_open_ = false;
  double running_ = 0.0;
  bool has_running_ = false;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

/// Formats seconds as H:MM:SS.
std::string format_duration(double seconds);

} // namespace med::handlers
