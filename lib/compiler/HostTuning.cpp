// The host tuning decision (HostTuning.h); the measurements behind it are in docs/performance.md,
// "Gathers on AMD Zen".
#include "HostTuning.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/TargetParser/Host.h"

#include <cstdlib>

namespace med::compiler {

HostTuning decideHostTuning(const std::string &cpu, const char *gathers) {
  HostTuning t;
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
  static const HostTuning tuning =
      decideHostTuning(llvm::sys::getHostCPUName().str(), std::getenv("MEDULLA_CPU_GATHERS"));
  return tuning;
}

} // namespace med::compiler
