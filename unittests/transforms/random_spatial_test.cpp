// Random spatial transforms (RandFlip, RandAxisFlip, RandRotate90, RandSpatialCrop): the chosen
// parameters apply the deterministic transform, results are reproducible for a random key in
// eager and compiled pipelines, and inverse() undoes every call.
#include <gtest/gtest.h>

#include <set>

#include "med/transforms/compose.h"
#include "med/transforms/croppad.h"
#include "med/transforms/intensity.h"
#include "med/transforms/inverse.h"
#include "med/transforms/spatial.h"
#include "med/transforms/spatial_random.h"
#include "test_util.h"

namespace {

void expectSame(const med::MetaTensor &a, const med::MetaTensor &b, const std::string &what) {
  ASSERT_EQ(a.data.sizes(), b.data.sizes()) << what;
  EXPECT_TRUE(at::equal(a.data, b.data)) << what;
  EXPECT_LT(med::rt::maxAbsDiff(a.meta.affine, b.meta.affine), 1e-12) << what;
}

med::MetaTensor run1(const T::RandomTransform &t, const med::MetaTensor &img,
                     med::rt::RandomKey key) {
  med::rt::Rng rng(key);
  std::vector<double> params;
  t.sample(rng, params);
  return t.eager(img, params.data());
}

T::Compose augment() {
  return T::Compose(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1000, 0, 1)),
       T::RandFlip(T::RandFlipOptions(0).prob(0.5)), T::RandAxisFlip(T::RandAxisFlipOptions(0.5)),
       T::RandRotate90(T::RandRotate90Options().prob(0.5).spatial_axes({0, 2})),
       T::RandSpatialCrop(
           T::RandSpatialCropOptions({6, 5, 4}).max_roi_size({9, 8, 7}).random_size(true)),
       T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1, -1, 1))});
}

TEST(RandomSpatial, FiringAppliesTheDeterministicTransform) {
  med::MetaTensor img = volume({2, 6, 5, 4});
  expectSame(T::RandFlip(T::RandFlipOptions({0, 2}).prob(1.0)).eager(img),
             T::Flip(T::FlipOptions({0, 2})).eager(img), "RandFlip");
  for (uint64_t s = 0; s < 8; ++s) {
    T::RandRotate90 r(T::RandRotate90Options().prob(1.0).max_k(3));
    med::MetaTensor out = run1(r, img, {1, 0, s, 0});
    int64_t k = static_cast<int64_t>(out.meta.applied_operations.back().params[0].second);
    EXPECT_GE(k, 1);
    EXPECT_LE(k, 3);
    expectSame(out, T::Rotate90(T::Rotate90Options(k)).eager(img), "RandRotate90");
  }
}

TEST(RandomSpatial, ProbZeroIsIdentityAndRecordsAnIdentityOp) {
  med::MetaTensor img = volume({1, 6, 5, 4});
  for (uint64_t s = 0; s < 5; ++s) {
    med::rt::RandomKey key{3, 0, s, 0};
    for (const med::MetaTensor &out :
         {run1(T::RandFlip(T::RandFlipOptions().prob(0.0)), img, key),
          run1(T::RandAxisFlip(T::RandAxisFlipOptions(0.0)), img, key),
          run1(T::RandRotate90(T::RandRotate90Options().prob(0.0)), img, key)}) {
      expectSame(out, img, "prob 0");
      ASSERT_EQ(out.meta.applied_operations.size(), 1u);
      expectSame(T::inverse(out), img, "inverse of prob 0");
    }
  }
}

TEST(RandomSpatial, DrawsCoverTheirRanges) {
  med::MetaTensor img = volume({1, 6, 5, 4});
  std::set<std::string> axes;
  std::set<int64_t> ks;
  int fired = 0;
  for (uint64_t s = 0; s < 200; ++s) {
    med::MetaTensor f = run1(T::RandAxisFlip(T::RandAxisFlipOptions(1.0)), img, {0, 0, s, 1});
    for (const auto &[k, v] : f.meta.applied_operations.back().params)
      if (v == 1.0)
        axes.insert(k);
    med::MetaTensor r =
        run1(T::RandRotate90(T::RandRotate90Options().prob(0.5).max_k(2)), img, {0, 0, s, 2});
    int64_t k = static_cast<int64_t>(r.meta.applied_operations.back().params[0].second);
    ks.insert(k);
    fired += k != 0;
  }
  EXPECT_EQ(axes, (std::set<std::string>{"axis0", "axis1", "axis2"}));
  EXPECT_EQ(ks, (std::set<int64_t>{0, 1, 2}));
  EXPECT_GT(fired, 70);
  EXPECT_LT(fired, 130);
}

