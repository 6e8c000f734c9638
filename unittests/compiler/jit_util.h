// Helpers of the compiler tests: a traced chain compiled by the process's JIT session.
#pragma once

#include "med/compiler/JitSession.h"
#include "med/frontends/Chain.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

/// Traces `chain` and compiles it; a failure of either is a test failure (and a null kernel).
std::shared_ptr<const med::compiler::Kernel> compile(const med::frontend::ChainSpec &chain) {
  std::string error;
  std::string ir = med::frontend::traceToIR(chain, &error);
  EXPECT_FALSE(ir.empty()) << error;
  auto kernel = med::compiler::JitSession::global().compile(ir, &error);
  EXPECT_TRUE(kernel) << error;
  return kernel;
}

} // namespace
