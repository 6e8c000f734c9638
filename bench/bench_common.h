// Shared by the benchmarks: timing, the printed table and the JSON rows
// {"benchmark": NAME, "rows": [{"case", "variant", "shape", "threads", "median_ms"}, ...]}.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace med::bench {

/// One measured configuration.
struct Row {
  std::string caseName;
  std::string variant; ///< "fused" | "unfused" | "eager" | "floor" | ...
  std::vector<int64_t> shape;
  int threads = 1;
  double medianMs = 0;
};

/// Median wall time of `reps` calls of f after `warmup` untimed calls.
double medianMs(const std::function<void()> &f, int reps, int warmup = 1);

/// Re-executes the program with OMP_WAIT_POLICY=passive unless the variable is set. ATen's
/// OpenMP workers otherwise spin after each parallel region and take the cores from the
/// launcher's threads that run a compiled kernel next (docs/performance.md, "Timing next to
/// eager ATen"); with the variable set by the caller (e.g. `active`) nothing changes. Call first
/// in main(); returns only when no re-execution happened.
void passiveOpenMP(char **argv);

/// Median of `v` (the upper middle for an even count).
double median(std::vector<double> v);

/// Median wall times of workloads timed in alternation (a, b, c, a, b, c, ... after one untimed
/// call of each), so a shared machine's drift hits all alike: one median per workload, in order.
std::vector<double> alternatingMediansMs(const std::vector<std::function<void()>> &fs, int reps);

/// The two-workload form: {median of a, median of b}.
std::pair<double, double> alternatingMedianMs(const std::function<void()> &a,
                                              const std::function<void()> &b, int reps);

/// Collects rows, prints them, and writes the JSON file when a path was given.
class Report {
public:
  explicit Report(std::string benchmark) : benchmark_(std::move(benchmark)) {}
  void add(Row row);
  /// Median of the row with this case/variant/threads (and shape, when one is given; a case
  /// measured on several shapes needs it), or 0 when absent.
  double find(const std::string &caseName, const std::string &variant, int threads,
              const std::vector<int64_t> &shape = {}) const;
  /// Prints "case threads: a / b = ratio" lines for ratios worth reading.
  void printRatio(const std::string &caseName, int threads, const std::string &num,
                  const std::string &den, const std::vector<int64_t> &shape = {}) const;
  void writeJson(const std::string &path) const;

private:
  std::string benchmark_;
  std::vector<Row> rows_;
};

} // namespace med::bench
