// The compiled spatial path: Affine, RandAffine, Rotate, Flip, RandFlip and Rotate90 traced to
// med.resample, fused with the intensity ops around them, against their eager ATen references
// (grid_sample, flip). The crops, pads and runs of copies are in compiled_copies_test.cpp.
#include "compiled_util.h"
#include "med/runtime/meta.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/inverse.h"
#include "med/transforms/resample.h"
#include "med/transforms/resample_random.h"
#include "med/transforms/spatial.h"
#include "med/transforms/spatial_random.h"

#include <cmath>
#include <limits>
#include <set>

namespace {

TEST(CompiledResample, AffineBilinearMatchesGridSample) {
  for (const char *padding : {"zeros", "border"})
    for (auto shape : {std::vector<int64_t>{1, 13, 11, 9}, std::vector<int64_t>{2, 17, 12, 7}}) {
      med::MetaTensor img = smooth(shape, 3);
      T::Compose chain({T::Affine(rotScale().padding_mode(padding))});
      expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, std::string("3D ") + padding);
    }
  // 2D, an output size different from the input, shear.
  med::MetaTensor img = smooth({2, 19, 15}, 4);
  T::Compose chain({T::Affine(T::AffineOptions()
                                  .rotate_params({0.4})
                                  .shear_params({0.1, -0.2})
                                  .spatial_size({12, 21})
                                  .padding_mode("zeros"))});
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, "2D sheared, resized");
}

// Axes of one and two voxels: the gather reads each voxel's corners at fixed offsets from one
// base (clamped to size - 2), so these are the axes where the base and the neighbours differ
// most; a translation moves positions across both borders. On a one-voxel axis eager (MONAI)
// samples Affine at half the mapped position, Rotate at the position, both at 0 with
// align_corners.
TEST(CompiledResample, BilinearOnOneAndTwoVoxelAxes) {
  for (auto shape : {std::vector<int64_t>{1, 1, 6, 5}, std::vector<int64_t>{2, 2, 5, 1},
                     std::vector<int64_t>{1, 2, 2, 2}, std::vector<int64_t>{1, 1, 7}})
    for (const char *padding : {"zeros", "border"}) {
      const size_t dims = shape.size() - 1;
      T::AffineOptions o = T::AffineOptions()
                               .translate_params(std::vector<double>(dims, 0.3))
                               .scale_params(std::vector<double>(dims, 1.2))
                               .padding_mode(padding);
      o = dims == 3 ? o.rotate_params({0.1, 0.2, -0.3}) : o.rotate_params({0.35});
      const std::string what =
          std::to_string(shape[1]) + "x" + std::to_string(shape[2]) + " " + padding;
      for (bool align : {false, true}) {
        const std::string how = what + (align ? " align_corners" : "");
        T::Compose chain({T::Affine(o.align_corners(align))});
        expectCompiledEqualsEager(chain, smooth(shape, 7), {0, 0, 0, 0}, 1e-5, how);
        T::Compose rotate(
            {T::Rotate(T::RotateOptions({0.3}).padding_mode(padding).align_corners(align))});
        expectCompiledEqualsEager(rotate, smooth(shape, 8), {0, 0, 0, 0}, 1e-5, how + " Rotate");
      }
    }
}

TEST(CompiledResample, NearestOnIntegerMapsIsExact) {
  // An integer translation and a mirror through the affine matrix: every position is a grid
  // point, so nearest is a copy and must agree exactly, zeros outside.
  med::MetaTensor img = volume({1, 8, 7, 6});
  T::Compose shift({T::Affine(
      T::AffineOptions().translate_params({2, -1, 3}).mode("nearest").padding_mode("zeros"))});
  expectCompiledEqualsEager(shift, img, {0, 0, 0, 0}, 0.0, "integer shift");
  T::Compose mirror({T::Affine(T::AffineOptions()
                                   .affine({-1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1})
                                   .mode("nearest")
                                   .padding_mode("border"))});
  expectCompiledEqualsEager(mirror, img, {0, 0, 0, 0}, 0.0, "mirror");
}

