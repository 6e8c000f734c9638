// How the JIT tunes code generation for the host CPU (lib/compiler/HostTuning.h). Both settings
// of MEDULLA_CPU_GATHERS are also run over the compiled resample tests by ctest
// (unittests/transforms/CMakeLists.txt), so each codegen choice is checked against eager.
#include "HostTuning.h"
#include "med/compiler/JitSession.h"
#include "med/frontends/Chain.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

using med::compiler::decideHostTuning;

TEST(HostTuning, GathersAreOffOnAmdZenAndOnElsewhereByDefault) {
  for (const char *cpu : {"znver1", "znver3", "znver4", "znver5"}) {
    EXPECT_EQ(decideHostTuning(cpu, nullptr).features, "+prefer-no-gather") << cpu;
    EXPECT_EQ(decideHostTuning(cpu, "auto").features, "+prefer-no-gather") << cpu;
  }
  for (const char *cpu : {"skylake-avx512", "icelake-server", "sapphirerapids", "x86-64", ""}) {
    EXPECT_EQ(decideHostTuning(cpu, nullptr).features, "") << cpu;
    EXPECT_TRUE(decideHostTuning(cpu, nullptr).error.empty()) << cpu;
  }
}

TEST(HostTuning, TheSettingOverridesTheCpu) {
  EXPECT_EQ(decideHostTuning("znver4", "on").features, "");
  EXPECT_EQ(decideHostTuning("skylake-avx512", "off").features, "+prefer-no-gather");
  EXPECT_TRUE(decideHostTuning("znver4", "off").error.empty());
}

TEST(HostTuning, AnUnknownSettingIsAnErrorNamingTheVariable) {
  for (const char *bad : {"", "ON", "yes", "0"}) {
    auto t = decideHostTuning("znver4", bad);
    EXPECT_EQ(t.features, "") << bad;
    EXPECT_NE(t.error.find("MEDULLA_CPU_GATHERS"), std::string::npos) << t.error;
    EXPECT_NE(t.error.find("auto, on or off"), std::string::npos) << t.error;
    EXPECT_NE(t.error.find(std::string("'") + bad + "'"), std::string::npos) << t.error;
  }
}

TEST(HostTuning, MicrokernelsWhereTheCpuHasAvx512UnlessSet) {
  EXPECT_TRUE(decideHostTuning("znver4", nullptr).microkernels);
  EXPECT_TRUE(decideHostTuning("znver4", nullptr, "auto", true).microkernels);
  EXPECT_FALSE(decideHostTuning("znver3", nullptr, nullptr, false).microkernels);
  EXPECT_TRUE(decideHostTuning("znver3", nullptr, "on", false).microkernels);
  EXPECT_FALSE(decideHostTuning("znver4", nullptr, "off", true).microkernels);
  EXPECT_TRUE(decideHostTuning("znver4", "on", "off").error.empty());
  for (const char *bad : {"", "OFF", "1"}) {
    auto t = decideHostTuning("znver4", nullptr, bad);
    EXPECT_NE(t.error.find("MEDULLA_UKERNELS"), std::string::npos) << t.error;
    EXPECT_NE(t.error.find(std::string("'") + bad + "'"), std::string::npos) << t.error;
  }
}

// Runs under ctest with MEDULLA_CPU_GATHERS=sometimes (med-compiler-tests.bad-gathers-setting):
// the process's setting is decided once, so only a process started with a bad value can show
// that every compile then fails with the message instead of picking a setting silently.
TEST(HostTuning, BadSettingInTheEnvironmentFailsCompiles) {
  const char *setting = std::getenv("MEDULLA_CPU_GATHERS");
  if (!setting || std::string(setting) != "sometimes")
    GTEST_SKIP() << "runs only with MEDULLA_CPU_GATHERS=sometimes (its own ctest entry)";
  med::frontend::ChainSpec chain{
      med::rt::DType::Float32,
      {med::frontend::OpSpec{
          "shift_intensity", {{"offset", 1.0}}, {}, med::rt::DType::Float32, "Shift"}}};
  std::string error;
  std::string ir = med::frontend::traceToIR(chain, &error);
  ASSERT_FALSE(ir.empty()) << error;
  auto k = med::compiler::JitSession::global().compile(ir, &error);
  EXPECT_FALSE(k);
  EXPECT_EQ(error, "MEDULLA_CPU_GATHERS: expected auto, on or off, got 'sometimes'");
}

} // namespace
