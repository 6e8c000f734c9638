// StatsHandler: progress bar on terminals, log lines elsewhere.
#include "med/handlers/stats.h"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <ATen/ATen.h>
#include <unistd.h>

#include "med/core/error.h"
#include "med/distributed/process_group.h"

namespace med::handlers {

using engines::Events;

namespace {
double default_loss(const engines::State &s) {
  auto it = s.output.find(engines::keys::LOSS);
  if (it == s.output.end() || !it->second.defined() || it->second.numel() != 1)
    return std::nan("");
  return it->second.item<double>();
}

bool is_terminal(std::ostream *os) {
  if (os == &std::cerr || os == &std::clog)
    return ::isatty(fileno(stderr));
  if (os == &std::cout)
    return ::isatty(fileno(stdout));
  return false;
}
} // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    seconds = 0;
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>((s / 60) % 60), static_cast<long long>(s % 60));
  return buf;
}

StatsHandler::StatsHandler(Options options) : o_(std::move(options)) {
  if (o_.iteration_interval() < 1)
    throw Error("StatsHandler.iteration_interval",
                "expected >= 1, got " + std::to_string(o_.iteration_interval()));
  const std::string &pb = o_.progress_bar();
  if (pb != "auto" && pb != "always" && pb != "never")
    throw Error("StatsHandler.progress_bar",
                "expected \"auto\", \"always\" or \"never\", got \"" + pb + "\"");
  if (!o_.output_transform())
    o_.output_transform(default_loss);
  os_ = o_.stream() ? o_.stream() : &std::cerr;
  bar_ = pb == "always" || (pb == "auto" && is_terminal(os_));
}

std::string StatsHandler::prefix() const { return o_.name().empty() ? "" : o_.name() + " "; }

void StatsHandler::attach(Engine &engine) {
  if (!distributed::is_main_process()) // only rank 0 logs
    return;
  engine.add_event_handler(Events::EPOCH_STARTED, [this](Engine &e) { on_epoch_started(e); });
  if (o_.iteration_log())
    engine.add_event_handler(Events::ITERATION_COMPLETED, [this](Engine &e) { on_iteration(e); });
  engine.add_event_handler(Events::EPOCH_COMPLETED, [this](Engine &e) { on_epoch_completed(e); });
  engine.add_event_handler(Events::COMPLETED, [this](Engine &) {
    if (bar_open_) {
      *os_ << "\n" << std::flush;
      bar_open_ = false;
    }
  });
  engine.add_event_handler(Events::EXCEPTION_RAISED, [this](Engine &e) {
    if (bar_open_)
      *os_ << "\n";
    bar_open_ = false;
    try {
      std::rethrow_exception(e.state.exception);
    } catch (const std::exception &err) {
      *os_ << prefix() << "Exception: " << err.what() << "\n" << std::flush;
    } catch (...) {
      *os_ << prefix() << "Exception: unknown\n" << std::flush;
    }
    std::rethrow_exception(e.state.exception);
  });
}

void StatsHandler::on_epoch_started(Engine &) {
  epoch_start_ = std::chrono::steady_clock::now();
  last_draw_ = epoch_start_ - std::chrono::seconds(1);
  has_running_ = false;
}

void StatsHandler::on_iteration(Engine &e) {
  const auto &s = e.state;
  const int64_t len = std::max<int64_t>(s.epoch_length, 1);
  const int64_t in_epoch = (s.iteration - 1) % len + 1;
  double loss = o_.output_transform()(s);
  if (std::isfinite(loss)) {
    running_ = has_running_ ? 0.98 * running_ + 0.02 * loss : loss;
    has_running_ = true;
  }
  if (in_epoch % o_.iteration_interval() != 0 && in_epoch != len)
    return;
  if (!bar_) {
    if (std::isnan(loss))
      return;
    std::ostringstream line;
    line << prefix() << "Epoch: " << s.epoch << "/" << s.max_epochs << ", Iter: " << in_epoch << "/"
         << len << " -- " << o_.tag_name() << ": " << std::fixed << std::setprecision(4) << loss
         << "\n";
    *os_ << line.str();
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (in_epoch != len && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  double eta = elapsed / static_cast<double>(in_epoch) * static_cast<double>(len - in_epoch);
  const int width = 20;
  int filled = static_cast<int>(width * in_epoch / len);
  std::ostringstream line;
  line << "\r" << prefix() << "Epoch " << s.epoch << "/" << s.max_epochs << " ["
       << std::string(filled, '#') << std::string(width - filled, '.') << "] " << in_epoch << "/"
       << len << " ETA " << format_duration(eta);
  if (has_running_)
    line << " " << o_.tag_name() << " " << std::fixed << std::setprecision(4) << loss << " (avg "
         << running_ << ")";
  line << "\x1b[K"; // clear the rest of the line
  *os_ << line.str() << std::flush;
  bar_open_ = true;
}

void StatsHandler::on_epoch_completed(Engine &e) {
  if (bar_open_) {
    *os_ << "\n";
    bar_open_ = false;
  }
  if (!o_.epoch_log())
    return;
  const auto &s = e.state;
  if (!s.metrics.empty()) {
    std::ostringstream line;
    line << prefix() << "Epoch[" << s.epoch << "] Metrics --";
    for (const auto &[name, v] : s.metrics)
      line << " " << name << ": " << std::fixed << std::setprecision(4) << v;
    *os_ << line.str() << "\n";
  }
  if (!s.key_metric_name.empty() && s.best_metric_epoch >= 0) {
    std::ostringstream line;
    line << prefix() << "Key metric: " << s.key_metric_name << " best value: " << std::fixed
         << std::setprecision(4) << s.best_metric << " at epoch: " << s.best_metric_epoch;
    *os_ << line.str() << "\n";
  }
  *os_ << std::flush;
}

} // namespace med::handlers