TEST(CompiledResample, FlipIsACopyThatKeepsTheType) {
  at::Tensor labels = at::randint(0, 5, {2, 6, 5, 4}, at::kShort);
  med::MetaTensor img = volume({2, 6, 5, 4});
  img.data = labels;
  for (auto axes : {std::vector<int64_t>{0}, std::vector<int64_t>{1, 2}, std::vector<int64_t>{}}) {
    T::Compose chain({T::Flip(T::FlipOptions(axes))});
    expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0, "Flip");
    EXPECT_EQ(chain.compile().run(img, {0, 0, 0, 0}).data.scalar_type(), at::kShort);
  }
  T::Compose all({T::Flip(T::FlipOptions())});
  expectCompiledEqualsEager(all, img, {0, 0, 0, 0}, 0.0, "Flip all axes");
}

TEST(CompiledResample, IntensityOpsFuseAroundTheResample) {
  med::MetaTensor img = smooth({1, 12, 10, 8}, 5);
  img.data = img.data * 2000.0 - 1000.0;
  T::Compose chain(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::Affine(rotScale()), T::ShiftIntensity(T::ShiftIntensityOptions(0.25)),
       T::Flip(T::FlipOptions({1})), T::ThresholdIntensity(T::ThresholdIntensityOptions(0.5))});
  // ScaleIntensityRange on its own (a trilinear gather would evaluate it at each of 8
  // corners), the resample with its epilogue, and the second resample with its own.
  EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 3u);
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 2e-5, "fused chain");
  EXPECT_EQ(chain.compile(T::Schedule::cpu().fuse(false)).ir(at::kFloat).size(), 5u);
}

TEST(CompiledResample, AugmentationChainEqualsEagerAcrossKeysAndThreads) {
  med::MetaTensor img = smooth({1, 14, 12, 10}, 6);
  img.data = img.data * 2000.0 - 1000.0;
  T::Compose chain(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::RandAffine(T::RandAffineOptions()
                         .prob(0.8)
                         .rotate_range({0.26, 0.26, 0.26})
                         .scale_range({0.1, 0.1, 0.1})
                         .padding_mode("zeros")),
       T::RandGaussianNoise(T::RandGaussianNoiseOptions().prob(1.0).std(0.1)),
       T::RandAdjustContrast(T::RandAdjustContrastOptions().prob(1.0).gamma({0.7, 1.5})),
       T::RandFlip(T::RandFlipOptions(0).prob(0.5))});
  // Kernels: ScaleIntensityRange (not a prologue of the trilinear gather), RandAffine alone
  // (a heavy op after an interpolating gather gets its own pass), the noise, then (after the
  // min/max split) RandFlip, a copy, with RandAdjustContrast as its prologue.
  std::vector<std::string> ir = chain.compile().ir(at::kFloat);
  ASSERT_EQ(ir.size(), 4u);
  EXPECT_NE(ir[1].find("med.resample"), std::string::npos) << ir[1];
  EXPECT_EQ(ir[1].find("med.gaussian_noise"), std::string::npos) << ir[1];
  EXPECT_NE(ir[2].find("med.gaussian_noise"), std::string::npos) << ir[2];
  EXPECT_NE(ir[3].find("med.adjust_contrast"), std::string::npos) << ir[3];
  EXPECT_NE(ir[3].find("med.resample"), std::string::npos) << ir[3];
  for (uint64_t s = 0; s < 6; ++s)
    expectCompiledEqualsEager(chain, img, {7, 1, s, 0}, 1e-4, "sample " + std::to_string(s));
  // Bitwise reproducible across thread counts, and batched equals one at a time.
  auto one = chain.compile(T::Schedule::cpu().threads(1));
  auto two = chain.compile(T::Schedule::cpu().threads(2));
  std::vector<med::MetaTensor> imgs;
  std::vector<med::rt::RandomKey> keys;
  for (uint64_t s = 0; s < 4; ++s) {
    imgs.push_back(img);
    keys.push_back({7, 1, s, 0});
  }
  std::vector<med::MetaTensor> batch = two.runBatch(imgs, keys);
  for (uint64_t s = 0; s < 4; ++s) {
    med::MetaTensor a = one.run(img, keys[s]);
    EXPECT_TRUE(at::equal(a.data, two.run(img, keys[s]).data)) << s;
    EXPECT_TRUE(at::equal(a.data, batch[s].data)) << s;
    EXPECT_LT(med::rt::maxAbsDiff(a.meta.affine, batch[s].meta.affine), 1e-12);
  }
}

