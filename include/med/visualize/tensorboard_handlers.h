// TensorBoard handlers for engines (MONAI's TensorBoardStatsHandler and
// TensorBoardImageHandler): losses, metrics and images of a run written as event files.
// Library med_visualize_handlers (links med_engines; med_visualize itself does not).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/engines/engine.h"
#include "med/visualize/summary_writer.h"

namespace med::visualize {

/// TensorBoardStatsHandler's arguments (MONAI's names and defaults). `summary_writer`: share
/// one writer between handlers; when null, the handler opens its own in `log_dir`.
/// `output_transform` turns the state into the iteration loss (default: mean of
/// output["loss"]; return NaN to skip); `global_epoch_transform` maps the epoch to the step
/// written; `state_attributes` ("epoch", "iteration", "best_metric", "best_metric_epoch") are
/// written per epoch as "state_attribute/<name>".
struct TensorBoardStatsHandlerOptions {
  TORCH_ARG(std::shared_ptr<SummaryWriter>, summary_writer) = nullptr;
  TORCH_ARG(std::string, log_dir) = "./runs";
  TORCH_ARG(bool, iteration_log) = true;
  TORCH_ARG(int64_t, iteration_interval) = 1;
  TORCH_ARG(bool, epoch_log) = true;
  TORCH_ARG(int64_t, epoch_interval) = 1;
  TORCH_ARG(std::function<double(const engines::State &)>, output_transform) = nullptr;
  TORCH_ARG(std::function<int64_t(int64_t)>, global_epoch_transform) = nullptr;
  TORCH_ARG(std::vector<std::string>, state_attributes) = {};
  TORCH_ARG(std::string, tag_name) = "Loss";
};

/// Writes the loss at ITERATION_COMPLETED (tag `tag_name`, step = state.iteration) and every
/// scalar of state.metrics at EPOCH_COMPLETED (tag = metric name, step = epoch), flushing after
/// each event so TensorBoard sees them while training runs.
///
///   auto tb = std::make_shared<med::visualize::SummaryWriter>("runs/exp1");
///   trainer.attach(std::make_shared<med::visualize::TensorBoardStatsHandler>(
///       med::visualize::TensorBoardStatsHandlerOptions().summary_writer(tb)));
class TensorBoardStatsHandler : public engines::Handler {
public:
  using Options = TensorBoardStatsHandlerOptions;
  explicit TensorBoardStatsHandler(Options options = {});
  void attach(engines::Engine &engine) override;
  /// The event-file writer; only rank 0 of a distributed run has one (other ranks write nothing).
  SummaryWriter &writer();

private:
  void iteration_completed(engines::Engine &e);
  void epoch_completed(engines::Engine &e);
  Options o_;
  std::shared_ptr<SummaryWriter> writer_;
};

/// TensorBoardImageHandler's arguments (MONAI's names and defaults). `batch_transform` picks
/// (image, label) batches from the state (default batch["image"], batch["label"]; undefined
/// tensors are skipped); `output_transform` picks the prediction batch (default
/// output["pred"]); `global_iter_transform` maps the epoch (epoch_level) or iteration to the step.
struct TensorBoardImageHandlerOptions {
  using Pair = std::pair<at::Tensor, at::Tensor>;
  TORCH_ARG(std::shared_ptr<SummaryWriter>, summary_writer) = nullptr;
  TORCH_ARG(std::string, log_dir) = "./runs";
  TORCH_ARG(int64_t, interval) = 1;
  TORCH_ARG(bool, epoch_level) = true;
  TORCH_ARG(std::function<Pair(const engines::State &)>, batch_transform) = nullptr;
  TORCH_ARG(std::function<at::Tensor(const engines::State &)>, output_transform) = nullptr;
  TORCH_ARG(std::function<int64_t(int64_t)>, global_iter_transform) = nullptr;
  TORCH_ARG(int64_t, index) = 0;
  TORCH_ARG(int64_t, max_channels) = 1;
  TORCH_ARG(int64_t, frame_dim) = -3;
  TORCH_ARG(int64_t, max_frames) = 64;
};

/// Every `interval` epochs (or iterations when epoch_level is false) writes item `index` of the
/// input ("input_0"), label ("input_1") and output ("output") batches with
/// plot_2d_or_3d_image (img2tensorboard.h): 2-D images as images, 3-D volumes as frame grids.
///
///   evaluator.attach(std::make_shared<med::visualize::TensorBoardImageHandler>(
///       med::visualize::TensorBoardImageHandlerOptions().summary_writer(tb).max_channels(2)));
class TensorBoardImageHandler : public engines::Handler {
public:
  using Options = TensorBoardImageHandlerOptions;
  explicit TensorBoardImageHandler(Options options = {});
  void attach(engines::Engine &engine) override;
  /// The event-file writer; only rank 0 of a distributed run has one (other ranks write nothing).
  SummaryWriter &writer();

private:
  void write(engines::Engine &e);
  Options o_;
  std::shared_ptr<SummaryWriter> writer_;
};

} // namespace med::visualize
