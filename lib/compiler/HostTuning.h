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
  /// Whether ops alone in their kernel call the runtime's microkernels (med-use-microkernels),
  /// from MEDULLA_UKERNELS: "auto" or unset - where the CPU has AVX-512 (F and DQ), which their
  /// fast builds need (elsewhere the generated code is faster); "on" / "off" - always / never
  /// (for measuring and testing; the values are the same either way).
  bool microkernels = true;
  /// Set when MEDULLA_CPU_GATHERS or MEDULLA_UKERNELS holds something it does not accept; every
  /// compile then fails with this message rather than silently picking a setting.
  std::string error;
};

/// The tuning for a CPU named `cpu` (LLVM's host CPU name, e.g. "znver4"), with AVX-512 F and
/// DQ or not (`avx512`), under `microkernels` (MEDULLA_UKERNELS, above) and `gathers`, the
/// value of MEDULLA_CPU_GATHERS (null when unset):
///   "on"  - let LLVM's vectoriser use gather instructions where its cost model wants them;
///   "off" - prefer scalar loads to gathers ("+prefer-no-gather");
///   "auto" or unset - off on AMD Zen (gathers there are microcoded and slower than the loads
///                     they replace), on elsewhere.
///
///   decideHostTuning("znver4", nullptr).features == "+prefer-no-gather"
HostTuning decideHostTuning(const std::string &cpu, const char *gathers,
                            const char *microkernels = nullptr, bool avx512 = true);

/// decideHostTuning() for this process's CPU and environment, decided once at first use (the
/// disk cache's host key includes it, so it must not change while the process runs).
const HostTuning &hostTuning();

} // namespace med::compiler