TEST(CompiledResample, ANonFiringRandAffineReturnsTheInputExactly) {
  // MONAI does not resample when the transform does not fire: NaN and Inf stay where they are
  // and do not leak into neighbours through zero-weight corners.
  med::MetaTensor img = smooth({1, 6, 5, 4}, 7);
  img.data[0][2][2][2] = std::numeric_limits<float>::quiet_NaN();
  img.data[0][3][1][0] = std::numeric_limits<float>::infinity();
  T::Compose chain(
      {T::RandAffine(T::RandAffineOptions().prob(0.0).rotate_range({0.3}).padding_mode("zeros"))});
  ASSERT_EQ(chain.compile().ir(at::kFloat).size(), 1u); // the kernel path, not the host one
  med::MetaTensor out = chain.compile().run(img, {1, 0, 0, 0});
  EXPECT_TRUE(at::equal(out.data.isnan(), img.data.isnan()));
  EXPECT_TRUE(at::equal(at::nan_to_num(out.data, 0.0), at::nan_to_num(img.data, 0.0)));
  ASSERT_EQ(out.meta.applied_operations.size(), 1u);
  EXPECT_EQ(out.meta.applied_operations[0].name, "Affine");
}

TEST(CompiledResample, InverseUndoesCompiledSpatialOps) {
  med::MetaTensor img = volume({1, 9, 8, 7});
  T::Compose chain(
      {T::Flip(T::FlipOptions({0, 2})),
       T::Affine(
           T::AffineOptions().translate_params({2, 0, -1}).mode("nearest").padding_mode("zeros"))});
  med::MetaTensor out = chain.compile().run(img, {0, 0, 0, 0});
  med::MetaTensor back = T::inverseAll(out);
  ASSERT_EQ(back.data.sizes(), img.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
}

TEST(CompiledResample, RotateAndRotate90MatchEager) {
  med::MetaTensor img = smooth({2, 13, 11, 9}, 9);
  expectCompiledEqualsEager(T::Compose({T::Rotate(T::RotateOptions({0.3, -0.2, 0.1}))}), img,
                            {0, 0, 0, 0}, 1e-5, "Rotate border");
  expectCompiledEqualsEager(
      T::Compose({T::Rotate(T::RotateOptions({0.5}).keep_size(false).padding_mode("zeros"))}),
      smooth({1, 15, 10}, 10), {0, 0, 0, 0}, 1e-5, "Rotate 2D grown");
  for (int64_t k : {1, 2, 3})
    expectCompiledEqualsEager(T::Compose({T::Rotate90(T::Rotate90Options(k, {0, 2}))}), img,
                              {0, 0, 0, 0}, 0.0, "Rotate90 k=" + std::to_string(k));
}

TEST(CompiledResample, RandomCopiesChangeShapesPerSample) {
  // RandRotate90 changes the shape with its draw; a batch holds samples of both shapes.
  med::MetaTensor img = volume({1, 7, 5, 4});
  T::Compose chain(
      {T::RandRotate90(T::RandRotate90Options().prob(0.9)),
       T::RandAxisFlip(T::RandAxisFlipOptions(0.7)),
       T::RandRotate(T::RandRotateOptions().range_x(0.3).prob(0.7).padding_mode("zeros")),
       T::ShiftIntensity(T::ShiftIntensityOptions(1.0))});
  std::vector<med::MetaTensor> imgs;
  std::vector<med::rt::RandomKey> keys;
  std::set<std::vector<int64_t>> shapes;
  for (uint64_t s = 0; s < 8; ++s) {
    expectCompiledEqualsEager(chain, img, {3, 0, s, 0}, 1e-3, "sample " + std::to_string(s));
    imgs.push_back(img);
    keys.push_back({3, 0, s, 0});
  }
  std::vector<med::MetaTensor> batch =
      chain.compile(T::Schedule::cpu().threads(2)).runBatch(imgs, keys);
  for (uint64_t s = 0; s < 8; ++s) {
    med::MetaTensor one = chain.compile().run(img, keys[s]);
    EXPECT_TRUE(at::equal(one.data, batch[s].data)) << s;
    shapes.insert(std::vector<int64_t>(one.data.sizes().begin(), one.data.sizes().end()));
  }
  EXPECT_GT(shapes.size(), 1u);
}

// Reflection, MONAI's default for Affine and RandAffine: scales of 2.5-3.1 put positions more
// than a whole input beyond each edge, so they are mirrored more than once; grid_sample mirrors
// them in float32, the kernel in f64.
TEST(CompiledResample, ReflectionMatchesGridSample) {
  for (auto shape : {std::vector<int64_t>{1, 13, 11, 9}, std::vector<int64_t>{2, 17, 12, 7}}) {
    T::Compose chain({T::Affine(T::AffineOptions()
                                    .rotate_params({0.3, -0.2, 0.4})
                                    .scale_params({2.6, 0.45, 3.1})
                                    .translate_params({7.5, -9.25, 4.0})
                                    .padding_mode("reflection"))});
    EXPECT_FALSE(chain.compile().ir(at::kFloat).empty());
    expectCompiledEqualsEager(chain, smooth(shape, 11), {0, 0, 0, 0}, 1e-5,
                              "3D reflection " + std::to_string(shape[0]) + " channels");
  }
  T::Compose flat({T::Affine(T::AffineOptions()
                                 .rotate_params({0.4})
                                 .scale_params({2.5, 0.5})
                                 .spatial_size({12, 21})
                                 .padding_mode("reflection"))});
  expectCompiledEqualsEager(flat, smooth({2, 19, 15}, 12), {0, 0, 0, 0}, 1e-5, "2D reflection");
  // One- and two-voxel axes: every position of a one-voxel axis mirrors onto its voxel.
  for (auto shape : {std::vector<int64_t>{1, 1, 6, 5}, std::vector<int64_t>{1, 2, 5, 1}}) {
    T::Compose thin({T::Affine(T::AffineOptions()
                                   .rotate_params({0.1, 0.2, -0.3})
                                   .scale_params({2.2, 2.2, 2.2})
                                   .translate_params({0.3, 0.3, 0.3})
                                   .padding_mode("reflection"))});
    expectCompiledEqualsEager(thin, smooth(shape, 13), {0, 0, 0, 0}, 1e-5,
                              "reflection " + std::to_string(shape[1]) + "x" +
                                  std::to_string(shape[2]) + "x" + std::to_string(shape[3]));
  }
  // Nearest on integer shifts larger than the image: mirrored grid points, so exact.
  T::Compose shift({T::Affine(T::AffineOptions()
                                  .translate_params({9, -8, 13})
                                  .mode("nearest")
                                  .padding_mode("reflection"))});
  expectCompiledEqualsEager(shift, volume({1, 8, 7, 6}), {0, 0, 0, 0}, 0.0, "nearest shift");
}

TEST(CompiledResample, RandAffineWithItsDefaultReflectionCompiles) {
  T::Compose chain({T::RandAffine(T::RandAffineOptions()
                                      .prob(1.0)
                                      .rotate_range({0.4, 0.4, 0.4})
                                      .scale_range({0.3, 0.3, 0.3})
                                      .translate_range({4, 4, 4}))});
  EXPECT_FALSE(chain.compile().ir(at::kFloat).empty());
  med::MetaTensor img = smooth({1, 15, 13, 11}, 14);
  for (uint64_t sample = 0; sample < 4; ++sample)
    expectCompiledEqualsEager(chain, img, {0, 0, sample, 0}, 1e-5,
                              "RandAffine sample " + std::to_string(sample));
}

// Reflection with align_corners: grid_sample mirrors at the outer voxel centres (0 and
// size - 1) instead of the edges, so a position 0.3 past the last centre reads size - 1.3.
// Scales of 2.4-3.2 mirror positions more than once; one-voxel axes map every position to their
// voxel; 2-D; RandRotate's align_corners; nearest on mirrored grid points is exact.
TEST(CompiledResample, ReflectionWithAlignCornersMatchesGridSample) {
  auto scaled = [](std::vector<double> scale, std::vector<double> rotate) {
    return T::AffineOptions()
        .rotate_params(std::move(rotate))
        .scale_params(std::move(scale))
        .translate_params({3.5, -6.25, 2.0})
        .padding_mode("reflection")
        .align_corners(true);
  };
  for (auto shape : {std::vector<int64_t>{1, 13, 11, 9}, std::vector<int64_t>{2, 17, 12, 7},
                     std::vector<int64_t>{1, 1, 6, 5}, std::vector<int64_t>{1, 2, 5, 1}}) {
    T::Compose chain({T::Affine(scaled({2.6, 0.45, 3.2}, {0.3, -0.2, 0.4}))});
    EXPECT_NE(chain.compile().ir(at::kFloat).at(0).find("reflection_corners"), std::string::npos);
    expectCompiledEqualsEager(chain, smooth(shape, 15), {0, 0, 0, 0}, 1e-5,
                              "3D reflection align_corners " + std::to_string(shape[1]) + "x" +
                                  std::to_string(shape[2]) + "x" + std::to_string(shape[3]));
  }
  T::Compose flat({T::Affine(scaled({2.4, 0.5}, {0.4}).translate_params({-7.0, 5.5}))});
  expectCompiledEqualsEager(flat, smooth({2, 19, 15}, 16), {0, 0, 0, 0}, 1e-5,
                            "2D reflection align_corners");
  T::Compose rotate({T::RandRotate(T::RandRotateOptions()
                                       .range_x(0.5)
                                       .range_y(0.5)
                                       .range_z(0.5)
                                       .prob(1.0)
                                       .padding_mode("reflection")
                                       .align_corners(true)
                                       .keep_size(false))});
  for (uint64_t sample = 0; sample < 3; ++sample)
    expectCompiledEqualsEager(rotate, smooth({1, 12, 10, 8}, 17), {0, 0, sample, 0}, 1e-5,
                              "RandRotate align_corners sample " + std::to_string(sample));
  T::Compose shift({T::Affine(T::AffineOptions()
                                  .translate_params({9, -8, 13})
                                  .mode("nearest")
                                  .padding_mode("reflection")
                                  .align_corners(true))});
  expectCompiledEqualsEager(shift, volume({1, 8, 7, 6}), {0, 0, 0, 0}, 0.0,
                            "nearest shift align_corners");
}

TEST(CompiledResample, UnsupportedModesRunEagerly) {
  // Spacing does not compile nearest (MONAI's x.5 ties): it runs on the host and the pipeline
  // still equals eager.
  T::Compose nearest({T::Spacing(T::SpacingOptions({0.7, 1.3}).mode("nearest"))});
  EXPECT_TRUE(nearest.compile().ir(at::kFloat, "", 2).empty());
  expectCompiledEqualsEager(nearest, smooth({1, 9, 8}, 9), {0, 0, 0, 0}, 0.0, "nearest 2D");
}

} // namespace
