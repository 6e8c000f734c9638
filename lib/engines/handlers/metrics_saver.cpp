// MetricsSaver: per-epoch metrics CSV, per-item details CSV.
#include "med/handlers/metrics_saver.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <ATen/ATen.h>
#include <unistd.h>

#include "med/core/error.h"
#include "med/distributed/process_group.h"

namespace med::handlers {

namespace fs = std::filesystem;

void write_text_atomic(const std::string &path, const std::string &text) {
  static std::atomic<uint64_t> counter{0};
  fs::path tmp(path);
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  try {
    {
      std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
      if (!os)
        throw Error("write_text_atomic.path", "cannot open " + tmp.string() + " for writing");
      os << text;
      os.flush();
      if (!os)
        throw Error("write_text_atomic.path", "write failed for " + tmp.string());
    }
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

MetricsSaver::MetricsSaver(Options options) : o_(std::move(options)) {
  if (o_.save_dir().empty())
    throw Error("MetricsSaver.save_dir", "expected a directory");
  if (o_.delimiter().empty())
    throw Error("MetricsSaver.delimiter", "expected a non-empty delimiter");
  if (o_.filename().empty())
    throw Error("MetricsSaver.filename", "expected a file name");
}

void MetricsSaver::attach(Engine &engine) {
  if (!distributed::is_main_process()) // only rank 0 writes
    return;
  fs::create_directories(o_.save_dir());
  engine.add_event_handler(engines::Events::EPOCH_COMPLETED,
                           [this](Engine &e) { on_epoch_completed(e); });
}

namespace {
std::string number(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}
} // namespace

void MetricsSaver::on_epoch_completed(Engine &e) {
  const auto &wanted = o_.metrics();
  bool all = std::find(wanted.begin(), wanted.end(), "*") != wanted.end();
  std::map<std::string, double> row;
  for (const auto &[name, v] : e.state.metrics)
    if (all || std::find(wanted.begin(), wanted.end(), name) != wanted.end())
      row[name] = v;
  rows_.emplace_back(e.state.epoch, row);

  std::vector<std::string> columns;
  std::set<std::string> seen;
  for (const auto &r : rows_)
    for (const auto &[name, v] : r.second)
      if (seen.insert(name).second)
        columns.push_back(name);
  const std::string &d = o_.delimiter();
  std::ostringstream csv;
  csv << "epoch";
  for (const auto &c : columns)
    csv << d << c;
  csv << "\n";
  for (const auto &[epoch, values] : rows_) {
    csv << epoch;
    for (const auto &c : columns) {
      csv << d;
      auto it = values.find(c);
      if (it != values.end())
        csv << number(it->second);
    }
    csv << "\n";
  }
  write_text_atomic((fs::path(o_.save_dir()) / o_.filename()).string(), csv.str());

  for (const auto &name : o_.metric_details()) {
    auto it = e.state.metric_details.find(name);
    if (it == e.state.metric_details.end())
      throw Error("MetricsSaver.metric_details", "no details for metric '" + name + "'");
    at::Tensor t = it->second.detach().to(at::kCPU, at::kDouble);
    t = t.dim() == 0 ? t.reshape({1, 1}) : t.reshape({t.size(0), -1});
    std::ostringstream raw;
    raw << "index";
    for (int64_t c = 0; c < t.size(1); ++c)
      raw << d << "class" << c;
    raw << d << "mean\n";
    auto acc = t.accessor<double, 2>();
    for (int64_t i = 0; i < t.size(0); ++i) {
      raw << i;
      double sum = 0;
      int64_t n = 0;
      for (int64_t c = 0; c < t.size(1); ++c) {
        raw << d << number(acc[i][c]);
        if (!std::isnan(acc[i][c])) {
          sum += acc[i][c];
          ++n;
        }
      }
      raw << d << (n ? number(sum / static_cast<double>(n)) : "nan") << "\n";
    }
    write_text_atomic((fs::path(o_.save_dir()) / (name + "_raw.csv")).string(), raw.str());
  }
}

} // namespace med::handlers
