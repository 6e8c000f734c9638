// Rand2DElastic and Rand3DElastic compiled (a displaced med.resample) against their eager
// grid_sample reference: paddings, modes, 2-D and 3-D, output sizes, fused intensity ops,
// batches, and the kernel count of a fused chain.
#include <gtest/gtest.h>

#include "compiled_util.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/resample_random.h"

namespace {

T::Rand3DElasticOptions elastic3(const std::string &padding) {
  return T::Rand3DElasticOptions({1.0, 2.5}, {2.0, 4.0})
      .prob(1.0)
      .rotate_range({0.3, 0.2, 0.1})
      .scale_range({0.1})
      .translate_range({2.0})
      .padding_mode(padding);
}

T::Rand2DElasticOptions elastic2(const std::string &padding) {
  return T::Rand2DElasticOptions({3.0, 4.0}, {1.0, 3.0})
      .prob(1.0)
      .rotate_range({0.3})
      .shear_range({0.1, 0.1})
      .padding_mode(padding);
}

TEST(CompiledElastic, Bilinear3DMatchesGridSampleForEachPadding) {
  const med::MetaTensor img = smooth({1, 14, 12, 10}, 3);
  for (const std::string padding : {"zeros", "border", "reflection"})
    for (uint64_t s = 0; s < 3; ++s) {
      T::Compose chain({T::Rand3DElastic(elastic3(padding))});
      expectCompiledEqualsEager(chain, img, {5, 0, s, 0}, 2e-5,
                                padding + " sample " + std::to_string(s));
    }
  // Another output size (spatial_size), two channels reading one displacement.
  T::Compose sized({T::Rand3DElastic(elastic3("zeros").spatial_size({9, -1, 13}))});
  expectCompiledEqualsEager(sized, smooth({2, 14, 12, 10}, 4), {1, 0, 0, 0}, 2e-5, "sized");
  // The compiled plan smooths the offsets with its own separable loop (eager: conv3d); a
  // Gaussian wider than the image (3 sigma > 10 voxels) reaches past every edge.
  T::Compose wide({T::Rand3DElastic(T::Rand3DElasticOptions({6.0, 8.0}, {50.0, 100.0}).prob(1.0))});
  expectCompiledEqualsEager(wide, smooth({1, 14, 12, 10}, 5), {3, 0, 0, 0}, 2e-5, "wide");
}

TEST(CompiledElastic, Bilinear2DMatchesGridSampleForEachPadding) {
  const med::MetaTensor img = smooth({2, 23, 19}, 5);
  for (const std::string padding : {"zeros", "border", "reflection"})
    for (uint64_t s = 0; s < 3; ++s) {
      T::Compose chain({T::Rand2DElastic(elastic2(padding))});
      expectCompiledEqualsEager(chain, img, {6, 0, s, 0}, 2e-5,
                                padding + " sample " + std::to_string(s));
    }
  T::Compose sized({T::Rand2DElastic(elastic2("border").spatial_size({17, 30}))});
  expectCompiledEqualsEager(sized, img, {2, 0, 0, 0}, 2e-5, "sized");
}

// Draws that do not fire sample the identity grid; prob 0.5 mixes both kinds of call.
TEST(CompiledElastic, CallsThatDoNotFireKeepTheImage) {
  for (uint64_t s = 0; s < 4; ++s) {
    T::Compose c3({T::Rand3DElastic(elastic3("zeros").prob(0.5))});
    expectCompiledEqualsEager(c3, smooth({1, 9, 8, 7}, 1), {2, 0, s, 0}, 2e-5, "3D");
    T::Compose c2({T::Rand2DElastic(elastic2("zeros").prob(0.5))});
    expectCompiledEqualsEager(c2, smooth({1, 9, 8}, 1), {2, 0, s, 0}, 2e-5, "2D");
  }
  T::Compose never({T::Rand3DElastic(elastic3("zeros").prob(0.0))});
  const med::MetaTensor img = smooth({1, 9, 8, 7}, 2);
  EXPECT_TRUE(at::equal(never.compile().run(img, {0, 0, 0, 0}).data, img.data));
}

// Nearest: the kernel's f64 positions and grid_sample's float32 ones round differently only
// for positions within rounding of a half: almost every voxel is the same one.
TEST(CompiledElastic, NearestPicksTheSameVoxelsAlmostEverywhere) {
  const med::MetaTensor img3 = smooth({1, 20, 18, 16}, 7), img2 = smooth({1, 40, 36}, 8);
  for (uint64_t s = 0; s < 3; ++s) {
    T::Compose c3({T::Rand3DElastic(elastic3("border").mode("nearest"))});
    T::Compose c2({T::Rand2DElastic(elastic2("zeros").mode("nearest"))});
    for (const auto &[chain, img] :
         {std::pair<T::Compose *, med::MetaTensor>{&c3, img3}, {&c2, img2}}) {
      const med::MetaTensor ref = chain->eager(img, {3, 0, s, 0});
      for (int threads : {1, 2}) {
        const med::MetaTensor out =
            chain->compile(T::Schedule::cpu().threads(threads)).run(img, {3, 0, s, 0});
        ASSERT_EQ(out.data.sizes(), ref.data.sizes());
        const double differ = (out.data != ref.data).sum().item<double>();
        EXPECT_LE(differ, 1e-3 * double(ref.data.numel())) << "sample " << s;
        EXPECT_FALSE(at::equal(ref.data, img.data)); // the deformation moved voxels
      }
    }
  }
}

// Intensity ops around the deformation: the ones after it run in its kernel (epilogue), and
// the chain gives the eager values on fused and unfused schedules; integer input too.
TEST(CompiledElastic, FusesWithIntensityOpsAndMatchesEager) {
  T::Compose chain(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1, -1, 1)),
       T::Rand3DElastic(elastic3("reflection")), T::ShiftIntensity(T::ShiftIntensityOptions(2.0)),
       T::RandAdjustContrast(T::RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(1.0))});
  for (uint64_t s = 0; s < 2; ++s)
    expectCompiledEqualsEager(chain, smooth({1, 12, 11, 10}, 9), {8, 0, s, 0}, 1e-4,
                              "sample " + std::to_string(s));
  // Three kernels: ScaleIntensityRange alone (an interpolating resample takes no prologue), the
  // deformation with the shift, the contrast (a heavy op after a gather starts a kernel).
  const std::vector<std::string> ir = chain.compile().ir(at::kFloat);
  ASSERT_EQ(ir.size(), 3u);
  EXPECT_NE(ir[1].find("displaced by"), std::string::npos);
  EXPECT_NE(ir[1].find("med.shift_intensity"), std::string::npos);

  med::MetaTensor ints = smooth({1, 12, 11, 10}, 10);
  ints.data = (ints.data * 1000).to(at::kShort);
  T::Compose plain({T::Rand3DElastic(elastic3("zeros"))});
  expectCompiledEqualsEager(plain, ints, {9, 0, 0, 0}, 2e-2, "int16");
}

