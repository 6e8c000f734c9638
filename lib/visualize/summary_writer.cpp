// SummaryWriter: Event protos (wall_time = 1, step = 2, file_version = 3, summary = 5) encoded by
// hand and framed as TFRecords. Summary.Value: tag = 1, simple_value = 2, image = 4, tensor = 8,
// metadata = 9; Summary.Image: height = 1, width = 2, colorspace = 3, encoded_image_string = 4.
#include "med/visualize/summary_writer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/visualize/png.h"
#include "tfrecord.h"

namespace med::visualize {
namespace {

namespace fs = std::filesystem;
using detail::ProtoWriter;

double now() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() * 1e-6;
}

std::string hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

/// Summary{value{...}} wrapped as Event field 5.
std::string summaryField(const std::string &value) {
  ProtoWriter summary;
  summary.bytes(1, value);
  ProtoWriter event;
  event.bytes(5, summary.str());
  return event.str();
}

} // namespace

SummaryWriter::SummaryWriter(std::string log_dir, const std::string &filename_suffix)
    : log_dir_(std::move(log_dir)) {
  std::error_code ec;
  fs::create_directories(log_dir_, ec);
  if (ec || !fs::is_directory(log_dir_))
    throw Error(log_dir_, "SummaryWriter cannot create the log directory: " + ec.message());
  char stamp[32];
  std::snprintf(stamp, sizeof(stamp), "%010lld", static_cast<long long>(now()));
  const std::string base =
      (fs::path(log_dir_) / ("events.out.tfevents." + std::string(stamp) + "." + hostname()))
          .string();
  path_ = base + filename_suffix;
  for (int i = 1; fs::exists(path_); ++i) // two writers in the same second and folder
    path_ = base + "." + std::to_string(i) + filename_suffix;
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_)
    throw Error(path_, "SummaryWriter cannot open the event file");
  ProtoWriter first;
  first.fixed64_double(1, now()).bytes(3, "brain.Event:2");
  out_ << detail::tfrecord(first.str());
  out_.flush();
}

SummaryWriter::~SummaryWriter() {
  try {
    close();
  } catch (...) { // a destructor must not throw; close() errors were reported by flush() calls
  }
}

void SummaryWriter::writeEvent(const std::string &fields, int64_t step,
                               c10::optional<double> walltime, const char *where) {
  ProtoWriter event;
  event.fixed64_double(1, walltime ? *walltime : now());
  if (step != 0)
    event.varint(2, static_cast<uint64_t>(step));
  const std::string record = detail::tfrecord(event.str() + fields);
  std::lock_guard<std::mutex> lock(mu_);
  if (!out_.is_open())
    throw Error(std::string("SummaryWriter.") + where, "the writer is closed");
  out_ << record;
  if (!out_)
    throw Error(path_, "SummaryWriter failed to write an event");
}

void SummaryWriter::add_scalar(const std::string &tag, double value, int64_t step,
                               c10::optional<double> walltime) {
  ProtoWriter v;
  v.bytes(1, tag).fixed32_float(2, static_cast<float>(value));
  writeEvent(summaryField(v.str()), step, walltime, "add_scalar");
}

void SummaryWriter::add_image(const std::string &tag, const at::Tensor &img_tensor, int64_t step,
                              const std::string &dataformats, c10::optional<double> walltime) {
  if (!img_tensor.defined())
    throw Error("SummaryWriter.add_image.img_tensor", "expected a tensor");
  at::Tensor img = img_tensor.detach().to(at::kCPU);
  if (dataformats == "HW" && img.dim() == 2)
    img = img.unsqueeze(0);
  else if (dataformats == "HWC" && img.dim() == 3)
    img = img.permute({2, 0, 1});
  else if (!(dataformats == "CHW" && img.dim() == 3))
    throw Error("SummaryWriter.add_image.dataformats",
                "expected \"CHW\", \"HWC\" or \"HW\" matching a tensor of that many axes, got \"" +
                    dataformats + "\" for " + std::to_string(img.dim()) + " axes");
  const int64_t c = img.size(0);
  if (c != 1 && c != 3 && c != 4)
    throw Error("SummaryWriter.add_image.img_tensor",
                "expected 1, 3 or 4 channels, got " + std::to_string(c));
  if (img.scalar_type() != at::kByte)
    img = at::clamp(img.to(at::kFloat) * 255.0, 0, 255).to(at::kByte); // truncates, as torch
  ProtoWriter image;
  image.varint(1, static_cast<uint64_t>(img.size(1)))
      .varint(2, static_cast<uint64_t>(img.size(2)))
      .varint(3, static_cast<uint64_t>(c))
      .bytes(4, encode_png(img.contiguous()));
  ProtoWriter v;
  v.bytes(1, tag).bytes(4, image.str());
  writeEvent(summaryField(v.str()), step, walltime, "add_image");
}

void SummaryWriter::add_text(const std::string &tag, const std::string &text, int64_t step,
                             c10::optional<double> walltime) {
  ProtoWriter plugin;
  plugin.bytes(1, "text");
  ProtoWriter metadata;
  metadata.bytes(1, plugin.str());
  ProtoWriter dim;
  dim.varint(1, 1);
  ProtoWriter shape;
  shape.bytes(2, dim.str());
  ProtoWriter tensor;
  tensor.varint(1, 7 /* DT_STRING */).bytes(2, shape.str()).bytes(8, text);
  ProtoWriter v;
  v.bytes(1, tag + "/text_summary").bytes(9, metadata.str()).bytes(8, tensor.str());
  writeEvent(summaryField(v.str()), step, walltime, "add_text");
}

void SummaryWriter::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (out_.is_open()) {
    out_.flush();
    if (!out_)
      throw Error(path_, "SummaryWriter failed to flush the event file");
  }
}

void SummaryWriter::close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (out_.is_open()) {
    out_.flush();
    out_.close();
  }
}

} // namespace med::visualize
