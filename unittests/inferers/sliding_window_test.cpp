// sliding_window_inference and the inferers against plain references: pointwise predictors must
// reproduce the whole-image prediction, a convolution must match a voxel-by-voxel blend.
#include <gtest/gtest.h>

#include <algorithm>

#include <ATen/Functions.h>
#include <ATen/TensorIndexing.h>
#include <ATen/TensorOperators.h>

#include "med/inferers/inferer.h"
#include "reference.h"

namespace I = med::inferers;
using at::indexing::Slice;

namespace {

// Two output channels from one: 2x + 1 and x^2 (pointwise, so blending must not change it).
at::Tensor pointwise(const at::Tensor &x) { return at::cat({2 * x + 1, x * x}, 1); }

at::Tensor image(std::vector<int64_t> shape, int seed = 0) {
  at::manual_seed(seed);
  return at::randn(shape);
}

void expectClose(const at::Tensor &a, const at::Tensor &b, double tol = 1e-5) {
  ASSERT_EQ(a.sizes(), b.sizes());
  // Absolute tolerance scaled by the reference's magnitude (float32 rounding is relative).
  double scale = std::max(1.0, b.abs().max().item<double>());
  double err = (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(err, tol * scale);
}

TEST(SlidingWindowInference, PointwisePredictorGivesTheWholeImagePrediction3D) {
  at::Tensor x = image({2, 1, 13, 10, 9});
  for (std::string mode : {"constant", "gaussian"})
    for (double ov : {0.0, 0.25, 0.5, 0.8})
      for (std::vector<int64_t> roi : {std::vector<int64_t>{4, 5, 6}, {13, 3, 9}, {16, 12, 4}}) {
        at::Tensor out = I::sliding_window_inference(x, roi, 3, pointwise, ov, mode);
        expectClose(out, pointwise(x));
      }
}

TEST(SlidingWindowInference, PointwisePredictorWithEveryPaddingMode2D) {
  // roi larger than the image: the padded border is predicted and then cropped away.
  at::Tensor x = image({1, 2, 5, 7});
  auto pred = [](const at::Tensor &t) { return t.sum(1, true) * 3 - 1; };
  for (std::string pad : {"constant", "reflect", "replicate", "circular"}) {
    at::Tensor out =
        I::sliding_window_inference(x, {8, 4}, 2, pred, 0.5, "gaussian", {0.3, 0.1}, pad, 2.5);
    expectClose(out, pred(x));
  }
}

TEST(SlidingWindowInference, ConvolutionMatchesVoxelByVoxelBlend2D) {
  // A 3x3 convolution sees the window border, so windows disagree and the blend matters.
  at::Tensor x = image({2, 1, 17, 14}, 1);
  at::Tensor w = image({3, 1, 3, 3}, 2), b = image({3}, 3);
  auto conv = [&](const at::Tensor &t) { return at::conv2d(t, w, b, 1, 1); };
  struct Case {
    int64_t rh, rw;
    double ov;
    std::string mode;
    double scale;
  };
  for (const Case &c : {Case{6, 5, 0.25, "constant", 0.125}, Case{6, 5, 0.5, "gaussian", 0.125},
                        Case{4, 14, 0.75, "gaussian", 0.3}, Case{17, 3, 0.0, "constant", 0.1},
                        Case{9, 9, 0.6, "gaussian", 0.05}}) {
    int64_t sh = c.rh == 17 ? 17 : std::max<int64_t>(int64_t(c.rh * (1 - c.ov)), 1);
    int64_t sw = c.rw == 14 ? 14 : std::max<int64_t>(int64_t(c.rw * (1 - c.ov)), 1);
    at::Tensor expected =
        ref::blend2d(x, c.rh, c.rw, sh, sw, c.mode == "gaussian", {c.scale}, conv);
    at::Tensor out = I::sliding_window_inference(x, {c.rh, c.rw}, 4, conv, c.ov, c.mode, {c.scale});
    expectClose(out, expected, 1e-5);
  }
}

TEST(SlidingWindowInference, RoiLargerThanImageIsOnePaddedWindowCroppedBack) {
  // One window covers the padded image, so the result is the predictor on the padded image,
  // cropped: checks the symmetric padding (2 before, 3 after along x; 1 and 1 along y).
  at::Tensor x = image({1, 1, 5, 6, 4}, 4);
  at::Tensor w = image({2, 1, 3, 3, 3}, 5), b = image({2}, 6);
  auto conv = [&](const at::Tensor &t) { return at::conv3d(t, w, b, 1, 1); };
  for (std::string pad : {"constant", "replicate", "reflect"}) {
    at::Tensor padded = pad == "constant"    ? at::constant_pad_nd(x, {0, 0, 1, 1, 2, 3}, -0.5)
                        : pad == "replicate" ? at::replication_pad3d(x, {0, 0, 1, 1, 2, 3})
                                             : at::reflection_pad3d(x, {0, 0, 1, 1, 2, 3});
    at::Tensor expected = conv(padded).index({Slice(), Slice(), Slice(2, 7), Slice(1, 7)});
    at::Tensor out =
        I::sliding_window_inference(x, {10, 8, 4}, 1, conv, 0.25, "gaussian", {0.125}, pad, -0.5);
    expectClose(out, expected);
  }
}

TEST(SlidingWindowInference, BatchSizeOfWindowsDoesNotChangeTheResult) {
  at::Tensor x = image({3, 1, 12, 11, 7}, 7);
  at::Tensor w = image({2, 1, 3, 3, 3}, 8);
  int calls = 0;
  auto conv = [&](const at::Tensor &t) {
    ++calls;
    return at::conv3d(t, w, {}, 1, 1);
  };
  at::Tensor one = I::sliding_window_inference(x, {5, 6, 4}, 1, conv, 0.5, "gaussian");
  int callsOne = calls;
  calls = 0;
  at::Tensor three = I::sliding_window_inference(x, {5, 6, 4}, 3, conv, 0.5, "gaussian");
  EXPECT_EQ(calls, (callsOne + 2) / 3); // windows of different batch items are mixed
  at::Tensor all = I::sliding_window_inference(x, {5, 6, 4}, 1000, conv, 0.5, "gaussian");
  expectClose(one, three, 1e-6);
  expectClose(one, all, 1e-6);
  // Each batch item is predicted on its own: item 1 alone gives the same as in the batch.
  at::Tensor single =
      I::sliding_window_inference(x.narrow(0, 1, 1), {5, 6, 4}, 2, conv, 0.5, "gaussian");
  expectClose(single, one.narrow(0, 1, 1), 1e-6);
}

TEST(SlidingWindowInference, DoubleInputsStayDouble) {
  at::Tensor x = image({1, 1, 9, 9}).to(at::kDouble);
  at::Tensor out = I::sliding_window_inference(x, {4, 4}, 2, pointwise, 0.5, "gaussian");
  EXPECT_EQ(out.scalar_type(), at::kDouble);
  expectClose(out, pointwise(x), 1e-12);
}

TEST(Inferers, SimpleInfererRunsThePredictorOnce) {
  at::Tensor x = image({2, 1, 6, 6});
  int calls = 0;
  auto pred = [&](const at::Tensor &t) {
    ++calls;
    return t * 2;
  };
  at::Tensor out = I::SimpleInferer()(x, pred);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(at::equal(out, x * 2));
}

TEST(Inferers, SlidingWindowInfererEqualsTheFunction) {
  at::Tensor x = image({1, 1, 15, 12});
  at::Tensor w = image({2, 1, 3, 3}, 9);
  auto conv = [&](const at::Tensor &t) { return at::conv2d(t, w, {}, 1, 1); };
  I::SlidingWindowInferer inf(I::SlidingWindowInfererOptions({6, 5})
                                  .sw_batch_size(2)
                                  .overlap(0.5)
                                  .mode("gaussian")
                                  .sigma_scale({0.2, 0.1}));
  const I::Inferer &base = inf;
  at::Tensor fn = I::sliding_window_inference(x, {6, 5}, 2, conv, 0.5, "gaussian", {0.2, 0.1});
  EXPECT_TRUE(at::equal(base(x, conv), fn));
  expectClose(fn, ref::blend2d(x, 6, 5, 3, 2, true, {0.2, 0.1}, conv));
  EXPECT_EQ(inf.options().sw_batch_size(), 2);
  // Default options: constant blending, overlap 0.25.
  I::SlidingWindowInferer plain(I::SlidingWindowInfererOptions({6, 5}));
  expectClose(plain(x, conv), ref::blend2d(x, 6, 5, 4, 3, false, {0.125}, conv));
}

} // namespace
