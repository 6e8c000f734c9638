// MetricsSaver: the metrics of every epoch in a CSV file (MONAI's MetricsSaver, one row per
// epoch).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "med/engines/engine.h"

namespace med::handlers {

using engines::Engine;

/// MetricsSaver's arguments. `metrics`: names to save ("*" for all of state.metrics);
/// `metric_details`: names whose per-item tensors (state.metric_details) go to
/// "<name>_raw.csv" (one row per item, one column per class, then their mean).
struct MetricsSaverOptions {
  explicit MetricsSaverOptions(std::string save_dir) : save_dir_(std::move(save_dir)) {}
  TORCH_ARG(std::string, save_dir);
  TORCH_ARG(std::vector<std::string>, metrics) = {"*"};
  TORCH_ARG(std::vector<std::string>, metric_details) = {};
  TORCH_ARG(std::string, delimiter) = ",";
  TORCH_ARG(std::string, filename) = "metrics.csv";
};

/// At each EPOCH_COMPLETED rewrites (atomically) save_dir/metrics.csv: a header
/// "epoch,<metric>,..." and one row per epoch so far (empty cells for metrics missing in an
/// epoch; values with 17 significant digits, so they read back exactly).
///
///   evaluator.attach(std::make_shared<MetricsSaver>(MetricsSaverOptions("runs/metrics")));
class MetricsSaver : public engines::Handler {
public:
  using Options = MetricsSaverOptions;
  explicit MetricsSaver(Options options);
  void attach(Engine &engine) override;
  /// (epoch, name -> value) rows written so far.
  const std::vector<std::pair<int64_t, std::map<std::string, double>>> &rows() const {
    return rows_;
  }

private:
  void on_epoch_completed(Engine &e);
  Options o_;
  std::vector<std::pair<int64_t, std::map<std::string, double>>> rows_;
};

/// Writes `text` to `path` through a temporary file renamed into place (med::Error on failure,
/// leaving `path` untouched).
void write_text_atomic(const std::string &path, const std::string &text);

} // namespace med::handlers
