#include "bench_common.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

namespace med::bench {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

namespace {
double timedMs(const std::function<void()> &f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}
} // namespace

void passiveOpenMP(char **argv) {
  if (std::getenv("OMP_WAIT_POLICY"))
    return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv); // returns only on failure: then run as we are
}

std::vector<double> alternatingMediansMs(const std::vector<std::function<void()>> &fs, int reps) {
  for (const auto &f : fs)
    f();
  std::vector<std::vector<double>> times(fs.size());
  for (int i = 0; i < reps; ++i)
    for (size_t k = 0; k < fs.size(); ++k)
      times[k].push_back(timedMs(fs[k]));
  std::vector<double> out;
  for (auto &t : times)
    out.push_back(median(t));
  return out;
}

std::pair<double, double> alternatingMedianMs(const std::function<void()> &a,
                                              const std::function<void()> &b, int reps) {
  const std::vector<double> m = alternatingMediansMs({a, b}, reps);
  return {m[0], m[1]};
}

double medianMs(const std::function<void()> &f, int reps, int warmup) {
  for (int i = 0; i < warmup; ++i)
    f();
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void Report::add(Row row) {
  std::string shape;
  for (int64_t s : row.shape)
    shape += (shape.empty() ? "" : "x") + std::to_string(s);
  fmt::print("{:<18} {:<9} {:<14} threads={}  median {:9.2f} ms\n", row.caseName, row.variant,
             shape, row.threads, row.medianMs);
  std::fflush(stdout);
  rows_.push_back(std::move(row));
}

double Report::find(const std::string &caseName, const std::string &variant, int threads,
                    const std::vector<int64_t> &shape) const {
  for (const Row &r : rows_)
    if (r.caseName == caseName && r.variant == variant && r.threads == threads &&
        (shape.empty() || r.shape == shape))
      return r.medianMs;
  return 0;
}

void Report::printRatio(const std::string &caseName, int threads, const std::string &num,
                        const std::string &den, const std::vector<int64_t> &shape) const {
  double a = find(caseName, num, threads, shape), b = find(caseName, den, threads, shape);
  std::string dims;
  for (int64_t s : shape)
    dims += (dims.empty() ? "" : "x") + std::to_string(s);
  if (a > 0 && b > 0)
    fmt::print("  {:<18} {}threads={}  {} / {} = {:.2f}x\n", caseName,
               dims.empty() ? "" : dims + " ", threads, num, den, a / b);
}

void Report::writeJson(const std::string &path) const {
  if (path.empty())
    return;
  nlohmann::json rows = nlohmann::json::array();
  for (const Row &r : rows_)
    rows.push_back({{"case", r.caseName},
                    {"variant", r.variant},
                    {"shape", r.shape},
                    {"threads", r.threads},
                    {"median_ms", r.medianMs}});
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out)
      throw std::runtime_error("cannot write " + tmp);
    out << nlohmann::json{{"benchmark", benchmark_}, {"rows", rows}}.dump(2) << "\n";
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

} // namespace med::bench
