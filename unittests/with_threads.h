// Runs code under a given ATen thread count, for tests that hold results equal across counts.
#pragma once

#include <ATen/Parallel.h>

namespace med::testing {

/// f() with ATen's intra-op thread count set to `n`; the previous count comes back afterwards,
/// also when f throws.
///
///   EXPECT_TRUE(at::equal(withThreads(1, run), withThreads(2, run)));
template <typename F> auto withThreads(int n, F &&f) {
  struct Restore {
    int saved;
    ~Restore() { at::set_num_threads(saved); }
  } restore{at::get_num_threads()};
  at::set_num_threads(n);
  return f();
}

} // namespace med::testing
