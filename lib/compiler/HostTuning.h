// Code generation choices for the host CPU that LLVM's own per-CPU tuning gets wrong for our
// kernels (internal to med_compiler). Measured choices only; the reasons are in
// docs/performance.md ("Gathers on AMD Zen").
#pragma once

#include <string>

namespace med::compiler {

/// Extra LLVM target features for the host TargetMachine, or why none could be decided.
struct HostTuning {
  /// Added to the host's features, e.g. "+prefer-no-gather"; empty for LLVM's defaults.
  std::string features;
  /// Set when MEDULLA_CPU_GATHERS holds something other than auto, on or off; every compile then
  /// fails with this message rather than silently picking a setting.
  std::string error;
};

/// The tuning for a CPU named `cpu` (LLVM's host CPU name, e.g. "znver4") under `gathers`, the
/// value of MEDULLA_CPU_GATHERS (null when unset):
///   "on"  - let LLVM's vectoriser use gather instructions where its cost model wants them;
///   "off" - prefer scalar loads to gathers ("+prefer-no-gather");
///   "auto" or unset - off on AMD Zen (gathers there are microcoded and slower than the loads
///                     they replace), on elsewhere.
///
///   decideHostTuning("znver4", nullptr).features == "+prefer-no-gather"
HostTuning decideHostTuning(const std::string &cpu, const char *gathers);

/// decideHostTuning() for this process's CPU and environment, decided once at first use (the
/// disk cache's host key includes it, so it must not change while the process runs).
const HostTuning &hostTuning();

} // namespace med::compiler
