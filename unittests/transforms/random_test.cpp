// Random intensity transforms: compiled == eager reference for the same random key, results
// reproducible across runs, thread counts and schedules, and the draws behave as specified.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"

namespace T = med::transforms;

namespace {

at::Tensor image(at::ScalarType dtype, at::IntArrayRef shape, uint64_t seed) {
  at::manual_seed(seed);
  if (dtype == at::kByte)
    return at::randint(0, 256, shape, at::TensorOptions().dtype(at::kByte));
  if (dtype == at::kShort)
    return at::randint(-1000, 1000, shape, at::TensorOptions().dtype(at::kShort));
  return (at::randn(shape) * 300).to(dtype);
}

T::Compose augChain(double prob) {
  return T::Compose(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::RandShiftIntensity(T::RandShiftIntensityOptions(0.1).prob(prob)),
       T::RandGaussianNoise(T::RandGaussianNoiseOptions().std(0.1).prob(prob)),
       T::RandScaleIntensity(T::RandScaleIntensityOptions(0.2).prob(prob)),
       T::RandAdjustContrast(T::RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(prob))});
}

void expectClose(const at::Tensor &a, const at::Tensor &b, const std::string &what,
                 double atol = 1e-6) {
  ASSERT_EQ(a.scalar_type(), b.scalar_type()) << what;
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_TRUE(at::allclose(a, b, 1e-5, atol, true))
      << what << ": max diff " << (a - b).abs().max().item<double>();
}

TEST(RandomTransforms, CompiledEqualsEagerForTheSameKey) {
  for (double prob : {1.0, 0.5})
    for (at::ScalarType dtype : {at::kByte, at::kShort, at::kFloat}) {
      med::MetaTensor img(image(dtype, {1, 20, 17, 9}, 5));
      T::Compose chain = augChain(prob);
      chain.set_random_state(123);
      for (bool fuse : {true, false})
        for (int threads : {1, 2}) {
          auto run = chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
          for (uint64_t sample = 0; sample < 4; ++sample) {
            med::rt::RandomKey key{123, 2, sample, 0};
            expectClose(run.run(img, key).data, chain.eager(img, key).data,
                        std::string(c10::toString(dtype)) + " prob=" + std::to_string(prob) +
                            " sample=" + std::to_string(sample) + (fuse ? " fused" : " unfused") +
                            " threads=" + std::to_string(threads));
          }
        }
    }
}

TEST(RandomTransforms, BitwiseReproducibleAcrossRunsAndThreadCounts) {
  med::MetaTensor img(image(at::kFloat, {1, 33, 31, 29}, 6));
  T::Compose chain = augChain(1.0);
  med::rt::RandomKey key{7, 0, 3, 0};
  at::Tensor first = chain.compile(T::Schedule::cpu().threads(1)).run(img, key).data;
  for (int threads : {1, 2, 3}) {
    at::Tensor again = chain.compile(T::Schedule::cpu().threads(threads)).run(img, key).data;
    EXPECT_TRUE(at::equal(first, again)) << "threads=" << threads;
  }
  med::rt::RandomKey other = key;
  other.sample = 4;
  EXPECT_FALSE(at::equal(first, chain.compile().run(img, other).data));
}

TEST(RandomTransforms, PipelineCallsAdvanceTheStreamAndSeedRestartsIt) {
  med::MetaTensor img(image(at::kFloat, {1, 8, 8, 8}, 7));
  T::Compose chain({T::RandShiftIntensity(T::RandShiftIntensityOptions(5).prob(1.0))});
  chain.set_random_state(11);
  auto run = chain.compile();
  at::Tensor a = run(img).data, b = run(img).data;
  EXPECT_FALSE(at::equal(a, b)) << "consecutive calls draw new offsets";
  run.set_random_state(11);
  EXPECT_TRUE(at::equal(run(img).data, a));
  // The compiled pipeline and the eager Compose walk the same stream.
  chain.set_random_state(11);
  EXPECT_TRUE(at::allclose(chain.eager(img).data, a));
}

