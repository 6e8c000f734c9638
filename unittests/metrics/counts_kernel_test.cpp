// The generated counting kernel (med.overlap_counts through med::kernels::overlap_counts) against
// ATen's own comparisons and sums: every image dtype, slabs whose lengths straddle the kernel's
// 16 lanes and 65536-element blocks, NaN and non-binary values in the bulk, the tail and later
// blocks, and thread counts. Also the moments kernel (med.moments), which the statistics
// transforms use, against ATen's float32 sums.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "error_where.h"
#include "med/core/error.h"
#include "med/kernels/reductions.h"
#include "med/metrics/metric.h"

namespace K = med::kernels;
using med::testing::errorWhere;

namespace {

/// (slabs, 4) [|P and Y|, |P|, |Y|, bad] by ATen comparisons over a (slabs, len) view.
at::Tensor reference(const at::Tensor &p, const at::Tensor &y, int64_t slabs, bool binary) {
  at::Tensor a = p.to(at::kDouble).reshape({slabs, -1}), b = y.to(at::kDouble).reshape({slabs, -1});
  at::Tensor pa = a.ne(0), yb = b.ne(0);
  auto off = [&](const at::Tensor &v) { return binary ? v.ne(0).logical_and(v.ne(1)) : v.isnan(); };
  at::Tensor bad = off(a).logical_or(off(b)).any(1);
  return at::stack({pa.logical_and(yb).sum(1), pa.sum(1), yb.sum(1), bad}, 1).to(at::kDouble);
}

/// Values in {0, 1} (or {0, 1, 2} when `wide`) of the given dtype.
at::Tensor mask(int64_t n, at::ScalarType t, bool wide, int64_t seed) {
  at::manual_seed(seed);
  return at::randint(wide ? 3 : 2, {n}, at::kLong).to(t);
}

} // namespace

TEST(CountsKernel, EveryDtypeAndLengthMatchesATen) {
  const std::vector<at::ScalarType> types = {at::kByte, at::kChar,  at::kShort, at::kInt,
                                             at::kLong, at::kFloat, at::kDouble};
  // Slab lengths around the lanes (16) and the blocks (65536).
  const std::vector<int64_t> lengths = {1, 15, 16, 17, 65536, 65536 + 17, 3 * 65536 - 1};
  int64_t seed = 0;
  for (at::ScalarType t : types)
    for (int64_t len : lengths)
      for (int64_t slabs : {1, 3}) {
        at::Tensor p = mask(slabs * len, t, false, ++seed), y = mask(slabs * len, t, false, ++seed);
        for (int threads : {1, 2}) {
          at::Tensor k = K::overlap_counts(p, y, slabs, true, threads, "Test");
          EXPECT_TRUE(at::equal(k, reference(p, y, slabs, true)))
              << c10::toString(t) << " len " << len << " slabs " << slabs << " threads " << threads;
        }
      }
}

TEST(CountsKernel, NonBinaryValuesCountAsSetAndAreFlaggedOnlyWhenBinary) {
  for (at::ScalarType t : {at::kByte, at::kShort, at::kFloat, at::kDouble}) {
    at::Tensor p = mask(2 * 70001, t, true, 11), y = mask(2 * 70001, t, true, 12);
    for (bool binary : {false, true}) {
      at::Tensor k = K::overlap_counts(p, y, 2, binary, 2, "Test");
      EXPECT_TRUE(at::equal(k, reference(p, y, 2, binary))) << c10::toString(t);
      EXPECT_EQ(k[0][3].item<double>(), binary ? 1.0 : 0.0);
    }
  }
}

TEST(CountsKernel, NanIsSetAndFlagsItsSlabWherever) {
  const int64_t len = 2 * 65536 + 21, slabs = 3;
  // Positions: the first element, a lane in the bulk, the second block, the last (tail) element.
  for (int64_t at : {int64_t(0), int64_t(37), int64_t(65536 + 5), len - 1})
    for (bool inTarget : {false, true})
      for (at::ScalarType t : {at::kFloat, at::kDouble}) {
        at::Tensor p = mask(slabs * len, t, false, 21), y = mask(slabs * len, t, false, 22);
        (inTarget ? y : p)[len + at] = NAN; // in slab 1 only
        for (bool binary : {false, true}) {
          at::Tensor k = K::overlap_counts(p, y, slabs, binary, 1, "Test");
          EXPECT_TRUE(at::equal(k, reference(p, y, slabs, binary))) << at << " " << inTarget;
          EXPECT_EQ(k[0][3].item<double>(), 0.0);
          EXPECT_EQ(k[1][3].item<double>(), 1.0);
          EXPECT_EQ(k[2][3].item<double>(), 0.0);
        }
      }
}

