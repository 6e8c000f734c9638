// Random resampling transforms (RandAffine, RandRotate, RandZoom): the drawn parameters, read back
// from sample(), apply the deterministic transform; results are reproducible for a random key in
// eager and compiled pipelines, and inverse() undoes every call.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/inverse.h"
#include "med/transforms/resample.h"
#include "med/transforms/resample_random.h"
#include "test_util.h"

namespace {

void expectSame(const med::MetaTensor &a, const med::MetaTensor &b, const std::string &what) {
  ASSERT_EQ(a.data.sizes(), b.data.sizes()) << what;
  EXPECT_TRUE(at::equal(a.data, b.data)) << what;
  EXPECT_LT(med::rt::maxAbsDiff(a.meta.affine, b.meta.affine), 1e-12) << what;
  ASSERT_EQ(a.meta.applied_operations.size(), b.meta.applied_operations.size()) << what;
  if (!a.meta.applied_operations.empty())
    EXPECT_EQ(a.meta.applied_operations.back().name, b.meta.applied_operations.back().name) << what;
}

// Compiled against eager: the compiled resample computes positions in f64 where grid_sample
// uses float32, so values agree to float32 rounding of the positions (relative to the image's
// range, as the golden comparisons scale their tolerance), not bitwise.
void expectNear(const med::MetaTensor &a, const med::MetaTensor &b, const std::string &what) {
  ASSERT_EQ(a.data.sizes(), b.data.sizes()) << what;
  const double scale = std::max(1.0, b.data.abs().max().item<double>());
  EXPECT_LE((a.data - b.data).abs().max().item<double>(), 1e-5 * scale) << what;
  EXPECT_LT(med::rt::maxAbsDiff(a.meta.affine, b.meta.affine), 1e-9) << what;
  ASSERT_EQ(a.meta.applied_operations.size(), b.meta.applied_operations.size()) << what;
}

std::vector<double> draw(const T::RandomTransform &t, med::rt::RandomKey key) {
  med::rt::Rng rng(key);
  std::vector<double> params;
  t.sample(rng, params);
  EXPECT_EQ(params.size(), static_cast<size_t>(t.numParams()));
  return params;
}

T::RandAffine randAffine(double prob) {
  return T::RandAffine(T::RandAffineOptions()
                           .prob(prob)
                           .rotate_range({0.4, {-0.1, 0.2}, 0.3})
                           .shear_range({0.1, 0.0, {0.05, 0.1}})
                           .translate_range({2.0, {-1.0, 0.0}})
                           .scale_range({{-0.2, 0.1}, 0.1, 0.05})
                           .padding_mode("zeros"));
}

TEST(RandomResample, FiringAppliesTheDeterministicTransform) {
  med::MetaTensor img = volume({2, 9, 8, 7});
  T::RandAffine affine = randAffine(1.0);
  T::RandRotate rotate(
      T::RandRotateOptions().range_x(0.5).range_y({0.1, 0.3}).range_z(-0.2).prob(1.0));
  T::RandZoom zoom(T::RandZoomOptions().prob(1.0).min_zoom({0.7, 1.1}).max_zoom({0.9, 1.3}));
  T::RandZoom zoom1(T::RandZoomOptions().prob(1.0).mode("trilinear").padding_mode("constant"));
  for (uint64_t s = 0; s < 4; ++s) {
    const med::rt::RandomKey key{7, 0, s, 3};
    std::vector<double> p = draw(affine, key);
    ASSERT_EQ(p[0], 1.0);
    auto opts = T::AffineOptions()
                    .rotate_params({p[1], p[2], p[3]})
                    .shear_params({p[4], p[5], p[6]})
                    .translate_params({p[10], p[11]})
                    .scale_params({p[13], p[14], p[15]})
                    .padding_mode("zeros");
    expectSame(affine.eager(img, p.data()), T::Affine(opts).eager(img), "RandAffine");
    EXPECT_EQ(affine.eager(img, p.data()).meta.applied_operations.back().name, "Affine");

    p = draw(rotate, key);
    expectSame(rotate.eager(img, p.data()),
               T::Rotate(T::RotateOptions({p[1], p[2], p[3]})).eager(img), "RandRotate");
    p = draw(zoom, key);
    expectSame(zoom.eager(img, p.data()), T::Zoom(T::ZoomOptions({p[1], p[1], p[2]})).eager(img),
               "RandZoom, two factors on 3D");
    p = draw(zoom1, key);
    expectSame(
        zoom1.eager(img, p.data()),
        T::Zoom(T::ZoomOptions({p[1]}).mode("trilinear").padding_mode("constant")).eager(img),
        "RandZoom, one factor");
  }
}

TEST(RandomResample, ProbZeroIsIdentityAndRecordsAnIdentityOp) {
  med::MetaTensor img = volume({1, 7, 6, 5});
  for (uint64_t s = 0; s < 4; ++s) {
    const med::rt::RandomKey key{3, 0, s, 0};
    T::RandAffine a = randAffine(0.0);
    T::RandRotate r(T::RandRotateOptions().range_x(0.5).prob(0.0));
    T::RandZoom z(T::RandZoomOptions().prob(0.0));
    for (const T::RandomTransform *t : std::vector<const T::RandomTransform *>{&a, &r, &z}) {
      std::vector<double> p = draw(*t, key);
      EXPECT_EQ(p[0], 0.0);
      med::MetaTensor out = t->eager(img, p.data());
      ASSERT_EQ(out.data.sizes(), img.data.sizes()) << t->name();
      EXPECT_TRUE(at::equal(out.data, img.data)) << t->name();
      EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, img.meta.affine), 1e-12) << t->name();
      ASSERT_EQ(out.meta.applied_operations.size(), 1u) << t->name();
      med::MetaTensor back = T::inverse(out);
      EXPECT_TRUE(back.meta.applied_operations.empty());
      EXPECT_TRUE(at::allclose(back.data, img.data, 1e-5, 1e-3)) << t->name();
      EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-12) << t->name();
    }
  }
  // Not firing with a different spatial_size resamples with the identity matrix (as MONAI).
  T::RandAffine sized(T::RandAffineOptions().prob(0.0).spatial_size({5, 6, 5}));
  std::vector<double> p = draw(sized, {0, 0, 0, 0});
  expectSame(sized.eager(img, p.data()),
             T::Affine(T::AffineOptions().spatial_size({5, 6, 5})).eager(img),
             "identity resample to spatial_size");
}