TEST(RandomSpatial, RandSpatialCropSizesAndPositions) {
  med::MetaTensor img = volume({1, 10, 9, 8});
  std::set<int64_t> starts, sizes;
  for (uint64_t s = 0; s < 100; ++s) {
    med::MetaTensor fixed =
        run1(T::RandSpatialCrop(T::RandSpatialCropOptions({4, 20, -1})), img, {5, 0, s, 0});
    EXPECT_EQ(fixed.data.sizes(), (std::vector<int64_t>{1, 4, 9, 8}));
    const int64_t x0 = static_cast<int64_t>(fixed.data[0][0][0][0].item<float>()) / (9 * 8);
    starts.insert(x0);
    EXPECT_EQ(fixed.meta.applied_operations.back().name, "SpatialCrop");
    med::MetaTensor rs =
        run1(T::RandSpatialCrop(
                 T::RandSpatialCropOptions({3}).max_roi_size({6, 5, 4}).random_size(true)),
             img, {5, 0, s, 1});
    for (int d = 0; d < 3; ++d) {
      EXPECT_GE(rs.data.size(1 + d), 3);
      EXPECT_LE(rs.data.size(1 + d), 6 - d);
    }
    sizes.insert(rs.data.size(1));
  }
  EXPECT_EQ(starts, (std::set<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(sizes, (std::set<int64_t>{3, 4, 5, 6}));
  med::MetaTensor centred =
      T::RandSpatialCrop(T::RandSpatialCropOptions({4, 3, 2}).random_center(false)).eager(img);
  expectSame(centred, T::CenterSpatialCrop(T::CenterSpatialCropOptions({4, 3, 2})).eager(img),
             "random_center=false");
}

TEST(RandomSpatial, ReproducibleAndCompiledEqualsEager) {
  med::MetaTensor img = volume({1, 12, 11, 10});
  T::Compose chain = augment();
  std::set<std::vector<int64_t>> shapes;
  for (uint64_t s = 0; s < 6; ++s) {
    med::rt::RandomKey key{42, 1, s, 0};
    med::MetaTensor ref = chain.eager(img, key);
    expectSame(chain.eager(img, key), ref, "eager twice");
    for (int threads : {1, 2}) {
      med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(threads)).run(img, key);
      ASSERT_EQ(out.data.sizes(), ref.data.sizes());
      EXPECT_TRUE(at::allclose(out.data, ref.data, 1e-5, 1e-6)) << "sample " << s;
      EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, ref.meta.affine), 1e-12);
    }
    shapes.insert(std::vector<int64_t>(ref.data.sizes().begin(), ref.data.sizes().end()));
  }
  EXPECT_GT(shapes.size(), 1u); // the draws change with the sample index
}

TEST(RandomSpatial, InverseRestoresShapeAndAffine) {
  med::MetaTensor img = volume({1, 12, 11, 10});
  T::Compose chain({T::RandFlip(T::RandFlipOptions().prob(0.5)),
                    T::RandRotate90(T::RandRotate90Options().prob(0.7).spatial_axes({1, 2})),
                    T::RandAxisFlip(T::RandAxisFlipOptions(0.5)),
                    T::RandSpatialCrop(T::RandSpatialCropOptions({7, 6, 5}))});
  for (uint64_t s = 0; s < 8; ++s) {
    med::MetaTensor out = chain.compile().run(img, {9, 0, s, 0});
    ASSERT_EQ(out.meta.applied_operations.size(), 4u);
    med::MetaTensor back = T::inverseAll(out);
    ASSERT_EQ(back.data.sizes(), img.data.sizes());
    EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
    // Kept voxels return to their place; cropped-away ones come back as 0.
    at::Tensor kept = back.data.ne(0);
    EXPECT_GE(kept.sum().item<int64_t>(), 7 * 6 * 5 - 1); // volume() holds one 0
    EXPECT_TRUE(at::equal(back.data.masked_select(kept), img.data.masked_select(kept)));
  }
}

