// Distance transforms against brute-force nearest-zero searches.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "med/core/error.h"
#include "med/metrics/distance_transform.h"

namespace M = med::metrics;

namespace {

/// For each voxel, min over zero voxels of the metric distance (O(n^2), explicit loops).
at::Tensor bruteForce(const at::Tensor &mask, const std::vector<double> &sp,
                      const std::string &metric) {
  at::Tensor m = mask.contiguous().to(at::kByte);
  const int64_t n = m.numel(), dims = m.dim();
  std::vector<std::vector<int64_t>> coords(n, std::vector<int64_t>(dims));
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = i;
    for (int64_t a = dims - 1; a >= 0; --a) {
      coords[i][a] = r % m.size(a);
      r /= m.size(a);
    }
  }
  const uint8_t *p = m.data_ptr<uint8_t>();
  at::Tensor out = at::empty(m.sizes(), at::kDouble);
  double *o = out.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    double best = p[i] == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    if (p[i] != 0)
      for (int64_t j = 0; j < n; ++j) {
        if (p[j] != 0)
          continue;
        double sq = 0, mx = 0, sum = 0;
        for (int64_t a = 0; a < dims; ++a) {
          double d = std::abs(double(coords[i][a] - coords[j][a]));
          sq += (d * sp[a]) * (d * sp[a]);
          mx = std::max(mx, d);
          sum += d;
        }
        double v = metric == "euclidean" ? std::sqrt(sq) : metric == "chessboard" ? mx : sum;
        best = std::min(best, v);
      }
    o[i] = best;
  }
  return out;
}

} // namespace

TEST(DistanceTransform, EdtMatchesBruteForce3DWithSpacing) {
  at::manual_seed(1);
  for (double density : {0.02, 0.2, 0.7}) {
    at::Tensor mask = at::rand({9, 7, 6}) > density;
    std::vector<double> sp = {1.5, 0.8, 2.0};
    at::Tensor ours = M::distance_transform_edt(mask, sp);
    EXPECT_TRUE(at::allclose(ours, bruteForce(mask, sp, "euclidean"), 1e-12, 1e-9)) << density;
  }
}

TEST(DistanceTransform, EdtMatchesBruteForce2DAndOneThread) {
  at::manual_seed(2);
  at::Tensor mask = at::rand({17, 11}) > 0.1;
  at::Tensor ref = bruteForce(mask, {1.0, 1.0}, "euclidean");
  EXPECT_TRUE(at::allclose(M::distance_transform_edt(mask), ref, 1e-12, 1e-9));
  int threads = at::get_num_threads();
  at::set_num_threads(1);
  EXPECT_TRUE(at::equal(M::distance_transform_edt(mask), M::distance_transform_edt(mask)));
  EXPECT_TRUE(at::allclose(M::distance_transform_edt(mask, {0.5}), ref * 0.5, 1e-12, 1e-9));
  at::set_num_threads(threads);
}

TEST(DistanceTransform, CdtChessboardAndTaxicabMatchBruteForce) {
  at::manual_seed(3);
  for (const std::string metric : {"chessboard", "taxicab"}) {
    at::Tensor m3 = at::rand({8, 9, 7}) > 0.05;
    EXPECT_TRUE(at::equal(M::distance_transform_cdt(m3, metric), bruteForce(m3, {1, 1, 1}, metric)))
        << metric;
    at::Tensor m2 = at::rand({13, 10}) > 0.03;
    EXPECT_TRUE(at::equal(M::distance_transform_cdt(m2, metric), bruteForce(m2, {1, 1}, metric)))
        << metric;
  }
}

TEST(DistanceTransform, NoZeroGivesInfAndBadArgumentsThrow) {
  at::Tensor ones = at::ones({4, 5});
  EXPECT_TRUE(at::isinf(M::distance_transform_edt(ones)).all().item<bool>());
  EXPECT_TRUE(at::isinf(M::distance_transform_cdt(ones, "taxicab")).all().item<bool>());
  // An empty first axis: an empty result, nothing read or written.
  EXPECT_EQ(M::distance_transform_edt(at::ones({0, 5, 3})).sizes(), at::IntArrayRef({0, 5, 3}));
  EXPECT_THROW(M::distance_transform_edt(ones, {1.0, 2.0, 3.0}), med::Error);
  EXPECT_THROW(M::distance_transform_edt(ones, {1.0, -2.0}), med::Error);
  try {
    M::distance_transform_cdt(ones, "manhattan");
    FAIL();
  } catch (const med::Error &e) {
    EXPECT_EQ(e.where(), "distance_transform_cdt.metric");
  }
}