TEST(RandomResample, DrawsCoverTheirRanges) {
  T::RandAffine a = randAffine(0.5);
  T::RandRotate r(T::RandRotateOptions().range_x(0.5).range_y({0.1, 0.3}).prob(1.0));
  T::RandZoom z(T::RandZoomOptions().prob(1.0));
  // Expected (lo, hi) of RandAffine's slots 1..15 (scale already + 1); unset slots stay 0.
  const std::vector<std::pair<int, std::pair<double, double>>> slots = {
      {1, {-0.4, 0.4}}, {2, {-0.1, 0.2}}, {3, {-0.3, 0.3}},  {4, {-0.1, 0.1}},
      {5, {0.0, 0.0}},  {6, {0.05, 0.1}}, {10, {-2.0, 2.0}}, {11, {-1.0, 0.0}},
      {13, {0.8, 1.1}}, {14, {0.9, 1.1}}, {15, {0.95, 1.05}}};
  std::vector<double> lo(16, 1e9), hi(16, -1e9);
  std::vector<double> rlo(4, 1e9), rhi(4, -1e9), zlo(1, 1e9), zhi(1, -1e9);
  int fired = 0;
  for (uint64_t s = 0; s < 400; ++s) {
    std::vector<double> p = draw(a, {11, 2, s, 1});
    fired += p[0] == 1.0;
    if (p[0] == 0.0) {
      EXPECT_EQ(std::count(p.begin(), p.end(), 0.0), 16);
      continue;
    }
    for (int i = 1; i < 16; ++i)
      lo[i] = std::min(lo[i], p[i]), hi[i] = std::max(hi[i], p[i]);
    std::vector<double> q = draw(r, {11, 2, s, 2});
    for (int i = 1; i < 4; ++i)
      rlo[i] = std::min(rlo[i], q[i]), rhi[i] = std::max(rhi[i], q[i]);
    q = draw(z, {11, 2, s, 3});
    zlo[0] = std::min(zlo[0], q[1]), zhi[0] = std::max(zhi[0], q[1]);
    EXPECT_EQ(q[2], 0.0);
  }
  EXPECT_GT(fired, 160);
  EXPECT_LT(fired, 240);
  for (const auto &[i, range] : slots) {
    const double w = range.second - range.first;
    EXPECT_GE(lo[i], range.first) << i;
    EXPECT_LE(hi[i], range.second) << i;
    EXPECT_LE(lo[i], range.first + 0.05 * w) << i;
    EXPECT_GE(hi[i], range.second - 0.05 * w) << i;
  }
  for (int i : {7, 8, 9, 12})
    EXPECT_EQ(lo[i], 0.0) << i;
  EXPECT_GE(rlo[1], -0.5);
  EXPECT_LT(rlo[1], -0.45);
  EXPECT_GT(rhi[1], 0.45);
  EXPECT_GE(rlo[2], 0.1);
  EXPECT_LE(rhi[2], 0.3);
  EXPECT_EQ(rlo[3], 0.0);
  EXPECT_EQ(rhi[3], 0.0);
  EXPECT_GE(zlo[0], 0.9);
  EXPECT_LT(zlo[0], 0.91);
  EXPECT_LE(zhi[0], 1.1);
  EXPECT_GT(zhi[0], 1.09);
}

