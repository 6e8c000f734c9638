#include "med/visualize/tensorboard_handlers.h"

#include <cmath>

#include <ATen/Functions.h>

#include "med/core/error.h"
#include "med/distributed/process_group.h"
#include "med/visualize/img2tensorboard.h"

namespace med::visualize {
namespace {

using engines::Engine;
using engines::Events;

std::shared_ptr<SummaryWriter> writerFor(std::shared_ptr<SummaryWriter> w,
                                         const std::string &log_dir) {
  return w ? std::move(w) : std::make_shared<SummaryWriter>(log_dir);
}

void checkInterval(int64_t n, const std::string &where) {
  if (n < 1)
    throw Error(where, "expected at least 1, got " + std::to_string(n));
}

} // namespace

TensorBoardStatsHandler::TensorBoardStatsHandler(Options options) : o_(std::move(options)) {
  checkInterval(o_.iteration_interval(), "TensorBoardStatsHandler.iteration_interval");
  checkInterval(o_.epoch_interval(), "TensorBoardStatsHandler.epoch_interval");
  for (const auto &a : o_.state_attributes())
    if (a != "epoch" && a != "iteration" && a != "best_metric" && a != "best_metric_epoch")
      throw Error("TensorBoardStatsHandler.state_attributes",
                  "expected epoch, iteration, best_metric or best_metric_epoch, got '" + a + "'");
  if (distributed::is_main_process()) // other ranks write nothing, not even an empty file
    if (distributed::is_main_process())
      writer_ = writerFor(o_.summary_writer(), o_.log_dir());
}

/// The writer, or a med::Error on ranks other than 0, which have none.
static SummaryWriter &checkedWriter(const std::shared_ptr<SummaryWriter> &w, const char *owner) {
  if (!w)
    throw Error(std::string(owner) + ".writer",
                "only rank 0 of a distributed run writes TensorBoard events");
  return *w;
}

SummaryWriter &TensorBoardStatsHandler::writer() {
  return checkedWriter(writer_, "TensorBoardStatsHandler");
}
SummaryWriter &TensorBoardImageHandler::writer() {
  return checkedWriter(writer_, "TensorBoardImageHandler");
}

void TensorBoardStatsHandler::attach(Engine &engine) {
  if (!distributed::is_main_process())
    return;
  if (o_.iteration_log())
    engine.add_event_handler(Events::ITERATION_COMPLETED.every(o_.iteration_interval()),
                             [this](Engine &e) { iteration_completed(e); });
  if (o_.epoch_log())
    engine.add_event_handler(Events::EPOCH_COMPLETED.every(o_.epoch_interval()),
                             [this](Engine &e) { epoch_completed(e); });
}

void TensorBoardStatsHandler::iteration_completed(Engine &e) {
  double loss = std::nan("");
  if (o_.output_transform()) {
    loss = o_.output_transform()(e.state);
  } else {
    auto it = e.state.output.find(engines::keys::LOSS);
    if (it != e.state.output.end() && it->second.defined() && it->second.numel() > 0)
      loss = it->second.detach().to(at::kDouble).mean().item<double>();
  }
  if (std::isnan(loss))
    return;
  writer_->add_scalar(o_.tag_name(), loss, e.state.iteration);
  writer_->flush();
}

void TensorBoardStatsHandler::epoch_completed(Engine &e) {
  const int64_t step =
      o_.global_epoch_transform() ? o_.global_epoch_transform()(e.state.epoch) : e.state.epoch;
  for (const auto &[name, value] : e.state.metrics)
    writer_->add_scalar(name, value, step);
  for (const auto &a : o_.state_attributes()) {
    const double v = a == "epoch"         ? static_cast<double>(e.state.epoch)
                     : a == "iteration"   ? static_cast<double>(e.state.iteration)
                     : a == "best_metric" ? e.state.best_metric
                                          : static_cast<double>(e.state.best_metric_epoch);
    writer_->add_scalar("state_attribute/" + a, v, step);
  }
  writer_->flush();
}

TensorBoardImageHandler::TensorBoardImageHandler(Options options) : o_(std::move(options)) {
  checkInterval(o_.interval(), "TensorBoardImageHandler.interval");
  if (o_.index() < 0)
    throw Error("TensorBoardImageHandler.index", "expected >= 0");
  if (distributed::is_main_process())
    writer_ = writerFor(o_.summary_writer(), o_.log_dir());
}

void TensorBoardImageHandler::attach(Engine &engine) {
  if (!distributed::is_main_process())
    return;
  const auto ev = o_.epoch_level() ? Events::EPOCH_COMPLETED : Events::ITERATION_COMPLETED;
  engine.add_event_handler(ev.every(o_.interval()), [this](Engine &e) { write(e); });
}

void TensorBoardImageHandler::write(Engine &e) {
  const int64_t count = o_.epoch_level() ? e.state.epoch : e.state.iteration;
  const int64_t step = o_.global_iter_transform() ? o_.global_iter_transform()(count) : count;
  Options::Pair batch;
  if (o_.batch_transform()) {
    batch = o_.batch_transform()(e.state);
  } else {
    auto img = e.state.batch.find("image"), lab = e.state.batch.find("label");
    if (img != e.state.batch.end())
      batch.first = img->second.data;
    if (lab != e.state.batch.end())
      batch.second = lab->second.data;
  }
  at::Tensor out;
  if (o_.output_transform()) {
    out = o_.output_transform()(e.state);
  } else {
    auto it = e.state.output.find(engines::keys::PRED);
    if (it != e.state.output.end())
      out = it->second;
  }
  const auto plot = [&](const at::Tensor &t, const std::string &tag) {
    if (!t.defined() || t.dim() < 3 || o_.index() >= t.size(0))
      return;
    plot_2d_or_3d_image(t, step, *writer_, o_.index(), o_.max_channels(), o_.frame_dim(),
                        o_.max_frames(), tag);
  };
  plot(batch.first, "input_0");
  plot(batch.second, "input_1");
  plot(out, "output");
  writer_->flush();
}

} // namespace med::visualize
