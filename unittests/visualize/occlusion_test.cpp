// OcclusionSensitivity on a "classifier" that only looks at one pixel: only windows covering that
// pixel change its output, so the map is known from window coverage counted by hand.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/visualize/occlusion_sensitivity.h"

namespace V = med::visualize;

namespace {

constexpr int64_t kR = 2, kC = 3; // the pixel the model looks at

/// logits (N, 2): class 0 = 3 (constant), class 1 = 5 * x[:, 0, kR, kC].
at::Tensor onePixelModel(const at::Tensor &x) {
  at::Tensor p = x.select(1, 0).select(1, kR).select(1, kC);
  return at::stack({at::full_like(p, 3.0), 5.0 * p}, 1);
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

at::Tensor image() {
  at::Tensor x = at::zeros({1, 1, 8, 8});
  x[0][0][kR][kC] = 1.0;
  return x;
}

TEST(OcclusionSensitivity, NonOverlappingMeanImg) {
  V::OcclusionSensitivity occ(
      onePixelModel,
      V::OcclusionSensitivityOptions().mask_size({2}).overlap(0.0).n_batch(3).mode("mean_img"));
  auto [sens, cls] = occ(image());
  ASSERT_EQ(sens.sizes(), (std::vector<int64_t>{1, 2, 8, 8}));
  ASSERT_EQ(cls.sizes(), (std::vector<int64_t>{1, 1, 8, 8}));
  // One-channel image -> sigmoid (MONAI's rule). Occluded window: rows 2-3, cols 2-3.
  const double hidden = sigmoid(5.0 / 64.0), shown = sigmoid(5.0);
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t c = 0; c < 8; ++c) {
      const bool in = r >= 2 && r < 4 && c >= 2 && c < 4;
      EXPECT_NEAR(sens[0][0][r][c].item<double>(), sigmoid(3.0), 1e-6);
      EXPECT_NEAR(sens[0][1][r][c].item<double>(), in ? hidden : shown, 1e-6) << r << "," << c;
      EXPECT_EQ(cls[0][0][r][c].item<int64_t>(), in ? 0 : 1);
    }
}

TEST(OcclusionSensitivity, OverlappingMeanPatchAveragesWindows) {
  // mask 2, overlap 0.5 -> interval 1, windows start at 0..6 on each axis.
  V::OcclusionSensitivity occ(
      onePixelModel,
      V::OcclusionSensitivityOptions().mask_size({2, 2}).overlap(0.5).mode("mean_patch"));
  auto [sens, cls] = occ(image());
  const double hidden = sigmoid(5.0 * 0.25), shown = sigmoid(5.0); // patch mean 1/4
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t c = 0; c < 8; ++c) {
      double total = 0;
      int n = 0;
      for (int64_t sr = 0; sr <= 6; ++sr)
        for (int64_t sc = 0; sc <= 6; ++sc) {
          if (r < sr || r >= sr + 2 || c < sc || c >= sc + 2)
            continue;
          const bool covers = kR >= sr && kR < sr + 2 && kC >= sc && kC < sc + 2;
          total += covers ? hidden : shown;
          ++n;
        }
      EXPECT_NEAR(sens[0][1][r][c].item<double>(), total / n, 1e-6) << r << "," << c;
    }
}

TEST(OcclusionSensitivity, GaussianKernelAndSoftmaxForColourImages) {
  // mask 3: sigma 0.75, taps g(d) = (erf(t (d + .5)) - erf(t (d - .5))) / 2, t = 1/(sqrt2 sigma).
  const double t = 0.70710678 / 0.75;
  auto g = [&](double d) { return 0.5 * (std::erf(t * (d + 0.5)) - std::erf(t * (d - 0.5))); };
  at::Tensor mul = V::OcclusionSensitivity::gaussian_occlusion(2, {3, 3}, at::kDouble);
  ASSERT_EQ(mul.sizes(), (std::vector<int64_t>{2, 3, 3}));
  EXPECT_NEAR(mul[0][1][1].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(mul[1][0][0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(mul[0][0][1].item<double>(), g(0) / (g(0) + g(1)), 1e-9);

  // Two-channel image -> softmax over classes; the occluded centre pixel is zeroed exactly.
  at::Tensor x = at::zeros({1, 2, 5, 5});
  x[0][0][kR][kC] = 1.0;
  V::OcclusionSensitivity occ(onePixelModel,
                              V::OcclusionSensitivityOptions().mask_size({3}).overlap(0.0));
  auto [sens, cls] = occ(x);
  ASSERT_EQ(sens.sizes(), (std::vector<int64_t>{1, 2, 5, 5}));
  EXPECT_TRUE(at::allclose(sens.sum(1), at::ones({1, 5, 5}), 1e-5, 1e-6));
}

TEST(OcclusionSensitivity, Errors) {
  EXPECT_THROW(V::OcclusionSensitivity(onePixelModel, V::OcclusionSensitivityOptions().mode("x")),
               med::Error);
  V::OcclusionSensitivity occ(onePixelModel, V::OcclusionSensitivityOptions().mask_size({4}));
  EXPECT_THROW(occ(at::zeros({2, 1, 8, 8})), med::Error);
  try {
    occ(at::zeros({1, 1, 3, 8}));
    FAIL();
  } catch (const med::Error &e) {
    EXPECT_EQ(e.where(), "OcclusionSensitivity.mask_size");
  }
}

} // namespace
