// Bicubic (2-D) compiled: med.resample mode "bicubic" against grid_sample's and interpolate's
// bicubic, through Affine, Rotate, RandAffine, Rand2DElastic, Resize and Zoom.
#include <gtest/gtest.h>

#include "compiled_util.h"
#include "med/transforms/inverse.h"
#include "med/transforms/resample_random.h"

namespace {

void expectOneBicubicKernel(const T::Compose &chain, const std::string &what) {
  const std::vector<std::string> ir = chain.compile().ir(at::kFloat, "", 2);
  ASSERT_EQ(ir.size(), 1u) << what;
  EXPECT_NE(ir[0].find("\"bicubic\""), std::string::npos) << what;
}

// grid_sample's bicubic: the padding maps each of the 16 taps (zeros: 0 outside), mirrored at
// the image's edges or, with align_corners, at the outer voxel centres.
TEST(CompiledBicubic, AffineMatchesGridSampleForEachPadding) {
  const med::MetaTensor img = smooth({2, 17, 13}, 31);
  for (const std::string padding : {"zeros", "border", "reflection"})
    for (bool align : {false, true}) {
      const std::string what = padding + (align ? " align_corners" : "");
      // A scale of 1.6 reaches well past the edges, so the taps mirror and clamp.
      T::Compose chain({T::Affine(T::AffineOptions()
                                      .rotate_params({0.4})
                                      .scale_params({1.6, 1.3})
                                      .translate_params({1.5, -2.0})
                                      .mode("bicubic")
                                      .padding_mode(padding)
                                      .align_corners(align))});
      expectOneBicubicKernel(chain, what);
      expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 2e-5, what);
    }
  // Integer shifts land on the grid: the weights are (0, 1, 0, 0), so the compiled result is
  // the shifted image exactly (eager's float32 grid lands within rounding of the grid).
  T::Compose shift({T::Affine(
      T::AffineOptions().translate_params({2, -3}).mode("bicubic").padding_mode("zeros"))});
  const med::MetaTensor small = smooth({1, 9, 8}, 32);
  expectCompiledEqualsEager(shift, small, {0, 0, 0, 0}, 1e-6, "shift");
  const at::Tensor out = shift.compile().run(small, {0, 0, 0, 0}).data;
  // Output voxel o reads input voxel o + (2, -3); the rest is zeros padding.
  EXPECT_TRUE(
      at::equal(out.slice(1, 0, 7).slice(2, 3, 8), small.data.slice(1, 2, 9).slice(2, 0, 5)));
  EXPECT_TRUE(at::equal(out.slice(1, 7, 9), at::zeros({1, 2, 8})));
}

TEST(CompiledBicubic, RandomTransformsMatchEager) {
  const med::MetaTensor img = smooth({1, 21, 18}, 33);
  for (uint64_t s = 0; s < 3; ++s) {
    T::Compose affine({T::RandAffine(T::RandAffineOptions()
                                         .prob(1.0)
                                         .rotate_range({0.5})
                                         .scale_range({0.2})
                                         .mode("bicubic")
                                         .padding_mode("reflection"))});
    expectCompiledEqualsEager(affine, img, {7, 0, s, 0}, 2e-5, "RandAffine " + std::to_string(s));
    T::Compose rotate({T::RandRotate(
        T::RandRotateOptions().range_x(0.6).prob(1.0).mode("bicubic").padding_mode("zeros"))});
    expectCompiledEqualsEager(rotate, img, {7, 0, s, 0}, 2e-5, "RandRotate " + std::to_string(s));
    T::Compose elastic({T::Rand2DElastic(T::Rand2DElasticOptions({4.0, 3.0}, {1.0, 2.0})
                                             .prob(1.0)
                                             .mode("bicubic")
                                             .padding_mode("border"))});
    expectCompiledEqualsEager(elastic, img, {7, 0, s, 0}, 2e-5,
                              "Rand2DElastic " + std::to_string(s));
  }
}

