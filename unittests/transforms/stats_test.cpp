// Transforms split at a reduction (statistics on the host, applied in the fused kernel): compiled
// == eager for every dtype, rank, schedule and option, statistics taken from the transform's
// actual input inside a chain, and parameter errors.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/intensity_stats.h"

namespace T = med::transforms;

namespace {

// Random images with a quarter of zeros (for `nonzero`) and a different range per channel.
at::Tensor image(at::ScalarType dtype, at::IntArrayRef shape, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor x;
  if (dtype == at::kByte)
    x = at::randint(0, 256, shape, at::TensorOptions().dtype(at::kByte));
  else if (dtype == at::kShort)
    x = at::randint(-1000, 1000, shape, at::TensorOptions().dtype(at::kShort));
  else
    x = (at::randn(shape) * 300 + 50).to(dtype);
  if (dtype != at::kByte)
    x[0] = x[0] * 2; // channels differ in scale
  return at::where(at::rand(shape) < 0.25, at::zeros_like(x), x);
}

void expectClose(const at::Tensor &a, const at::Tensor &b, const std::string &what) {
  ASSERT_EQ(a.scalar_type(), b.scalar_type()) << what;
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_TRUE(at::allclose(a.to(at::kDouble), b.to(at::kDouble), 1e-5, 1e-5, true))
      << what << ": max diff "
      << (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

std::vector<std::pair<std::string, T::Step>> cases(bool channelWise, bool nonzero) {
  using CIP = T::ClipIntensityPercentilesOptions;
  return {
      {"NormalizeIntensity",
       T::NormalizeIntensity(
           T::NormalizeIntensityOptions().nonzero(nonzero).channel_wise(channelWise))},
      {"NormalizeIntensity(sub, div)",
       T::NormalizeIntensity(T::NormalizeIntensityOptions()
                                 .subtrahend({10.0})
                                 .divisor({channelWise ? 0.0 : 25.0})
                                 .nonzero(nonzero)
                                 .channel_wise(channelWise))},
      {"ScaleIntensityRangePercentiles",
       T::ScaleIntensityRangePercentiles(T::ScaleIntensityRangePercentilesOptions(5, 95, 0, 1)
                                             .clip(!nonzero)
                                             .relative(nonzero)
                                             .channel_wise(channelWise))},
      {"ClipIntensityPercentiles",
       T::ClipIntensityPercentiles(CIP(nonzero ? std::nullopt : std::optional<double>(10), 90.5)
                                       .channel_wise(channelWise))},
      {"StdShiftIntensity",
       T::StdShiftIntensity(
           T::StdShiftIntensityOptions(0.5).nonzero(nonzero).channel_wise(channelWise))},
  };
}

TEST(StatsTransforms, CompiledEqualsEager) {
  for (at::ScalarType dtype : {at::kByte, at::kShort, at::kFloat})
    for (std::vector<int64_t> shape : {std::vector<int64_t>{2, 19, 13}, {2, 11, 9, 7}})
      for (bool channelWise : {false, true})
        for (bool nonzero : {false, true})
          for (auto &[name, step] : cases(channelWise, nonzero)) {
            med::MetaTensor img(image(dtype, shape, 3));
            T::Compose chain({step});
            at::Tensor ref = chain.eager(img).data;
            for (bool fuse : {true, false})
              for (int threads : {1, 2}) {
                auto run = chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
                expectClose(
                    run(img).data, ref,
                    name + " " + c10::toString(dtype) + " rank " + std::to_string(shape.size()) +
                        (channelWise ? " channel_wise" : "") + (nonzero ? " nonzero" : "") +
                        (fuse ? " fused" : " unfused") + " threads=" + std::to_string(threads));
              }
          }
}

// The statistics are those of the transform's input (the previous kernel's output), and the
// kernel after the split fuses the ops that follow.
TEST(StatsTransforms, StatisticsComeFromTheIntermediateImage) {
  med::MetaTensor img(image(at::kShort, {2, 16, 12, 8}, 4));
  T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1)),
                    T::ShiftIntensity(T::ShiftIntensityOptions(3.0)),
                    T::NormalizeIntensity(T::NormalizeIntensityOptions().nonzero(true)),
                    T::RandShiftIntensity(T::RandShiftIntensityOptions(0.5).prob(1.0)),
                    T::ScaleIntensityRangePercentiles(
                        T::ScaleIntensityRangePercentilesOptions(2, 98, 0, 1).channel_wise(true)),
                    T::StdShiftIntensity(T::StdShiftIntensityOptions(1.0))});
  for (bool fuse : {true, false}) {
    auto run = chain.compile(T::Schedule::cpu().fuse(fuse));
    for (uint64_t sample = 0; sample < 2; ++sample) {
      med::rt::RandomKey key{9, 0, sample, 0};
      expectClose(run.run(img, key).data, chain.eager(img, key).data,
                  std::string(fuse ? "fused" : "unfused") + " sample " + std::to_string(sample));
    }
  }
  // By hand: normalising the shifted image gives mean 0 over its non-zero voxels.
  at::Tensor mid = (img.data.to(at::kFloat) + 1000) / 2000 + 3;
  at::Tensor norm = T::NormalizeIntensity(T::NormalizeIntensityOptions().nonzero(true))
                        .eager(med::MetaTensor(mid))
                        .data;
  EXPECT_NEAR(norm.mean().item<double>(), 0.0, 1e-4);
  // Three kernels: up to the normalisation, normalisation + random shift, per-channel scaling,
  // then the std shift.
  EXPECT_EQ(chain.compile().ir(at::kShort).size(), 4u);
}

