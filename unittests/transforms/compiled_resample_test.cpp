// The compiled spatial path: Affine, RandAffine, Flip, RandFlip and the crops and pads traced to
// med.resample, fused with the intensity ops around them, against their eager ATen references
// (grid_sample, flip, narrow and pad).
#include "med/runtime/meta.h"
#include "med/transforms/compose.h"
#include "med/transforms/croppad.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/inverse.h"
#include "med/transforms/resample.h"
#include "med/transforms/resample_random.h"
#include "med/transforms/spatial.h"
#include "med/transforms/spatial_random.h"
#include "test_util.h"

#include <cmath>
#include <limits>
#include <set>

namespace {

// A smooth random image: values in [0, 1] varying gently between neighbours, so that the
// rounding differences between grid_sample's float32 positions and the kernel's f64 positions
// stay far below the tolerance.
med::MetaTensor smooth(std::vector<int64_t> shape, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::rand(shape, at::kFloat);
  // A few passes of a box filter along each spatial axis.
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t d = 1; d < x.dim(); ++d)
      x = (x + x.roll(1, d) + x.roll(-1, d)) / 3.0;
  med::MetaTensor img = volume(shape);
  img.data = x.contiguous();
  return img;
}

void expectClose(const med::MetaTensor &out, const med::MetaTensor &ref, double atol,
                 const std::string &what) {
  ASSERT_EQ(out.data.sizes(), ref.data.sizes()) << what;
  EXPECT_EQ(out.data.scalar_type(), ref.data.scalar_type()) << what;
  const double diff =
      out.data.numel() == 0
          ? 0.0
          : (out.data.to(at::kDouble) - ref.data.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(diff, atol) << what;
  EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, ref.meta.affine), 1e-9) << what;
  ASSERT_EQ(out.meta.applied_operations.size(), ref.meta.applied_operations.size()) << what;
  for (size_t i = 0; i < out.meta.applied_operations.size(); ++i) {
    const auto &a = out.meta.applied_operations[i], &b = ref.meta.applied_operations[i];
    EXPECT_EQ(a.name, b.name) << what;
    EXPECT_EQ(a.orig_size, b.orig_size) << what;
    ASSERT_EQ(a.params.size(), b.params.size()) << what;
    for (size_t k = 0; k < a.params.size(); ++k)
      EXPECT_NEAR(a.params[k].second, b.params[k].second, 1e-6) << what << " " << a.params[k].first;
  }
}

// Compiled (fused and unfused, 1 and 2 threads) against eager for one pipeline and key.
void expectCompiledEqualsEager(const T::Compose &chain, const med::MetaTensor &img,
                               const med::rt::RandomKey &key, double atol,
                               const std::string &what) {
  const med::MetaTensor ref = chain.eager(img, key);
  for (bool fuse : {true, false})
    for (int threads : {1, 2}) {
      auto pipeline = chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
      expectClose(pipeline.run(img, key), ref, atol,
                  what + (fuse ? " fused" : " unfused") + " threads=" + std::to_string(threads));
    }
}

T::AffineOptions rotScale() {
  return T::AffineOptions()
      .rotate_params({0.2, -0.1, 0.3})
      .scale_params({1.1, 0.9, 1.05})
      .translate_params({1.5, -2.0, 0.5})
      .padding_mode("zeros");
}

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
  // Prologue + resample + epilogue in one kernel; the second resample starts the next one.
  EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 2u);
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
  // Kernels: ScaleIntensityRange + RandAffine (a cheap prologue), the noise on its own (heavy
  // per-voxel math stays out of gathers), RandAdjustContrast after its min/max, RandFlip.
  EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 4u);
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

TEST(CompiledResample, UnsupportedModesRunEagerly) {
  // Reflection padding and bicubic have no med lowering: the transform runs on the host and
  // the pipeline still equals eager.
  med::MetaTensor img = smooth({1, 9, 8, 7}, 8);
  T::Compose chain({T::Affine(rotScale().padding_mode("reflection"))});
  EXPECT_TRUE(chain.compile().ir(at::kFloat).empty());
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0, "reflection");
}

TEST(CompiledCropPad, CropsAndPadsAreCopiesFusedWithTheirNeighbours) {
  med::MetaTensor img = smooth({1, 12, 10, 8}, 9);
  img.data = img.data * 2000.0 - 1000.0;
  T::Compose chain(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::CenterSpatialCrop(T::CenterSpatialCropOptions({8, -1, 5})),
       T::ShiftIntensity(T::ShiftIntensityOptions(0.25))});
  // Prologue + copy + epilogue in one kernel, where the crop used to end the fused region.
  EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 1u);
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-6, "crop between intensity ops");
}