T::Compose augment() {
  return T::Compose(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1000, 0, 1)), randAffine(0.6),
       T::RandRotate(T::RandRotateOptions().range_x(0.3).range_z(0.2).prob(0.6).keep_size(false)),
       T::RandZoom(T::RandZoomOptions().prob(0.6).min_zoom({0.8}).max_zoom({1.2})),
       T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1, -1, 1))});
}

TEST(RandomResample, ReproducibleAndCompiledEqualsEager) {
  med::MetaTensor img = volume({1, 10, 9, 8});
  T::Compose chain = augment();
  std::set<std::vector<int64_t>> shapes;
  for (uint64_t s = 0; s < 6; ++s) {
    const med::rt::RandomKey key{42, 1, s, 0};
    med::MetaTensor ref = chain.eager(img, key);
    expectSame(chain.eager(img, key), ref, "eager twice");
    for (int threads : {1, 2}) {
      med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(threads)).run(img, key);
      ASSERT_EQ(out.data.sizes(), ref.data.sizes());
      expectNear(out, ref, "sample " + std::to_string(s));
    }
    shapes.insert(std::vector<int64_t>(ref.data.sizes().begin(), ref.data.sizes().end()));
  }
  EXPECT_GT(shapes.size(), 1u); // RandRotate(keep_size=false) changes the shape with the draw
}

TEST(RandomResample, InverseRestoresShapeAndAffine) {
  med::MetaTensor img = volume({1, 10, 9, 8});
  T::Compose chain({randAffine(0.5),
                    T::RandRotate(T::RandRotateOptions().range_x(0.4).prob(0.5).keep_size(false)),
                    T::RandZoom(T::RandZoomOptions().prob(0.5).min_zoom({0.7}).max_zoom({1.3})),
                    T::RandZoom(T::RandZoomOptions().prob(0.5).keep_size(false))});
  for (uint64_t s = 0; s < 8; ++s) {
    med::MetaTensor out = chain.compile().run(img, {9, 0, s, 0});
    ASSERT_EQ(out.meta.applied_operations.size(), 4u);
    med::MetaTensor back = T::inverseAll(out);
    ASSERT_EQ(back.data.sizes(), img.data.sizes());
    EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9) << "sample " << s;
  }
}

TEST(RandomResample, DictionaryKeysShareTheDraws) {
  med::Data data{{"image", volume({1, 8, 7, 6})}, {"label", volume({1, 8, 7, 6})}};
  T::Compose chain(
      {T::RandAffined({"image", "label"}, T::RandAffineOptions().prob(0.5).rotate_range({0.3})),
       T::RandRotated({"image", "label"}, T::RandRotateOptions().range_y(0.3).prob(0.5)),
       T::RandZoomd({"image", "label"}, T::RandZoomOptions().prob(0.5))});
  for (uint64_t s = 0; s < 6; ++s) {
    med::Data out = chain.compile(T::Schedule::cpu().threads(2)).run(data, {1, 0, s, 0});
    expectSame(out["image"], out["label"], "keys");
    expectNear(out["image"], chain.eager(data, {1, 0, s, 0})["image"], "compiled vs eager");
  }
}