TEST(CountsKernel, EmptyAndMismatchedInputs) {
  at::Tensor none = at::zeros({0}, at::kFloat);
  EXPECT_EQ(K::overlap_counts(none, none, 0, true, 1, "Test").size(0), 0);
  at::Tensor zeros = K::overlap_counts(none, none, 2, true, 1, "Test");
  EXPECT_TRUE(at::equal(zeros, at::zeros({2, 4}, at::kDouble)));
  at::Tensor a = at::zeros({8}, at::kFloat);
  EXPECT_EQ(errorWhere([&] { K::overlap_counts(a, a.to(at::kDouble), 1, true, 1, "Test"); }),
            "Test");
  EXPECT_EQ(errorWhere([&] { K::overlap_counts(a, at::zeros({6}), 1, true, 1, "Test"); }), "Test");
  EXPECT_EQ(errorWhere([&] { K::overlap_counts(a, a, 3, true, 1, "Test"); }), "Test");
  EXPECT_EQ(
      errorWhere([&] { K::overlap_counts(a.to(at::kBool), a.to(at::kBool), 1, true, 1, "Test"); }),
      "Test");
}

TEST(MomentsKernel, CountSumAndSquaresOfFloat32ValuesMatchATen) {
  for (at::ScalarType t : {at::kByte, at::kShort, at::kInt, at::kFloat, at::kDouble})
    for (int64_t n : {0, 1, 17, 65536 + 9, 3 * 65536 + 100})
      for (bool nonzero : {false, true}) {
        at::manual_seed(n + 5);
        at::Tensor x = (at::randn({n}, at::kDouble) * 40).round().clamp(-100, 100);
        x = x * (at::rand({n}) > 0.3).to(at::kDouble); // a third zeros
        if (t == at::kByte)
          x = x.abs();
        x = x.to(t);
        at::Tensor v = x.to(at::kFloat).to(at::kDouble);
        if (nonzero)
          v = v.masked_select(v != 0);
        auto m = K::moments(x, nonzero, 2, "Test");
        EXPECT_EQ(m[0], double(v.numel())) << c10::toString(t) << " " << n;
        EXPECT_NEAR(m[1], v.sum().item<double>(), 1e-9 * (1 + v.abs().sum().item<double>()));
        EXPECT_NEAR(m[2], (v * v).sum().item<double>(), 1e-9 * (1 + (v * v).sum().item<double>()));
        auto one = K::moments(x, nonzero, 1, "Test");
        EXPECT_EQ(one, m); // block order, whatever the threads
      }
  // float64 values are read as float32, as the reference's statistics read them.
  at::Tensor d = at::full({3}, 0.1, at::kDouble);
  EXPECT_EQ(K::moments(d, false, 1, "Test")[1], 3.0 * double(0.1f));
  // NaN is nonzero: it counts, and it reaches the sums.
  at::Tensor nanx = at::zeros({40});
  nanx[33] = NAN;
  auto m = K::moments(nanx, true, 1, "Test");
  EXPECT_EQ(m[0], 1.0);
  EXPECT_TRUE(std::isnan(m[1]));
  EXPECT_EQ(errorWhere([&] { K::moments(at::zeros({4, 4}).t(), false, 1, "Test"); }), "Test");
}

// The metrics' entry: bool read as bytes, half widened, mixed dtypes promoted, (B, C, 3) out,
// and the first bad slab named.
TEST(CountsKernel, MetricEntryHandlesBoolHalfAndMixedTypes) {
  at::Tensor p = mask(2 * 3 * 40, at::kFloat, false, 31).view({2, 3, 40});
  at::Tensor y = mask(2 * 3 * 40, at::kFloat, false, 32).view({2, 3, 40});
  at::Tensor want = reference(p, y, 6, true).narrow(1, 0, 3).view({2, 3, 3});
  namespace D = med::metrics::detail;
  EXPECT_TRUE(at::equal(D::overlap_counts(p.to(at::kBool), y.to(at::kBool), "T", true), want));
  EXPECT_TRUE(at::equal(D::overlap_counts(p.to(at::kHalf), y.to(at::kHalf), "T", true), want));
  EXPECT_TRUE(at::equal(D::overlap_counts(p.to(at::kByte), y.to(at::kLong), "T", true), want));
  at::Tensor yn = y.clone();
  yn[1][2][39] = NAN;
  EXPECT_EQ(errorWhere([&] { D::overlap_counts(p, yn, "T", false); }), "T.y");
  at::Tensor ph = p.to(at::kHalf);
  ph[0][1][3] = NAN;
  EXPECT_EQ(errorWhere([&] { D::overlap_counts(ph, y.to(at::kHalf), "T", false); }), "T.y_pred");
  at::Tensor p2 = p.clone();
  p2[1][0][0] = 2;
  EXPECT_EQ(errorWhere([&] { D::overlap_counts(p2, y, "T", true); }), "T.y_pred");
  EXPECT_EQ(errorWhere([&] { D::overlap_counts(p2, y, "T", false); }), "");
}
