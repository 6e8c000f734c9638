// OneOf, SomeOf, RandomOrder: choices follow the weights and counts, are reproducible for a key,
// and compiled pipelines equal the eager Compose.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <set>

#include "med/transforms/combinators.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "test_util.h"

namespace T = med::transforms;

namespace {

T::ShiftIntensity shift(double v) { return T::ShiftIntensity(T::ShiftIntensityOptions(v)); }

double firstValue(const med::MetaTensor &m) { return m.data.flatten()[0].item<double>(); }

TEST(Combinators, OneOfFollowsTheWeights) {
  med::MetaTensor zeros(at::zeros({1, 2, 2}));
  T::Compose chain({T::OneOf({shift(1), shift(100)}, {3, 1})});
  auto run = chain.compile();
  int ones = 0;
  for (uint64_t s = 0; s < 800; ++s) {
    double v = firstValue(run.run(zeros, {4, 0, s, 0}));
    ASSERT_TRUE(v == 1 || v == 100) << v;
    ones += v == 1;
  }
  EXPECT_NEAR(ones / 800.0, 0.75, 0.05);
  T::Compose never({T::OneOf({shift(1), shift(100)}, {1, 0})});
  for (uint64_t s = 0; s < 50; ++s)
    EXPECT_EQ(firstValue(never.compile().run(zeros, {4, 0, s, 0})), 1);
}

TEST(Combinators, SomeOfPicksDistinctChildrenWithinTheCount) {
  med::MetaTensor zeros(at::zeros({1, 2, 2}));
  T::Compose chain({T::SomeOf({shift(1), shift(10), shift(100)}, {1, 2})});
  std::set<double> seen;
  for (uint64_t s = 0; s < 300; ++s) {
    double v = firstValue(chain.compile().run(zeros, {5, 0, s, 0}));
    seen.insert(v);
    // Sums of one or two distinct children only.
    static const std::set<double> allowed = {1, 10, 100, 11, 101, 110};
    ASSERT_TRUE(allowed.count(v)) << v;
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(Combinators, RandomOrderRunsEveryChildInDrawnOrders) {
  med::MetaTensor ones(at::ones({1, 2, 2}));
  T::Compose chain({T::RandomOrder(
      {shift(1), T::ScaleIntensity(T::ScaleIntensityOptions().minv({}).maxv({}).factor(1.0))})});
  std::set<double> seen;
  for (uint64_t s = 0; s < 100; ++s)
    seen.insert(firstValue(chain.compile().run(ones, {6, 0, s, 0})));
  EXPECT_EQ(seen, (std::set<double>{3.0, 4.0})); // (1*2)+1 or (1+1)*2
}

TEST(Combinators, RandomChildrenAreReproducibleAndCompiledEqualsEager) {
  med::MetaTensor img(at::randn({1, 6, 5, 4}));
  T::Compose chain({shift(0.5),
                    T::OneOf({T::RandShiftIntensity(T::RandShiftIntensityOptions(3).prob(1.0)),
                              T::RandScaleIntensity(T::RandScaleIntensityOptions(0.5).prob(1.0))}),
                    T::ThresholdIntensity(T::ThresholdIntensityOptions(0.0))});
  for (uint64_t s = 0; s < 6; ++s) {
    med::rt::RandomKey key{9, 1, s, 0};
    at::Tensor a = chain.compile(T::Schedule::cpu().threads(2)).run(img, key).data;
    EXPECT_TRUE(at::equal(a, chain.compile().run(img, key).data));
    EXPECT_TRUE(at::allclose(a, chain.eager(img, key).data));
  }
}

TEST(Combinators, InvalidArgumentsAreNamed) {
  expectError([] { T::OneOf({shift(1), shift(2)}, {1}); }, {"OneOf.weights", "one weight"});
  expectError([] { T::OneOf({shift(1), shift(2)}, {1, -1}); }, {"OneOf.weights"});
  expectError([] { T::SomeOf({shift(1), shift(2)}, {1, 3}); }, {"SomeOf.num_transforms"});
  expectError([] { T::RandomOrder({}); }, {"at least one"});
}

} // namespace
