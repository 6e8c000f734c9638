// Bad input gives a med::Error that names the transform, parameter or key; nothing crashes.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <cmath>

#include "med/core/error.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/resample.h"
#include "med/transforms/resample_random.h"
#include "test_util.h"

namespace T = med::transforms;

namespace {

TEST(TransformErrors, InvalidAttributesFailAtConstructionNamingTransformAndParameter) {
  expectError([] { T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(NAN, 1)); },
              {"ScaleIntensityRange", "a_min", "finite"});
  expectError([] { T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1).clip(true)); },
              {"ScaleIntensityRange", "clip", "b_min"});
  expectError([] { T::ClipIntensity(T::ClipIntensityOptions(2.0, 1.0)); },
              {"ClipIntensity", "'min'", "'max'"});
  expectError([] { T::ClipIntensity(T::ClipIntensityOptions(std::nullopt, std::nullopt)); },
              {"ClipIntensity", "at least one"});
  expectError([] { T::ShiftIntensity(T::ShiftIntensityOptions(INFINITY)); },
              {"ShiftIntensity", "offset"});
  expectError([] { T::ScaleIntensity(T::ScaleIntensityOptions().minv({}).maxv({})); },
              {"ScaleIntensity", "factor"});
  expectError([] { T::ThresholdIntensity(T::ThresholdIntensityOptions(NAN)); },
              {"ThresholdIntensity", "threshold"});
  expectError([] { T::Schedule::cpu().threads(0); }, {"Schedule.threads"});
}

TEST(TransformErrors, WrongRankNamesTheExpectedLayout) {
  T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(1))});
  for (auto shape : {std::vector<int64_t>{5}, std::vector<int64_t>{1, 2, 3, 4, 5}}) {
    med::MetaTensor img(at::zeros(shape));
    expectError([&] { chain.compile()(img); }, {"Compose", "channel-first", "rank"});
    expectError([&] { chain.eager(img); }, {"Compose", "channel-first"});
  }
}

TEST(TransformErrors, BicubicOnAVolumeNamesTheMode) {
  // grid_sample has no 3-D bicubic: a med::Error naming the transform's mode, not ATen's error.
  med::MetaTensor img(at::rand({1, 6, 5, 4}));
  T::Compose affine({T::Affine(T::AffineOptions().rotate_params({0.1, 0, 0}).mode("bicubic"))});
  expectError([&] { affine.compile()(img); }, {"Affine.mode", "bicubic", "2 spatial axes"});
  T::Compose elastic({T::Rand3DElastic(
      T::Rand3DElasticOptions({1, 2}, {1, 2}).prob(1.0).mode("bicubic").padding_mode("zeros"))});
  expectError([&] { elastic.eager(img); }, {"Rand3DElastic.mode", "bicubic"});
}

TEST(TransformErrors, ParameterThatDoesNotFitTheImageTypeIsRefused) {
  T::Compose chain({T::ThresholdIntensity(T::ThresholdIntensityOptions(10).cval(-1))});
  med::MetaTensor img(at::zeros({1, 4, 4}, at::kByte));
  expectError([&] { chain.compile()(img); }, {"ThresholdIntensity.cval", "uint8"});
}

TEST(TransformErrors, UnsupportedDtypeIsNamed) {
  T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(1))});
  med::MetaTensor img(at::zeros({1, 4, 4}, at::kBool));
  expectError([&] { chain.compile()(img); }, {"Compose", "Bool"});
}

TEST(TransformErrors, MissingKeyIsNamedUnlessAllowed) {
  med::Data d{{"image", med::MetaTensor(at::zeros({1, 4, 4}))}};
  T::Compose strict({T::ShiftIntensityd({"image", "label"}, T::ShiftIntensityOptions(1))});
  expectError([&] { strict.compile()(d); }, {"label", "missing", "image"});
  expectError([&] { strict.eager(d); }, {"label", "missing"});
  T::Compose lenient({T::ShiftIntensityd({"image", "label"}, T::ShiftIntensityOptions(1), true)});
  med::Data out = lenient.compile()(d);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(at::equal(out.at("image").data, at::ones({1, 4, 4})));
}

TEST(TransformErrors, MixingArrayAndDictionaryFlavoursIsRefused) {
  expectError(
      [] {
        T::Compose({T::ShiftIntensity(T::ShiftIntensityOptions(1)),
                    T::ShiftIntensityd({"image"}, T::ShiftIntensityOptions(1))});
      },
      {"Compose", "mixes"});
  T::Compose arrayChain({T::ShiftIntensity(T::ShiftIntensityOptions(1))});
  expectError([&] { arrayChain.compile()(med::Data{}); }, {"array transforms"});
}

} // namespace
