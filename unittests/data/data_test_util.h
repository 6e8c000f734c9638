// Shared helpers of the data tests: scratch folders, small in-memory items, a counting step.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "../io/io_test_util.h"
#include "med/core/error.h"
#include "med/data/data.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/utility.h"

namespace med::data::test {

namespace T = med::transforms;

/// Temporary folders: the I/O tests' ScratchDir.
using med::io::test::ScratchDir;

/// Item i: "image" (1, 4, 5) float ramp offset by i, "label" 0-d int64 = i % 3.
inline Item memoryItem(int64_t i) {
  at::Tensor img = at::arange(20, at::kFloat).reshape({1, 4, 5}) + static_cast<float>(i) * 7.f;
  Meta m;
  m.filename_or_obj = "item" + std::to_string(i);
  m.affine[3] = static_cast<double>(i); // a per-item origin, to follow metadata through batches
  return Item(Data{{"image", MetaTensor(img, m)},
                   {"label", MetaTensor(at::scalar_tensor(i % 3, at::kLong))}});
}
inline std::vector<Item> memoryItems(int64_t n) {
  std::vector<Item> out;
  for (int64_t i = 0; i < n; ++i)
    out.push_back(memoryItem(i));
  return out;
}

/// Counts calls of the deterministic step of pipeline() (the prefix CacheDataset keeps).
inline std::atomic<int64_t> &prefixCalls() {
  static std::atomic<int64_t> n{0};
  return n;
}

/// Deterministic: a counted Lambda (x * 2 + 1) and ScaleIntensity(minv, 1); random: a shift and
/// a scale with prob 1 (so every draw shows in the output).
inline T::Compose pipeline(double minv = 0.0) {
  auto counted = T::LambdaOptions([](const MetaTensor &m) {
    ++prefixCalls();
    return m.withData(m.data * 2 + 1);
  });
  return T::Compose(
      {T::Lambdad({"image"}, counted),
       T::ScaleIntensityd({"image"}, T::ScaleIntensityOptions().minv(minv)),
       T::RandShiftIntensityd({"image"}, T::RandShiftIntensityOptions(5).prob(1.0)),
       T::RandScaleIntensityd({"image"}, T::RandScaleIntensityOptions(0.5).prob(1.0))});
}

/// EXPECT two med::Data to hold the same keys, tensors (exactly) and source files.
inline void expectSameData(const Data &a, const Data &b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto &[k, v] : a) {
    ASSERT_TRUE(b.count(k)) << k;
    const MetaTensor &w = b.at(k);
    EXPECT_EQ(v.data.sizes(), w.data.sizes()) << k;
    EXPECT_EQ(v.data.scalar_type(), w.data.scalar_type()) << k;
    EXPECT_TRUE(at::equal(v.data, w.data)) << k;
    EXPECT_EQ(v.meta.filename_or_obj, w.meta.filename_or_obj) << k;
    EXPECT_EQ(v.meta.affine, w.meta.affine) << k;
  }
}

} // namespace med::data::test
