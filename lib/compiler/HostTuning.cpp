// The host tuning decision (HostTuning.h); the measurements behind it are in docs/performance.md,
// "Gathers on AMD Zen".
#include "HostTuning.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/TargetParser/Host.h"

#include <cstdlib>

namespace med::compiler {

HostTuning decideHostTuning(const std::string &cpu, const char *gathers, const char *microkernels,
                            bool avx512) {
  HostTuning t;
  const std::string uk = microkernels ? microkernels : "auto";
  if (uk != "auto" && uk != "on" && uk != "off") {
    t.error = "MEDULLA_UKERNELS: expected auto, on or off, got '" + uk + "'";
    return t;
  }
  t.microkernels = uk == "on" || (uk == "auto" && avx512);
  const std::string setting = gathers ? gathers : "auto";
  bool useGathers;
  if (setting == "on")
    useGathers = true;
  else if (setting == "off")
    useGathers = false;
  else if (setting == "auto")
    useGathers = cpu.rfind("znver", 0) != 0;
  else {
    t.error = "MEDULLA_CPU_GATHERS: expected auto, on or off, got '" + setting + "'";
    return t;
  }
  if (!useGathers)
    t.features = "+prefer-no-gather";
  return t;
}

const HostTuning &hostTuning() {
  static const HostTuning tuning = [] {
    const llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    const bool avx512 = features.lookup("avx512f") && features.lookup("avx512dq");
    return decideHostTuning(llvm::sys::getHostCPUName().str(), std::getenv("MEDULLA_CPU_GATHERS"),
                            std::getenv("MEDULLA_UKERNELS"), avx512);
  }();
  return tuning;
}

} // namespace med::compiler
