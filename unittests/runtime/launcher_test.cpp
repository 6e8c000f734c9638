#include "med/runtime/launcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace {

TEST(ParallelFor, CoversEachIndexOnceForManySizesAndThreadCounts) {
  for (int threads : {1, 2, 3, 8})
    for (int64_t n : {0, 1, 63, 64, 65, 1000, 4097}) {
      std::vector<std::atomic<int>> hits(n);
      med::rt::parallelFor(n, threads, 64, [&](int64_t b, int64_t e) {
        EXPECT_EQ(b % 64, 0) << "chunks start on the alignment";
        for (int64_t i = b; i < e; ++i)
          hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " threads=" << threads << " i=" << i;
    }
}

TEST(ParallelFor, RethrowsTheWorkersException) {
  EXPECT_THROW(med::rt::parallelFor(1000, 2, 1,
                                    [](int64_t b, int64_t) {
                                      if (b > 0)
                                        throw std::runtime_error("boom");
                                    }),
               std::runtime_error);
  // The pool is still usable afterwards.
  std::atomic<int64_t> sum{0};
  med::rt::parallelFor(100, 2, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 100);
}

// A hand-written kernel in the generated ABI: out[i] = in[i] * 2.
extern "C" void doubleKernel(void **args) {
  auto *in = *static_cast<med_memref1d **>(args[0]);
  auto *out = *static_cast<med_memref1d **>(args[1]);
  const float *x = static_cast<const float *>(in->aligned) + in->offset;
  float *y = static_cast<float *>(out->aligned) + out->offset;
  for (int64_t i = 0; i < in->size; ++i)
    y[i * out->stride] = 2 * x[i * in->stride];
}

TEST(LaunchElementwise, SplitsBuffersIntoAlignedSubranges) {
  std::vector<float> in(1000), out(1000, -1);
  for (int i = 0; i < 1000; ++i)
    in[i] = static_cast<float>(i);
  med::rt::BufferRef bufs[2] = {{in.data(), 1000, 4}, {out.data(), 1000, 4}};
  med::rt::launchElementwise(&doubleKernel, bufs, 2, 2);
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(out[i], 2.0f * i);
  std::vector<float> whole(1000, -1);
  bufs[1].data = whole.data();
  med::rt::launchWhole(&doubleKernel, bufs, 2);
  EXPECT_EQ(whole, out);
}

} // namespace

// A hand-written row kernel: writes each output element's flat index and records its window
// (first row, row count) so the test can check the order the launcher walked.
std::mutex windowsMutex;
std::vector<std::pair<int64_t, int64_t>> windows;
extern "C" void indexRowsKernel(void **args) {
  auto *out = *static_cast<med_memref2d **>(args[0]);
  float *y = static_cast<float *>(out->aligned) + out->offset;
  for (int64_t i = 0; i < out->sizes[0] * out->sizes[1]; ++i)
    y[i] = static_cast<float>(out->offset + i);
  std::lock_guard<std::mutex> lock(windowsMutex);
  windows.push_back({out->offset / out->sizes[1], out->sizes[0]});
}

TEST(LaunchElementwise, SliceBlockedWindowsCoverEachRowOnceWithinSlices) {
  // 70 slices (more than one block) of 21 rows (not a multiple of the window) of 3 voxels.
  const int64_t slices = 70, height = 21, width = 3, n = slices * height * width;
  for (int threads : {1, 2, 3}) {
    std::vector<float> out(n, -1);
    med::rt::BufferRef buf{out.data(), n, 4, true, width, height};
    windows.clear();
    med::rt::launchElementwise(&indexRowsKernel, &buf, 1, threads);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(out[i], static_cast<float>(i)) << "threads=" << threads << " i=" << i;
    int64_t rows = 0;
    for (auto [first, count] : windows) {
      EXPECT_EQ(first / height, (first + count - 1) / height) << "a window stays in one slice";
      rows += count;
    }
    EXPECT_EQ(rows, slices * height) << "each row once";
    if (threads == 1) {
      // One chunk: the same rows of consecutive slices follow each other.
      ASSERT_GE(windows.size(), 2u);
      EXPECT_EQ(windows[0].first, 0);
      EXPECT_EQ(windows[1].first, height);
      EXPECT_LT(windows[0].second, height) << "windows are a few rows, not whole slices";
    }
  }
}
