#include "med/runtime/dtype.h"
#include "med/runtime/meta.h"

#include <gtest/gtest.h>

namespace {

TEST(Affine, MatmulOfHandCheckedMatrices) {
  med::rt::Affine scale = med::rt::identityAffine(), shift = med::rt::identityAffine();
  scale[0] = 2;
  scale[5] = 3;
  scale[10] = 4;
  shift[3] = 1;
  shift[7] = -1;
  // scale * shift maps v to scale*(v + t): translation column becomes (2, -3, 0).
  med::rt::Affine m = med::rt::matmul(scale, shift);
  EXPECT_DOUBLE_EQ(m[3], 2);
  EXPECT_DOUBLE_EQ(m[7], -3);
  EXPECT_DOUBLE_EQ(m[10], 4);
  EXPECT_DOUBLE_EQ(med::rt::maxAbsDiff(m, scale), 3);
}

TEST(DType, NamesRoundTrip) {
  for (auto t : {med::rt::DType::UInt8, med::rt::DType::Int16, med::rt::DType::Float32,
                 med::rt::DType::Float64}) {
    med::rt::DType back;
    ASSERT_TRUE(med::rt::parseDType(med::rt::dtypeName(t), back));
    EXPECT_EQ(back, t);
  }
  med::rt::DType unused;
  EXPECT_FALSE(med::rt::parseDType("bfloat16", unused));
  EXPECT_EQ(med::rt::dtypeSize(med::rt::DType::Int16), 2);
}

} // namespace