TEST(RandomTransforms, GaussianNoiseHasTheDrawnMoments) {
  med::MetaTensor zeros(at::zeros({1, 64, 64, 64}));
  T::Compose chain({T::RandGaussianNoise(
      T::RandGaussianNoiseOptions().mean(0.5).std(0.2).sample_std(false).prob(1.0))});
  at::Tensor out = chain.compile(T::Schedule::cpu().threads(2))(zeros).data;
  EXPECT_NEAR(out.mean().item<double>(), 0.5, 0.005);
  EXPECT_NEAR(out.std().item<double>(), 0.2, 0.005);
  // Never fires with prob 0: the image passes through (as float32).
  T::Compose off({T::RandGaussianNoise(T::RandGaussianNoiseOptions().prob(0.0))});
  EXPECT_TRUE(at::equal(off.compile()(zeros).data, zeros.data));
}

// A call that does not fire leaves an int32 image as stored, also values float32 cannot hold
// (the kernel computes in float32 only what it changes).
TEST(RandomTransforms, ShiftThatDoesNotFireKeepsLargeIntegersExactly) {
  at::Tensor big = at::randint(-2000000000, 2000000000, {1, 9, 8, 7}, at::kInt);
  big.view(-1)[0] = 16777217; // 2^24 + 1
  T::Compose chain({T::RandShiftIntensity(T::RandShiftIntensityOptions(5).prob(0.0))});
  at::Tensor out = chain.compile().run(med::MetaTensor(big), {1, 0, 0, 0}).data;
  EXPECT_EQ(out.scalar_type(), at::kInt);
  EXPECT_TRUE(at::equal(out, big));
}

TEST(RandomTransforms, ShiftOffsetsStayInRangeAndProbIsHonoured) {
  med::MetaTensor zeros(at::zeros({1, 4, 4}));
  T::Compose chain({T::RandShiftIntensity(T::RandShiftIntensityOptions(2.0, 3.0).prob(0.5))});
  auto run = chain.compile();
  int fired = 0;
  for (uint64_t s = 0; s < 400; ++s) {
    double v = run.run(zeros, {1, 0, s, 0}).data.flatten()[0].item<double>();
    if (v != 0.0) {
      ++fired;
      EXPECT_GE(v, 2.0);
      EXPECT_LT(v, 3.0);
    }
  }
  EXPECT_NEAR(fired / 400.0, 0.5, 0.08);
}

TEST(RandomTransforms, DictionaryKeysShareTheCallsDraws) {
  T::Compose chain({T::RandShiftIntensityd({"a", "b"}, T::RandShiftIntensityOptions(9).prob(1.0))});
  med::Data d{{"a", med::MetaTensor(at::zeros({1, 3, 3}))},
              {"b", med::MetaTensor(at::zeros({1, 3, 3}))}};
  med::Data out = chain.compile()(d);
  EXPECT_TRUE(at::equal(out.at("a").data, out.at("b").data));
  EXPECT_NE(out.at("a").data.flatten()[0].item<double>(), 0.0);
}

TEST(RandomTransforms, InvalidOptionsNameTheParameter) {
  auto expectError = [](auto f, const std::string &needle) {
    try {
      f();
      ADD_FAILURE() << "expected med::Error mentioning " << needle;
    } catch (const med::Error &e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expectError([] { T::RandShiftIntensity(T::RandShiftIntensityOptions(1).prob(1.5)); },
              "RandShiftIntensity.prob");
  expectError([] { T::RandScaleIntensity(T::RandScaleIntensityOptions(2, 1)); },
              "RandScaleIntensity.factors");
  expectError(
      [] {
        T::RandAdjustContrast(T::RandAdjustContrastOptions().gamma({-1, 2}));
      },
      "RandAdjustContrast.gamma");
  expectError([] { T::RandGaussianNoise(T::RandGaussianNoiseOptions().std(-0.1)); },
              "RandGaussianNoise.std");
}

} // namespace

namespace {

TEST(RandomTransforms, FusedScheduleStartsANewKernelAtAReduction) {
  // ScaleIntensityRange and the shift in one parallel elementwise kernel, the noise alone (the
  // CPU calls its microkernel), the scale; AdjustContrast's min/max starts the last one.
  T::Compose chain = augChain(1.0);
  EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 4u);
  EXPECT_EQ(chain.compile(T::Schedule::cpu().fuse(false)).ir(at::kFloat).size(), 5u);
}

} // namespace