TEST(RandomSpatial, DictionaryKeysShareTheDraws) {
  med::Data data{{"image", volume({1, 8, 7, 6})}, {"label", volume({1, 8, 7, 6})}};
  T::Compose chain({T::RandFlipd({"image", "label"}, T::RandFlipOptions().prob(0.5)),
                    T::RandRotate90d({"image", "label"}, T::RandRotate90Options().prob(0.5)),
                    T::RandSpatialCropd({"image", "label"}, T::RandSpatialCropOptions({5, 4, 3})),
                    T::RandAxisFlipd({"image", "label"}, T::RandAxisFlipOptions(0.5))});
  for (uint64_t s = 0; s < 6; ++s) {
    med::Data out = chain.compile(T::Schedule::cpu().threads(2)).run(data, {1, 0, s, 0});
    expectSame(out["image"], out["label"], "keys");
    expectSame(out["image"], chain.eager(data, {1, 0, s, 0})["image"], "compiled vs eager");
  }
}

TEST(RandomSpatial, TwoDimensionalImages) {
  med::MetaTensor img = volume({2, 9, 7});
  T::Compose chain({T::RandAxisFlip(T::RandAxisFlipOptions(1.0)),
                    T::RandRotate90(T::RandRotate90Options().prob(1.0)),
                    T::RandSpatialCrop(T::RandSpatialCropOptions({5, 4}))});
  for (uint64_t s = 0; s < 4; ++s) {
    med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(2)).run(img, {2, 0, s, 0});
    expectSame(out, chain.eager(img, {2, 0, s, 0}), "2D compiled vs eager");
    EXPECT_EQ(out.data.sizes(), (std::vector<int64_t>{2, 5, 4}));
    med::MetaTensor back = T::inverseAll(out);
    ASSERT_EQ(back.data.sizes(), img.data.sizes());
    EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
  }
}

TEST(RandomSpatial, StandaloneStreamRestartsWithTheSeed) {
  med::MetaTensor img = volume({1, 6, 5, 4});
  T::RandRotate90 t(T::RandRotate90Options().prob(0.5));
  t.set_random_state(4);
  std::vector<med::MetaTensor> first;
  for (int i = 0; i < 5; ++i)
    first.push_back(t.eager(img));
  t.set_random_state(4);
  for (int i = 0; i < 5; ++i)
    expectSame(t.eager(img), first[i], "after set_random_state");
}

TEST(RandomSpatial, Errors) {
  expectError([] { T::RandFlip(T::RandFlipOptions().prob(1.5)); }, {"RandFlip.prob"});
  expectError([] { T::RandFlip(T::RandFlipOptions(5)); }, {"RandFlip.spatial_axis"});
  expectError([] { T::RandAxisFlip(T::RandAxisFlipOptions(-0.1)); }, {"RandAxisFlip.prob"});
  expectError([] { T::RandRotate90(T::RandRotate90Options().max_k(0)); }, {"RandRotate90.max_k"});
  expectError([] { T::RandRotate90(T::RandRotate90Options().spatial_axes({0})); },
              {"RandRotate90.spatial_axes"});
  expectError([] { T::RandSpatialCrop(T::RandSpatialCropOptions({})); },
              {"RandSpatialCrop.roi_size"});
  expectError(
      [] {
        T::RandSpatialCrop(T::RandSpatialCropOptions({8}).max_roi_size({4}).random_size(true));
      },
      {"RandSpatialCrop.max_roi_size"});
  expectError(
      [] {
        T::RandSpatialCrop(T::RandSpatialCropOptions({1, 2})).eager(volume({1, 4, 4, 4}));
      },
      {"RandSpatialCrop.roi_size"});
  expectError(
      [] {
        med::frontend::ChainSpec chain;
        T::RandFlip().trace(chain);
      },
      {"RandFlip", "2 or 3 spatial axes"});
}

} // namespace
