// Window layout (scan interval, starts, padding) and importance maps against hand-worked values.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/Functions.h>

#include "med/inferers/utils.h"
#include "reference.h"

namespace I = med::inferers;
using V = std::vector<int64_t>;
using VV = std::vector<std::vector<int64_t>>;

namespace {

TEST(SlidingWindowLayout, OneAxisByHand) {
  // 10 voxels, windows of 4: overlap 0.5 steps by 2, 0.25 by int(3.0) = 3.
  auto l = I::sliding_window_layout({10}, {4}, 0.5);
  EXPECT_EQ(l.scan_interval, V({2}));
  EXPECT_EQ(l.window_starts, VV({{0}, {2}, {4}, {6}}));
  l = I::sliding_window_layout({10}, {4}, 0.25);
  EXPECT_EQ(l.scan_interval, V({3}));
  EXPECT_EQ(l.window_starts, VV({{0}, {3}, {6}}));
  // 11 voxels: the fourth window (9) would overhang, so it moves back to 7.
  l = I::sliding_window_layout({11}, {4}, 0.25);
  EXPECT_EQ(l.window_starts, VV({{0}, {3}, {6}, {7}}));
  // int(5 * 0.1) = 0 -> step 1.
  l = I::sliding_window_layout({7}, {5}, 0.9);
  EXPECT_EQ(l.scan_interval, V({1}));
  EXPECT_EQ(l.window_starts, VV({{0}, {1}, {2}}));
  // Zero overlap: windows abut.
  l = I::sliding_window_layout({12}, {4}, 0.0);
  EXPECT_EQ(l.window_starts, VV({{0}, {4}, {8}}));
}

TEST(SlidingWindowLayout, TwoAxesInCOrderWithRoiEqualAndLargerThanImage) {
  // Axis 0: roi == image -> interval is the roi, one window. Axis 1: 9 voxels, roi 4, step 3.
  auto l = I::sliding_window_layout({5, 9}, {5, 4}, 0.25);
  EXPECT_EQ(l.scan_interval, V({5, 3}));
  EXPECT_EQ(l.window_starts, VV({{0, 0}, {0, 3}, {0, 5}}));
  // Axis 0 smaller than the roi: padded 3 -> 8, floor(5 / 2) = 2 before and 3 after.
  l = I::sliding_window_layout({3, 9}, {8, 4}, 0.5);
  EXPECT_EQ(l.pad_before, V({2, 0}));
  EXPECT_EQ(l.pad_after, V({3, 0}));
  EXPECT_EQ(l.padded_size, V({8, 9}));
  EXPECT_EQ(l.scan_interval, V({8, 2}));
  EXPECT_EQ(l.window_starts, VV({{0, 0}, {0, 2}, {0, 4}, {0, 5}}));
}

TEST(SlidingWindowLayout, NonPositiveRoiMeansWholeAxisAndOneEntryRepeats) {
  auto l = I::sliding_window_layout({6, 7, 8}, {0, -1, 4}, 0.5);
  EXPECT_EQ(l.roi_size, V({6, 7, 4}));
  EXPECT_EQ(l.window_starts, VV({{0, 0, 0}, {0, 0, 2}, {0, 0, 4}}));
  l = I::sliding_window_layout({6, 7, 8}, {4}, 0.5);
  EXPECT_EQ(l.roi_size, V({4, 4, 4}));
  EXPECT_EQ(l.window_starts.size(), 2u * 3u * 3u);
}

TEST(SlidingWindowLayout, MatchesAnIndependentWalkOnManySizes) {
  for (int64_t size : {5, 16, 17, 31, 40})
    for (int64_t roi : {1, 3, 4, 16})
      for (double ov : {0.0, 0.25, 0.5, 0.75}) {
        if (roi > size)
          continue;
        auto l = I::sliding_window_layout({size}, {roi}, ov);
        int64_t step = roi == size ? roi : std::max<int64_t>(int64_t(roi * (1 - ov)), 1);
        EXPECT_EQ(l.scan_interval, V({step}));
        VV expected;
        for (int64_t s : ref::axisStarts(size, roi, step))
          expected.push_back({s});
        EXPECT_EQ(l.window_starts, expected) << size << " " << roi << " " << ov;
      }
}

TEST(ImportanceMap, ConstantIsOnes) {
  at::Tensor m = I::compute_importance_map({3, 4}, "constant");
  EXPECT_EQ(m.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(m, at::ones({3, 4})));
  EXPECT_EQ(I::compute_importance_map({2}, "constant", {0.125}, at::kDouble).scalar_type(),
            at::kDouble);
}

TEST(ImportanceMap, GaussianByHandWithPerAxisSigma) {
  // Patch (3, 4), sigma_scale (1, 0.5): sigmas 3 and 2; offsets -1,0,1 and -1.5,-0.5,0.5,1.5.
  at::Tensor m = I::compute_importance_map({3, 4}, "gaussian", {1.0, 0.5}, at::kDouble);
  ASSERT_EQ(m.sizes(), at::IntArrayRef({3, 4}));
  double offY[] = {-1, 0, 1}, offX[] = {-1.5, -0.5, 0.5, 1.5};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      double expected = std::exp(-offY[i] * offY[i] / 18.0) * std::exp(-offX[j] * offX[j] / 8.0);
      EXPECT_NEAR(m[i][j].item<double>(), expected, 1e-6) << i << "," << j;
    }
}

TEST(ImportanceMap, TinyWeightsAreRaisedToOneThousandth) {
  // sigma 0.45: the corner weights are ~1e-34, far below 1e-3.
  at::Tensor m = I::compute_importance_map({9, 9}, "gaussian", {0.05});
  EXPECT_FLOAT_EQ(m.min().item<float>(), 1e-3f);
  EXPECT_FLOAT_EQ(m[4][4].item<float>(), 1.0f);
  // A wide Gaussian keeps its own minimum (above 1e-3).
  at::Tensor w = I::compute_importance_map({5}, "gaussian", {1.0}, at::kDouble);
  EXPECT_NEAR(w[0].item<double>(), std::exp(-4.0 / 50.0), 1e-7);
}

} // namespace
