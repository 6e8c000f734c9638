// TestTimeAugmentation against hand-built references: each augmented copy is recognised by
// comparing it with at::flip of the input, and the expected inverted predictions, their mean,
// std, mode and vvc are computed with plain ATen.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/inferers/test_time_augmentation.h"
#include "med/transforms/spatial_random.h"

namespace T = med::transforms;
using med::inferers::TestTimeAugmentation;
using med::inferers::TestTimeAugmentationOptions;

namespace {

med::MetaTensor image() {
  return med::MetaTensor(at::arange(6 * 5 * 4, at::kFloat).remainder(7).reshape({1, 6, 5, 4}));
}

T::Compose flips() {
  return T::Compose({T::RandFlipd({"image"}, T::RandFlipOptions(0).prob(0.5))});
}

// A predictor that is not flip-equivariant: it adds a ramp along the first spatial axis of the
// grid it sees, so undoing a flip leaves the ramp reversed.
at::Tensor rampPredictor(const at::Tensor &x) {
  at::Tensor ramp = at::arange(x.size(2), x.options()).reshape({1, 1, -1, 1, 1});
  return x + ramp;
}

} // namespace

TEST(TestTimeAugmentation, InvertsEachCopyAndSummarises) {
  med::MetaTensor img = image();
  const int64_t n = 10;
  const uint64_t seed = 3;
  TestTimeAugmentation tta(flips(), rampPredictor, TestTimeAugmentationOptions().seed(seed));
  at::Tensor all = tta.full({{"image", img}}, n);

  // Reference: which copies were flipped (from the augmented image itself), then the ramp seen
  // on the augmented grid mapped back by hand.
  T::Compose reference = flips();
  at::Tensor ramp = at::arange(6, at::kFloat).reshape({1, -1, 1, 1}).expand({1, 6, 5, 4});
  std::vector<at::Tensor> expected;
  int flipped = 0;
  for (int64_t i = 0; i < n; ++i) {
    med::Data aug =
        reference.eager(med::Data{{"image", img}}, {seed, 0, static_cast<uint64_t>(i), 0});
    bool isFlipped = aug.at("image").data.equal(at::flip(img.data, {1}));
    ASSERT_TRUE(isFlipped || aug.at("image").data.equal(img.data));
    flipped += isFlipped;
    expected.push_back(img.data + (isFlipped ? at::flip(ramp, {1}) : ramp));
  }
  ASSERT_GT(flipped, 0);
  ASSERT_LT(flipped, n);
  at::Tensor want = at::stack(expected, 0);
  ASSERT_EQ(all.sizes(), want.sizes());
  EXPECT_TRUE(at::allclose(all, want));

  auto r = tta({{"image", img}}, n);
  EXPECT_TRUE(at::allclose(r.mean, want.mean(0)));
  EXPECT_TRUE(at::allclose(r.std, want.std(0)));
  EXPECT_NEAR(r.vvc, (want.std() / want.mean()).item<double>(), 1e-6);
  // Mode: with k flipped copies out of n, each voxel takes one of two values; the majority wins
  // (the smaller value on a tie).
  at::Tensor a = img.data + ramp, b = img.data + at::flip(ramp, {1});
  at::Tensor wantMode = flipped * 2 > n ? b : flipped * 2 < n ? a : at::minimum(a, b);
  EXPECT_TRUE(r.mode.equal(wantMode.to(at::kLong)));
}

TEST(TestTimeAugmentation, EquivariantPredictorHasNoSpread) {
  med::MetaTensor img = image();
  auto pred = [](const at::Tensor &x) { return x * 2 + 1; };
  // Rotations by 90 degrees change the grid's shape; inversion restores it.
  T::Compose aug({T::RandFlipd({"image"}, T::RandFlipOptions(0).prob(0.5)),
                  T::RandRotate90d({"image"}, T::RandRotate90Options().prob(0.7))});
  auto r = TestTimeAugmentation(aug, pred)({{"image", img}}, 6);
  EXPECT_TRUE(r.mean.equal(img.data * 2 + 1));
  EXPECT_TRUE(r.std.equal(at::zeros_like(img.data)));
  EXPECT_TRUE(r.mode.equal((img.data * 2 + 1).to(at::kLong)));
}

TEST(TestTimeAugmentation, BatchSizeDoesNotChangeResults) {
  med::MetaTensor img = image();
  at::Tensor one = TestTimeAugmentation(flips(), rampPredictor).full({{"image", img}}, 7);
  at::Tensor three =
      TestTimeAugmentation(flips(), rampPredictor, TestTimeAugmentationOptions().batch_size(3))
          .full({{"image", img}}, 7);
  EXPECT_TRUE(one.equal(three));
}

TEST(TestTimeAugmentation, PostFuncIsAppliedToEachInvertedPrediction) {
  med::MetaTensor img = image();
  auto post = [](const at::Tensor &p) { return p.gt(3).to(at::kFloat); };
  at::Tensor all =
      TestTimeAugmentation(flips(), rampPredictor, TestTimeAugmentationOptions().post_func(post))
          .full({{"image", img}}, 4);
  at::Tensor raw = TestTimeAugmentation(flips(), rampPredictor).full({{"image", img}}, 4);
  EXPECT_TRUE(all.equal(raw.gt(3).to(at::kFloat)));
}

TEST(TestTimeAugmentation, BadInputNamesTheParameter) {
  med::MetaTensor img = image();
  auto expectError = [](auto f, const std::string &what) {
    try {
      f();
      FAIL() << "expected med::Error mentioning " << what;
    } catch (const med::Error &e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expectError([&] { TestTimeAugmentation(flips(), nullptr); }, "inferrer_fn");
  expectError(
      [&] {
        TestTimeAugmentation(flips(), rampPredictor, TestTimeAugmentationOptions().batch_size(0));
      },
      "batch_size");
  TestTimeAugmentation tta(flips(), rampPredictor);
  expectError([&] { tta.full({{"image", img}}, 0); }, "num_examples");
  expectError([&] { tta.full({{"label", img}}, 2); }, "image_key");
  TestTimeAugmentation bad(flips(), [](const at::Tensor &x) { return x[0]; });
  expectError([&] { bad.full({{"image", img}}, 2); }, "inferrer_fn");
}
