#include "med/runtime/rng.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

// Known-answer vectors of Philox4x32-10 published with the Random123 library (kat_vectors).
TEST(Philox, KnownAnswerVectors) {
  using A = std::array<uint32_t, 4>;
  EXPECT_EQ(med::rt::philox4x32({0, 0, 0, 0}, {0, 0}),
            (A{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(med::rt::philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                                {0xffffffffu, 0xffffffffu}),
            (A{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(med::rt::philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                                {0xa4093822u, 0x299f31d0u}),
            (A{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Rng, StreamsAreReproducibleAndDistinct) {
  med::rt::RandomKey k{42, 0, 7, 3};
  med::rt::Rng a(k), b(k);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(a.uniform(), b.uniform());
  med::rt::RandomKey other = k;
  other.sample = 8;
  EXPECT_NE(med::rt::Rng(k).uniform(), med::rt::Rng(other).uniform());
  other = k;
  other.transform = 4;
  EXPECT_NE(med::rt::Rng(k).uniform(), med::rt::Rng(other).uniform());
}

TEST(Rng, MomentsOfManyDraws) {
  med::rt::Rng r({1, 0, 0, 0});
  double s = 0, s2 = 0, u = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double x = r.normal();
    s += x;
    s2 += x * x;
    u += r.uniform(2, 4);
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
  EXPECT_NEAR(u / n, 3.0, 0.01);
  auto key = med::rt::streamKey({5, 1, 2, 3});
  double v = 0;
  for (int i = 0; i < n; ++i)
    v += med::rt::voxelNormal(key, i);
  EXPECT_NEAR(v / n, 0.0, 0.01);
}

} // namespace
