// The `where` of the med::Error a call throws, for tests that pin which transform, metric or
// parameter an error names.
#pragma once

#include <string>

#include "med/core/error.h"

namespace med::testing {

/// Runs `f`; returns the thrown med::Error's where() ("Owner.parameter"), or "" when nothing
/// was thrown.
///
///   EXPECT_EQ(errorWhere([&] { metric(a, b); }), "HausdorffDistanceMetric.y");
template <typename F> std::string errorWhere(F &&f) {
  try {
    f();
  } catch (const med::Error &e) {
    return e.where();
  }
  return "";
}

} // namespace med::testing