TEST(RandomResample, TwoDimensionalImages) {
  med::MetaTensor img = volume({2, 9, 7});
  T::RandAffine a(T::RandAffineOptions().prob(1.0).rotate_range({0.3}).shear_range({0.1, 0.1}));
  T::RandRotate r(T::RandRotateOptions().range_x(0.5).prob(1.0));
  T::RandZoom z(T::RandZoomOptions().prob(1.0).mode("bilinear"));
  for (uint64_t s = 0; s < 3; ++s) {
    std::vector<double> p = draw(a, {2, 0, s, 0});
    expectSame(
        a.eager(img, p.data()),
        T::Affine(T::AffineOptions().rotate_params({p[1]}).shear_params({p[4], p[5]})).eager(img),
        "2D RandAffine");
    p = draw(r, {2, 0, s, 1});
    expectSame(r.eager(img, p.data()), T::Rotate(T::RotateOptions({p[1]})).eager(img),
               "2D RandRotate");
    p = draw(z, {2, 0, s, 2});
    expectSame(z.eager(img, p.data()), T::Zoom(T::ZoomOptions({p[1]}).mode("bilinear")).eager(img),
               "2D RandZoom");
  }
  T::Compose chain({a, r, z});
  med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(2)).run(img, {2, 0, 5, 0});
  expectNear(out, chain.eager(img, {2, 0, 5, 0}), "2D compiled vs eager");
  med::MetaTensor back = T::inverseAll(out);
  ASSERT_EQ(back.data.sizes(), img.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
}

TEST(RandomResample, Errors) {
  expectError([] { T::RandAffine(T::RandAffineOptions().prob(1.5)); }, {"RandAffine.prob"});
  expectError(
      [] {
        T::RandAffine(T::RandAffineOptions().rotate_range({1, 2, 3, 4}));
      },
      {"RandAffine.rotate_range"});
  expectError(
      [] {
        T::RandAffine(T::RandAffineOptions().scale_range({{0.1, NAN}}));
      },
      {"RandAffine.scale_range"});
  expectError([] { T::RandAffine(T::RandAffineOptions().mode("cubic")); }, {"RandAffine.mode"});
  expectError([] { T::RandAffine(T::RandAffineOptions().padding_mode("edge")); },
              {"RandAffine.padding_mode"});
  expectError([] { T::RandRotate(T::RandRotateOptions().prob(-1)); }, {"RandRotate.prob"});
  expectError([] { T::RandRotate(T::RandRotateOptions().range_y(INFINITY)); },
              {"RandRotate.range_y"});
  expectError([] { T::RandRotate(T::RandRotateOptions().padding_mode("wrap")); },
              {"RandRotate.padding_mode"});
  expectError(
      [] {
        T::RandZoom(T::RandZoomOptions().min_zoom({0.9, 0.9}));
      },
      {"RandZoom.max_zoom"});
  expectError([] { T::RandZoom(T::RandZoomOptions().min_zoom({0.0})); }, {"RandZoom.min_zoom"});
  expectError([] { T::RandZoom(T::RandZoomOptions().mode("cubic")); }, {"RandZoom.mode"});
  expectError([] { T::RandZoom(T::RandZoomOptions().padding_mode("zeros")); },
              {"RandZoom.padding_mode"});
  expectError([] { T::RandZoom(T::RandZoomOptions().mode("area").align_corners(true)); },
              {"RandZoom.align_corners"});
  expectError(
      [] {
        med::frontend::ChainSpec chain;
        T::RandAffine().trace(chain);
      },
      {"RandAffine", "2 or 3 spatial axes"});
}

} // namespace

namespace {

TEST(RandomElastic, ProbZeroAndZeroMagnitudeKeepTheImage) {
  med::MetaTensor img2 = volume({1, 9, 8}), img3 = volume({1, 7, 6, 5});
  for (double prob : {0.0, 1.0}) {
    // spacing 1: the bicubic upsampling is the identity (with spacing > 1 torch's bicubic, A =
    // -0.75, does not reproduce a linear grid, so MONAI warps by up to ~0.1 voxel even then).
    T::Rand2DElastic e2(T::Rand2DElasticOptions({1.0}, {0.0, 0.0}).prob(prob));
    T::Rand3DElastic e3(T::Rand3DElasticOptions({1.0, 2.0}, {0.0, 0.0}).prob(prob));
    for (const auto &[t, img] :
         {std::pair<const T::RandomTransform *, med::MetaTensor>{&e2, img2}, {&e3, img3}}) {
      std::vector<double> p = draw(*t, {1, 0, 0, 0});
      EXPECT_EQ(p[0], prob) << t->name();
      med::MetaTensor out = t->eager(img, p.data());
      ASSERT_EQ(out.data.sizes(), img.data.sizes()) << t->name();
      EXPECT_TRUE(at::allclose(out.data, img.data, 0, 1e-2)) << t->name() << " prob " << prob;
      EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, img.meta.affine), 1e-12);
      EXPECT_TRUE(out.meta.applied_operations.empty()); // not invertible (as MONAI)
    }
  }
}

