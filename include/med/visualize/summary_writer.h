// TensorBoard logging without TensorFlow or protobuf: SummaryWriter writes event files
// (events.out.tfevents.<time>.<host>) that `tensorboard --logdir` reads, with the names of
// torch.utils.tensorboard.SummaryWriter.
#pragma once

#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>

namespace med::visualize {

/// Appends scalar, image and text summaries to one event file in `log_dir` (created if needed).
/// The first record is the file-version event ("brain.Event:2"); every later call appends one
/// Event{wall_time, step, summary}. Records are buffered until flush(), close() or destruction.
/// Calls may come from several threads.
///
///   med::visualize::SummaryWriter w("runs/exp1");
///   w.add_scalar("loss", 0.25, 10);
///   w.add_image("overlay", blend, 10);   // (3, H, W) float in [0, 1] or uint8
///   w.close();
class SummaryWriter {
public:
  /// `filename_suffix` is appended to the file name (torch's argument of that name).
  explicit SummaryWriter(std::string log_dir = "runs", const std::string &filename_suffix = "");
  ~SummaryWriter();
  SummaryWriter(const SummaryWriter &) = delete;
  SummaryWriter &operator=(const SummaryWriter &) = delete;

  /// A scalar (stored as float32, TensorBoard's simple_value). `walltime` defaults to now.
  void add_scalar(const std::string &tag, double value, int64_t step = 0,
                  c10::optional<double> walltime = c10::nullopt);
  /// An image, PNG-encoded. `dataformats` "CHW" (default), "HWC" or "HW"; 1, 3 or 4 channels.
  /// uint8 data is written as is; other dtypes are taken as [0, 1] and scaled by 255 (clipped,
  /// truncated, as torch does).
  void add_image(const std::string &tag, const at::Tensor &img_tensor, int64_t step = 0,
                 const std::string &dataformats = "CHW",
                 c10::optional<double> walltime = c10::nullopt);
  /// A text summary (the text plugin's tensor, tag "<tag>/text_summary" as torch writes it).
  void add_text(const std::string &tag, const std::string &text, int64_t step = 0,
                c10::optional<double> walltime = c10::nullopt);
  /// Pushes buffered records to the file.
  void flush();
  /// Flushes and closes the file; later add_* calls throw med::Error.
  void close();

  const std::string &log_dir() const { return log_dir_; }
  /// The event file being written.
  const std::string &file_path() const { return path_; }

private:
  void writeEvent(const std::string &event_fields_after_step, int64_t step,
                  c10::optional<double> walltime, const char *where);
  std::string log_dir_;
  std::string path_;
  std::ofstream out_;
  std::mutex mu_;
};

} // namespace med::visualize