TEST(StatsTransforms, MonaiSemantics) {
  at::Tensor x = at::tensor({0.0f, 1.0f, 2.0f, 3.0f, 0.0f}).reshape({1, 1, 5});
  auto norm = [&](T::NormalizeIntensityOptions o) {
    return T::Compose({T::NormalizeIntensity(o)}).compile()(med::MetaTensor(x)).data.reshape(-1);
  };
  // Population std: mean 1.2, std sqrt(1.36).
  at::Tensor all = norm({});
  EXPECT_NEAR(all[1].item<double>(), (1 - 1.2) / std::sqrt(1.36), 1e-6);
  at::Tensor nz = norm(T::NormalizeIntensityOptions().nonzero(true));
  EXPECT_EQ(nz[0].item<double>(), 0.0);
  EXPECT_NEAR(nz[3].item<double>(), 1.0 / std::sqrt(2.0 / 3.0), 1e-6);
  // Zero std -> divisor 1.
  at::Tensor flat = T::NormalizeIntensity().eager(med::MetaTensor(at::full({1, 2, 2}, 7.0f))).data;
  EXPECT_TRUE(at::equal(flat, at::zeros({1, 2, 2})));
  // Linear interpolation between order statistics (np.percentile): 25th of 0..4 -> 1, 90th -> 3.6.
  at::Tensor r = at::arange(5, at::kFloat).reshape({1, 1, 5});
  at::Tensor clipped =
      T::Compose({T::ClipIntensityPercentiles({25, 90})}).compile()(med::MetaTensor(r)).data;
  EXPECT_TRUE(at::allclose(clipped, at::tensor({1.0f, 1.0f, 2.0f, 3.0f, 3.6f}).reshape({1, 1, 5})));
  EXPECT_EQ(clipped.scalar_type(), at::kFloat);
}

TEST(StatsTransforms, DictionaryForm) {
  med::Data d{{"image", med::MetaTensor(image(at::kFloat, {1, 8, 8}, 5))},
              {"label", med::MetaTensor(image(at::kFloat, {1, 8, 8}, 6))}};
  T::Compose chain({T::NormalizeIntensityd({"image"}, T::NormalizeIntensityOptions())});
  med::Data out = chain.compile()(d);
  expectClose(out["image"].data, chain.eager(d)["image"].data, "image");
  EXPECT_TRUE(at::equal(out["label"].data, d["label"].data));
}

void expectError(const std::function<void()> &f, const std::string &where) {
  try {
    f();
    ADD_FAILURE() << "no error for " << where;
  } catch (const med::Error &e) {
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
  }
}

TEST(StatsTransforms, BadParametersNameTheTransformAndParameter) {
  using O = T::ScaleIntensityRangePercentilesOptions;
  expectError([] { T::ScaleIntensityRangePercentiles(O(-1, 95, 0, 1)); },
              "ScaleIntensityRangePercentiles.lower");
  expectError([] { T::ScaleIntensityRangePercentiles(O(5, 101, 0, 1)); },
              "ScaleIntensityRangePercentiles.upper");
  expectError([] { T::ScaleIntensityRangePercentiles(O(90, 10, 0, 1)); },
              "ScaleIntensityRangePercentiles.upper");
  expectError([] { T::ScaleIntensityRangePercentiles(O(5, 95, 0, {}).relative(true)); },
              "ScaleIntensityRangePercentiles.relative");
  expectError([] { T::ClipIntensityPercentiles({{}, {}}); }, "ClipIntensityPercentiles.lower");
  expectError([] { T::ClipIntensityPercentiles({60, 40}); }, "ClipIntensityPercentiles.upper");
  expectError(
      [] {
        T::NormalizeIntensity(T::NormalizeIntensityOptions().subtrahend({1, 2}));
      },
      "NormalizeIntensity.subtrahend");
  expectError([] { T::StdShiftIntensity(T::StdShiftIntensityOptions(NAN)); },
              "StdShiftIntensity.factor");
  T::Compose chain(
      {T::NormalizeIntensity(T::NormalizeIntensityOptions().divisor({1, 2}).channel_wise(true))});
  expectError(
      [&] {
        chain.compile()(med::MetaTensor(at::ones({3, 4, 4})));
      },
      "NormalizeIntensity.divisor");
}

} // namespace
