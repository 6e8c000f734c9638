// blend_images and the colormaps against hand-computed pixels and matplotlib's published values.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/visualize/colormap.h"
#include "med/visualize/utils.h"

namespace V = med::visualize;

namespace {

// matplotlib: cm.get_cmap("hsv")(0.5) == (0.0, 1.0, 0.9647031631761764, 1.0);
// hsv(1.0) == (1.0, 0.0, 0.09375, 1.0); hsv(0.0) == (1.0, 0.0, 0.0, 1.0).
constexpr double kHsvHalfBlue = 0.9647031631761764;

void expectRGB(const at::Tensor &out, int64_t y, int64_t x, double r, double g, double b) {
  EXPECT_NEAR(out[0][y][x].item<double>(), r, 1e-6) << "red at " << y << "," << x;
  EXPECT_NEAR(out[1][y][x].item<double>(), g, 1e-6) << "green at " << y << "," << x;
  EXPECT_NEAR(out[2][y][x].item<double>(), b, 1e-6) << "blue at " << y << "," << x;
}

TEST(Colormap, MatchesMatplotlibValues) {
  at::Tensor v = at::tensor({0.0, 0.5, 1.0, -0.2, 1.7});
  at::Tensor rgba = V::apply_colormap(v, "hsv");
  ASSERT_EQ(rgba.sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_NEAR(rgba[1][0].item<double>(), 0.0, 1e-7);
  EXPECT_NEAR(rgba[1][1].item<double>(), 1.0, 1e-7);
  EXPECT_NEAR(rgba[1][2].item<double>(), kHsvHalfBlue, 1e-7);
  EXPECT_NEAR(rgba[2][2].item<double>(), 0.09375, 1e-7);
  EXPECT_NEAR(rgba[0][0].item<double>(), 1.0, 1e-7);
  // Under and over take the end colours.
  EXPECT_TRUE(at::equal(rgba[3], rgba[0]));
  EXPECT_TRUE(at::equal(rgba[4], rgba[2]));
  // gray: 256 levels, value 0.5 -> entry 128 = 128 / 255.
  at::Tensor g = V::apply_colormap(at::tensor({0.5}), "gray");
  EXPECT_NEAR(g[0][0].item<double>(), 128.0 / 255.0, 1e-7);
  // NaN -> (0, 0, 0, 0)
  at::Tensor n = V::apply_colormap(at::tensor({std::nan("")}), "jet");
  EXPECT_EQ(n.abs().sum().item<double>(), 0.0);
  // jet(0) = (0, 0, 0.5)
  at::Tensor j = V::apply_colormap(at::tensor({0.0}), "jet");
  EXPECT_NEAR(j[0][2].item<double>(), 0.5, 1e-7);
  EXPECT_THROW(V::apply_colormap(v, "viridis"), med::Error);
}

TEST(BlendImages, HandComputedPixels) {
  at::Tensor image = at::tensor({0.0, 1.0, 2.0, 4.0}).reshape({1, 2, 2}); // -> 0, .25, .5, 1
  at::Tensor label = at::tensor({0.0, 1.0, 2.0, 0.0}).reshape({1, 2, 2}); // -> 0, .5, 1, 0
  at::Tensor out = V::blend_images(image, label, 0.5, "hsv");
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  expectRGB(out, 0, 0, 0.0, 0.0, 0.0); // background keeps the image
  expectRGB(out, 1, 1, 1.0, 1.0, 1.0); // background keeps the image
  expectRGB(out, 0, 1, 0.125, 0.125 + 0.5, 0.125 + 0.5 * kHsvHalfBlue);
  expectRGB(out, 1, 0, 0.25 + 0.5, 0.25, 0.25 + 0.5 * 0.09375);

  // Opaque background: label 0 takes hsv(0) = red.
  at::Tensor opaque = V::blend_images(image, label, 0.5, "hsv", true, false);
  expectRGB(opaque, 0, 0, 0.5, 0.0, 0.0);
  expectRGB(opaque, 1, 1, 1.0, 0.5, 0.5);

  // Per-voxel alpha.
  at::Tensor alpha = at::tensor({1.0, 1.0, 0.0, 1.0}).reshape({2, 2});
  at::Tensor a = V::blend_images(image, label, alpha, "hsv");
  expectRGB(a, 0, 1, 0.0, 1.0, kHsvHalfBlue);
  expectRGB(a, 1, 0, 0.5, 0.5, 0.5);
}

TEST(BlendImages, RgbImage3DAndNoRescale) {
  // 3-channel 3-D image, no rescaling: values used as given, label 1.0 -> hsv(1.0).
  at::Tensor image = at::full({3, 2, 2, 2}, 0.2);
  image[1].fill_(0.4);
  at::Tensor label = at::zeros({1, 2, 2, 2});
  label[0][1][0][1] = 1.0;
  at::Tensor out = V::blend_images(image, label, 0.25, "hsv", false);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 2, 2, 2}));
  EXPECT_NEAR(out[0][0][0][0].item<double>(), 0.2, 1e-6);
  EXPECT_NEAR(out[1][0][0][0].item<double>(), 0.4, 1e-6);
  EXPECT_NEAR(out[0][1][0][1].item<double>(), 0.75 * 0.2 + 0.25 * 1.0, 1e-6);
  EXPECT_NEAR(out[1][1][0][1].item<double>(), 0.75 * 0.4, 1e-6);
  EXPECT_NEAR(out[2][1][0][1].item<double>(), 0.75 * 0.2 + 0.25 * 0.09375, 1e-6);
}

TEST(BlendImages, BadInputsNameTheParameter) {
  at::Tensor img = at::zeros({1, 4, 4});
  try {
    V::blend_images(img, at::zeros({2, 4, 4}));
    FAIL();
  } catch (const med::Error &e) {
    EXPECT_EQ(e.where(), "blend_images.label");
  }
  try {
    V::blend_images(at::zeros({2, 4, 4}), at::zeros({1, 4, 4}));
    FAIL();
  } catch (const med::Error &e) {
    EXPECT_EQ(e.where(), "blend_images.image");
  }
  EXPECT_THROW(V::blend_images(img, at::zeros({1, 4, 5})), med::Error);
  EXPECT_THROW(V::blend_images(img, at::zeros({1, 4, 4}), 1.5), med::Error);
  EXPECT_THROW(V::blend_images(img, at::zeros({1, 4, 4}), at::zeros({3, 3})), med::Error);
}

} // namespace