TEST(RandomElastic, ReproducibleAndCompiledEqualsEager) {
  med::MetaTensor img = volume({1, 12, 10, 8});
  T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1000, 0, 1)),
                    T::Rand3DElastic(T::Rand3DElasticOptions({1.0, 2.0}, {1.0, 3.0})
                                         .prob(0.7)
                                         .rotate_range({0.2})
                                         .spatial_size({10, 10, 6})
                                         .padding_mode("zeros"))});
  T::Compose chain2({T::Rand2DElastic(
      T::Rand2DElasticOptions({4.0, 3.0}, {0.5, 2.0}).prob(0.7).scale_range({0.1}))});
  med::MetaTensor img2 = volume({2, 11, 9});
  int changed = 0;
  for (uint64_t s = 0; s < 5; ++s) {
    const med::rt::RandomKey key{4, 0, s, 0};
    med::MetaTensor ref = chain.eager(img, key);
    expectSame(chain.eager(img, key), ref, "eager twice");
    EXPECT_EQ(ref.data.sizes(), (std::vector<int64_t>{1, 10, 10, 6}));
    med::MetaTensor ref2 = chain2.eager(img2, key);
    changed += !at::allclose(ref2.data, img2.data, 0, 1e-2);
    for (int threads : {1, 2}) {
      med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(threads)).run(img, key);
      EXPECT_TRUE(at::allclose(out.data, ref.data, 1e-5, 1e-6)) << "sample " << s;
      med::MetaTensor out2 = chain2.compile(T::Schedule::cpu().threads(threads)).run(img2, key);
      // Compiled: f64 positions from the grid (values up to 200 here).
      EXPECT_TRUE(at::allclose(out2.data, ref2.data, 1e-5, 1e-3)) << "2D sample " << s;
    }
  }
  EXPECT_GT(changed, 0);
  // Magnitude and sigma cover their ranges.
  T::Rand3DElastic e(T::Rand3DElasticOptions({1.0, 2.0}, {3.0, 5.0}).prob(1.0));
  double mlo = 9, mhi = 0, slo = 9, shi = 0;
  for (uint64_t s = 0; s < 200; ++s) {
    std::vector<double> p = draw(e, {0, 0, s, 0});
    mlo = std::min(mlo, p[3]), mhi = std::max(mhi, p[3]);
    slo = std::min(slo, p[4]), shi = std::max(shi, p[4]);
  }
  EXPECT_GE(mlo, 3.0);
  EXPECT_LT(mlo, 3.1);
  EXPECT_LE(mhi, 5.0);
  EXPECT_GT(mhi, 4.9);
  EXPECT_GE(slo, 1.0);
  EXPECT_LE(shi, 2.0);
}

TEST(RandomElastic, Errors) {
  expectError(
      [] {
        T::Rand2DElastic(T::Rand2DElasticOptions({}, {0, 1}));
      },
      {"Rand2DElastic.spacing"});
  expectError(
      [] {
        T::Rand2DElastic(T::Rand2DElasticOptions({-1}, {0, 1}));
      },
      {"Rand2DElastic.spacing"});
  expectError([] { T::Rand2DElastic(T::Rand2DElasticOptions({2}, {1})); },
              {"Rand2DElastic.magnitude_range"});
  expectError(
      [] {
        T::Rand2DElastic(T::Rand2DElasticOptions({2}, {0, 1}).prob(2));
      },
      {"Rand2DElastic.prob"});
  expectError(
      [] {
        T::Rand2DElastic(T::Rand2DElasticOptions({2}, {0, 1}).shear_range({1, 2, 3, 4, 5, 6, 7}));
      },
      {"Rand2DElastic.shear_range"});
  expectError(
      [] {
        T::Rand2DElastic(T::Rand2DElasticOptions({2}, {0, 1}).mode("cubic"));
      },
      {"Rand2DElastic.mode"});
  expectError(
      [] {
        T::Rand3DElastic(T::Rand3DElasticOptions({1, 2}, {0, 1}).spatial_size({4, 4, 4, 4}));
      },
      {"Rand3DElastic.spatial_size"});
  expectError(
      [] {
        T::Rand3DElastic(T::Rand3DElasticOptions({0, 1}, {0, 1}));
      },
      {"Rand3DElastic.sigma_range"});
  expectError(
      [] {
        T::Rand3DElastic(T::Rand3DElasticOptions({1, 2}, {2, 1}));
      },
      {"Rand3DElastic.magnitude_range"});
  expectError(
      [] {
        T::Rand3DElastic(T::Rand3DElasticOptions({1, 2}, {0, 1}).prob(1.0))
            .eager(volume({1, 5, 4}));
      },
      {"Rand3DElastic", "3 spatial axes"});
}

} // namespace