// interpolate's bicubic: the source index scale (o + 0.5) - 0.5 unclamped (or o (in - 1) /
// (out - 1) with align_corners), taps clamped into the image: mode "bicubic", padding "border".
TEST(CompiledBicubic, ResizeAndZoomMatchInterpolate) {
  const med::MetaTensor img = smooth({2, 13, 10}, 34);
  for (bool align : {false, true})
    for (std::vector<int64_t> size : {std::vector<int64_t>{29, 17}, {6, 7}, {13, 21}}) {
      const std::string what =
          std::to_string(size[0]) + "x" + std::to_string(size[1]) + (align ? " align_corners" : "");
      T::Compose resize({T::Resize(T::ResizeOptions(size).mode("bicubic").align_corners(align))});
      expectOneBicubicKernel(resize, what);
      expectCompiledEqualsEager(resize, img, {0, 0, 0, 0}, 2e-5, what);
      const med::MetaTensor back = T::inverse(resize.compile().run(img, {0, 0, 0, 0}));
      EXPECT_EQ(back.data.sizes(), img.data.sizes()) << what;
    }
  // Zoom: in (the keep_size crop is a shift of the map) and out (padded back with the edge or
  // zeros: the bounded resample).
  for (double z : {1.4, 0.7})
    for (const std::string pad : {"edge", "constant"}) {
      const std::string what = "zoom " + std::to_string(z) + " " + pad;
      T::Compose zoom({T::Zoom(T::ZoomOptions({z, z}).mode("bicubic").padding_mode(pad))});
      expectOneBicubicKernel(zoom, what);
      expectCompiledEqualsEager(zoom, img, {0, 0, 0, 0}, 2e-5, what);
    }
  // uint8 and float64 images: interpolated in float32 (float64 kept by Resize), cast back.
  med::MetaTensor labels = img;
  labels.data = (img.data * 200).to(at::kByte);
  T::Compose up({T::Resize(T::ResizeOptions({20, 15}).mode("bicubic"))});
  expectCompiledEqualsEager(up, labels, {0, 0, 0, 0}, 1.0, "uint8");
  med::MetaTensor wide = img;
  wide.data = img.data.to(at::kDouble);
  expectCompiledEqualsEager(up, wide, {0, 0, 0, 0}, 1e-6, "float64");
}

// Spacing and SpatialResample: MONAI's grid in float64, the compiled map's weights in float32
// for float32 images (as bilinear Spacing).
TEST(CompiledBicubic, SpacingAndSpatialResampleMatchEager) {
  med::MetaTensor img = smooth({2, 15, 12}, 36);
  for (const std::string padding : {"zeros", "border", "reflection"}) {
    T::Compose spacing({T::Spacing(
        T::SpacingOptions({0.7, 1.6}).mode("bicubic").padding_mode(padding).diagonal(true))});
    expectOneBicubicKernel(spacing, padding);
    expectCompiledEqualsEager(spacing, img, {0, 0, 0, 0}, 2e-5, "Spacing " + padding);
  }
  T::Compose aligned({T::Spacing(
      T::SpacingOptions({1.3, 0.8}).mode("bicubic").padding_mode("border").align_corners(true))});
  expectCompiledEqualsEager(aligned, img, {0, 0, 0, 0}, 2e-5, "Spacing align_corners");
  // A target affine that rotates in the image plane and reaches past the input.
  const std::vector<double> dst = {1.1, 0.3, 0, -19, -0.2, 0.9, 0, 14, 0, 0, 1, 0, 0, 0, 0, 1};
  T::Compose resample({T::SpatialResample(
      T::SpatialResampleOptions().dst_affine(dst).mode("bicubic").padding_mode("zeros"))});
  expectOneBicubicKernel(resample, "SpatialResample");
  expectCompiledEqualsEager(resample, img, {0, 0, 0, 0}, 2e-5, "SpatialResample");
}

// grid_sample has no 3-D bicubic: compiled, the trace refuses it with eager's message.
TEST(CompiledBicubic, ThreeDimensionsFailAsEager) {
  T::Compose chain({T::RandAffine(
      T::RandAffineOptions().prob(1.0).rotate_range({0.1}).mode("bicubic").padding_mode("zeros"))});
  const med::MetaTensor img = smooth({1, 8, 7, 6}, 35);
  expectError(
      [&] {
        chain.compile().run(img, {0, 0, 0, 0});
      },
      {"RandAffine.mode", "bicubic", "2 spatial axes"});
  T::Compose resize({T::Resize(T::ResizeOptions({5, 5, 5}).mode("bicubic"))});
  expectError([&] { resize.compile().run(img, {0, 0, 0, 0}); }, {"Resize.mode", "bicubic"});
}

} // namespace