TEST(CompiledCropPad, EveryCropAndPadMatchesEagerExactly) {
  std::vector<std::pair<std::string, T::Step>> steps = {
      {"SpatialCrop center", T::SpatialCrop(T::SpatialCropOptions().roi_center({2, 4}).roi_size(
                                 {6, 3}))}, // shifted inwards at the lower border
      {"SpatialCrop box", T::SpatialCrop(T::SpatialCropOptions().roi_start({1}).roi_end({40}))},
      {"CenterSpatialCrop", T::CenterSpatialCrop(T::CenterSpatialCropOptions({5}))},
      {"SpatialPad zeros", T::SpatialPad(T::SpatialPadOptions({13, 6, 9}))},
      {"SpatialPad end edge",
       T::SpatialPad(T::SpatialPadOptions({12}).method("end").mode("replicate"))},
      {"BorderPad", T::BorderPad(T::BorderPadOptions({2}).mode("edge"))},
      {"DivisiblePad", T::DivisiblePad(T::DivisiblePadOptions({4}))},
      {"ResizeWithPadOrCrop", T::ResizeWithPadOrCrop(T::ResizeWithPadOrCropOptions({5, 11, 3}))},
  };
  for (auto shape : {std::vector<int64_t>{2, 9, 7, 6}, std::vector<int64_t>{1, 10, 5}})
    for (at::ScalarType dt : {at::kShort, at::kFloat})
      for (const auto &[what, step] : steps) {
        const bool threeD = shape.size() == 4;
        if (!threeD && what.rfind("SpatialPad zeros", 0) == 0)
          continue; // three sizes for two axes: refused, as MONAI
        if (!threeD && what == "ResizeWithPadOrCrop")
          continue;
        med::MetaTensor img = volume(shape);
        img.data = (at::rand(shape, at::kDouble) * 100 - 50).to(dt);
        T::Compose chain({step});
        ASSERT_EQ(chain.compile().ir(dt).size(), 1u) << what;
        expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0,
                                  what + " " + c10::toString(dt) + (threeD ? " 3D" : " 2D"));
      }
}

TEST(CompiledCropPad, OtherPadModesRunEagerlyAndInversesRestoreTheImage) {
  med::MetaTensor img = smooth({1, 9, 8, 7}, 10);
  for (T::SpatialPadOptions o : {T::SpatialPadOptions({12, 8, 9}).mode("reflect"),
                                 T::SpatialPadOptions({12, 8, 9}).value(5.0)}) {
    T::Compose chain({T::SpatialPad(o)});
    EXPECT_TRUE(chain.compile().ir(at::kFloat).empty());
    expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0, "host pad " + o.mode());
  }
  // Records written by the compiled copies undo like eager ones: shape and affine come back.
  T::Compose chain({T::SpatialPad(T::SpatialPadOptions({12, 10, 9})),
                    T::SpatialCrop(T::SpatialCropOptions().roi_start({1, 2, 0}).roi_end({9, 7, 5})),
                    T::ResizeWithPadOrCrop(T::ResizeWithPadOrCropOptions({10, 4, 6}))});
  med::MetaTensor out = chain.compile().run(img, {0, 0, 0, 0});
  med::MetaTensor back = T::inverseAll(out);
  ASSERT_EQ(back.data.sizes(), img.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
  // An empty axis (an end before the start) is an empty copy, as eager.
  T::Compose empty({T::SpatialCrop(T::SpatialCropOptions().roi_start({5}).roi_end({2}))});
  expectCompiledEqualsEager(empty, img, {0, 0, 0, 0}, 0.0, "empty crop");
}

TEST(CompiledCropPad, RandSpatialCropIsACopyWhoseShapeFollowsTheDraw) {
  med::MetaTensor img = volume({1, 12, 9, 7});
  for (T::RandSpatialCropOptions o :
       {T::RandSpatialCropOptions({5, 4, 3}),
        T::RandSpatialCropOptions({4}).max_roi_size({10}).random_size(true),
        T::RandSpatialCropOptions({6, -1, 20}).random_center(false)}) {
    T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(1.0)), T::RandSpatialCrop(o),
                      T::ScaleIntensity(T::ScaleIntensityOptions().minv({}).maxv({}).factor(0.5))});
    EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 1u);
    std::vector<med::MetaTensor> imgs;
    std::vector<med::rt::RandomKey> keys;
    std::set<std::vector<int64_t>> shapes;
    for (uint64_t s = 0; s < 6; ++s) {
      expectCompiledEqualsEager(chain, img, {4, 0, s, 0}, 0.0, "sample " + std::to_string(s));
      shapes.insert(chain.compile().run(img, {4, 0, s, 0}).data.sizes().vec());
      imgs.push_back(img);
      keys.push_back({4, 0, s, 0});
    }
    EXPECT_EQ(shapes.size() > 1, o.random_size());
    std::vector<med::MetaTensor> batch =
        chain.compile(T::Schedule::cpu().threads(2)).runBatch(imgs, keys);
    for (uint64_t s = 0; s < 6; ++s)
      EXPECT_TRUE(at::equal(chain.compile().run(img, keys[s]).data, batch[s].data)) << s;
  }
}

TEST(CompiledCropPad, OrientationIsACopyReadOffTheAffine) {
  for (auto shape : {std::vector<int64_t>{2, 7, 6, 5}, std::vector<int64_t>{1, 8, 6}})
    for (T::OrientationOptions o :
         {T::OrientationOptions("RAS"), T::OrientationOptions("LPI"), T::OrientationOptions("SPL"),
          T::OrientationOptions().as_closest_canonical(true)}) {
      if (shape.size() == 3 && o.axcodes() && *o.axcodes() == "SPL")
        continue;                          // the 2-D image spans no superior-inferior axis
      med::MetaTensor img = volume(shape); // an oblique affine
      T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(2.0)), T::Orientation(o),
                        T::ThresholdIntensity(T::ThresholdIntensityOptions(40.0))});
      EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 1u);
      expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0,
                                o.axcodes().value_or("canonical") + " " +
                                    std::to_string(shape.size() - 1) + "D");
      med::MetaTensor back = T::inverseAll(chain.compile().run(img, {0, 0, 0, 0}));
      EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
    }
}

} // namespace