// The dictionary forms: the keys share one draw, so they get the same deformation.
TEST(CompiledElastic, DictionaryKeysShareTheDeformation) {
  const med::MetaTensor img = smooth({1, 12, 10, 9}, 11);
  med::Data data{{"image", img}, {"label", img}};
  T::Compose chain({T::Rand3DElasticd({"image", "label"}, elastic3("zeros").prob(0.6))});
  for (uint64_t s = 0; s < 4; ++s) {
    med::Data out = chain.compile(T::Schedule::cpu().threads(2)).run(data, {4, 0, s, 0});
    EXPECT_TRUE(at::equal(out["image"].data, out["label"].data)) << "sample " << s;
    expectClose(out["image"], chain.eager(data, {4, 0, s, 0})["image"], 2e-5,
                "sample " + std::to_string(s));
  }
}

// A batch in one launch per stage equals the samples one at a time, each with its own field.
TEST(CompiledElastic, BatchesEqualSingleRuns) {
  T::Compose chain({T::Rand3DElastic(elastic3("border").prob(0.7)),
                    T::ShiftIntensity(T::ShiftIntensityOptions(1.0))});
  std::vector<med::MetaTensor> imgs{smooth({1, 10, 9, 8}, 1), smooth({1, 10, 9, 8}, 2),
                                    smooth({1, 7, 9, 11}, 3)};
  std::vector<med::rt::RandomKey> keys{{1, 0, 0, 0}, {1, 0, 1, 0}, {1, 0, 2, 0}};
  auto run = chain.compile(T::Schedule::cpu().threads(2));
  std::vector<med::MetaTensor> outs = run.runBatch(imgs, keys);
  ASSERT_EQ(outs.size(), imgs.size());
  for (size_t b = 0; b < imgs.size(); ++b)
    EXPECT_TRUE(at::equal(outs[b].data, run.run(imgs[b], keys[b]).data)) << "sample " << b;
  EXPECT_FALSE(at::equal(outs[0].data, outs[1].data));
}

// A transform traced `displaced` whose plan gives no field, or one of the wrong size: a
// med::Error, not a read past the buffer.
class BadField : public T::Transform, public T::Resampling {
public:
  explicit BadField(int64_t values) : values_(values) {}
  std::string name() const override { return "BadField"; }
  med::MetaTensor eager(const med::MetaTensor &img) const override { return img; }
  void trace(med::frontend::ChainSpec &chain) const override {
    T::traceResample(*this, chain, "bilinear", "zeros", med::rt::DType::Float32, false, false,
                     /*displaced=*/true);
  }
  T::ResamplePlan plan(const std::vector<int64_t> &shape, const med::Meta &meta,
                       const double *) const override {
    T::ResamplePlan p{shape, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, meta};
    if (values_ >= 0)
      p.field = at::zeros({values_});
    return p;
  }

private:
  int64_t values_;
};

// An image of the other rank fails compiled as it fails eagerly, naming the transform.
TEST(CompiledElastic, WrongRankNamesTheTransform) {
  T::Compose c2({T::Rand2DElastic(elastic2("zeros"))});
  T::Compose c3({T::Rand3DElastic(elastic3("zeros"))});
  const med::MetaTensor img3 = smooth({1, 6, 5, 4}, 13), img2 = smooth({1, 6, 5}, 14);
  for (const auto &[chain, img, name] :
       {std::tuple<T::Compose *, med::MetaTensor, std::string>{&c2, img3, "Rand2DElastic"},
        {&c3, img2, "Rand3DElastic"}}) {
    expectError([&] { chain->compile().run(img, {0, 0, 0, 0}); }, {name, "spatial axes"});
    expectError([&] { chain->eager(img, {0, 0, 0, 0}); }, {name, "spatial axes"});
  }
}

TEST(CompiledElastic, PlansWithoutAFittingFieldAreRefused) {
  const med::MetaTensor img = smooth({1, 5, 4, 3}, 12);
  T::Compose none({BadField(-1)});
  expectError([&] { none.compile().run(img, {0, 0, 0, 0}); }, {"Compose", "displacement"});
  T::Compose small({BadField(3 * 5 * 4 * 3 - 1)});
  expectError([&] { small.compile().run(img, {0, 0, 0, 0}); }, {"BadField", "displacement"});
  T::Compose fits({BadField(3 * 5 * 4 * 3)}); // a zero field: the identity map
  EXPECT_TRUE(at::equal(fits.compile().run(img, {0, 0, 0, 0}).data, img.data));
}

} // namespace