namespace {

/// runBatch gives, sample for sample, exactly what run() gives alone.
void expectBatchEqualsOneAtATime(const T::Compose &chain, const std::vector<med::MetaTensor> &imgs,
                                 const std::vector<med::rt::RandomKey> &keys, int threads) {
  auto run = chain.compile(T::Schedule::cpu().threads(threads));
  std::vector<med::MetaTensor> batch = run.runBatch(imgs, keys);
  ASSERT_EQ(batch.size(), imgs.size());
  for (size_t b = 0; b < imgs.size(); ++b)
    EXPECT_TRUE(at::equal(batch[b].data, run.run(imgs[b], keys[b]).data))
        << "sample " << b << " threads " << threads;
}

TEST(RandomTransforms, BatchedLaunchEqualsOneSampleAtATime) {
  T::Compose chain = augChain(0.7);
  std::vector<med::MetaTensor> imgs;
  std::vector<med::rt::RandomKey> keys;
  for (uint64_t s = 0; s < 5; ++s) {
    // Different shapes and values per sample; same dtype.
    imgs.emplace_back(image(at::kFloat, {1, 9 + static_cast<int64_t>(s), 7, 5}, 40 + s));
    keys.push_back({3, 1, s, 0});
  }
  for (int threads : {1, 2, 3})
    expectBatchEqualsOneAtATime(chain, imgs, keys, threads);
  EXPECT_THROW(chain.compile().runBatch(imgs, {}), med::Error);
}

TEST(RandomTransforms, BatchesSplitIntoCacheSizedGroupsGiveTheSameResults) {
  // Images of about 2 MiB: on two threads a batch runs in groups of two (4 MiB of input),
  // the small last one joining the third image's group; on one thread, one image per group.
  T::Compose chain = augChain(1.0);
  std::vector<med::MetaTensor> imgs;
  std::vector<med::rt::RandomKey> keys;
  for (uint64_t s = 0; s < 4; ++s) {
    imgs.emplace_back(image(at::kFloat, {1, 80, 80, 80}, 60 + s));
    keys.push_back({9, 0, s, 0});
  }
  imgs.emplace_back(image(at::kFloat, {1, 6, 5, 4}, 70));
  keys.push_back({9, 0, 4, 0});
  for (int threads : {1, 2})
    expectBatchEqualsOneAtATime(chain, imgs, keys, threads);
}

} // namespace

namespace {

TEST(RandomTransforms, ContrastExtremaComeFromTheReductionKernel) {
  // The compiled path takes RandAdjustContrast's min/max from a med.extrema kernel run over
  // 65536-element blocks; the eager path from ATen. An image of 84000 voxels has two blocks:
  // put the minimum in the first and the maximum in the second, then a NaN in the second.
  T::Compose chain(
      {T::RandAdjustContrast(T::RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(1.0))});
  for (at::ScalarType dtype : {at::kShort, at::kFloat, at::kDouble}) {
    at::Tensor x = image(dtype, {1, 70, 40, 30}, 9);
    x.view(-1)[100] = -5000;
    x.view(-1)[80000] = 7000;
    for (int threads : {1, 2, 3}) {
      auto run = chain.compile(T::Schedule::cpu().threads(threads));
      med::rt::RandomKey key{5, 0, 1, 0};
      med::MetaTensor img(x);
      at::Tensor got = run.run(img, key).data, want = chain.eager(img, key).data;
      // In float32 (float and int16 images) the kernel's exp(gamma log x) and ATen's pow
      // differ by a few ulp of x^gamma <= 1, i.e. of the range (12000 here) once scaled back:
      // 1.5e-3 where the result nears 0. float64 keeps the usual tolerance.
      const double range = (x.max() - x.min()).item<double>();
      expectClose(got, want,
                  std::string(c10::toString(dtype)) + " threads " + std::to_string(threads),
                  dtype == at::kDouble ? 1e-6 : range * 0x1p-22);
      // The extreme voxels map onto themselves: (x - min) / range is 0 and 1 there.
      EXPECT_NEAR(got.view(-1)[100].item<double>(), -5000, 1e-3);
      EXPECT_NEAR(got.view(-1)[80000].item<double>(), 7000, 7000 * 1e-5);
    }
  }
  at::Tensor withNan = image(at::kFloat, {1, 70, 40, 30}, 10);
  withNan.view(-1)[70000] = NAN;
  at::Tensor out = chain.compile(T::Schedule::cpu().threads(2))
                       .run(med::MetaTensor(withNan), med::rt::RandomKey{5, 0, 1, 0})
                       .data;
  EXPECT_TRUE(out.isnan().all().item<bool>()) << "torch.min/max propagate NaN to every voxel";
}

} // namespace
