// Hausdorff, average surface distance and surface Dice against a brute-force reference: surface
// voxels found by explicit neighbour loops, all pairwise distances between the two surfaces.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "error_where.h"
#include "med/core/error.h"
#include "med/metrics/surface_distance.h"
#include "with_threads.h"

namespace M = med::metrics;
using med::testing::errorWhere;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Pts = std::vector<std::vector<int64_t>>;

/// Surface voxels of a spatial mask: set, with a face neighbour unset or outside.
Pts surface(const at::Tensor &mask) {
  at::Tensor m = mask.contiguous().to(at::kByte);
  const int64_t n = m.numel(), dims = m.dim();
  const uint8_t *p = m.data_ptr<uint8_t>();
  Pts out;
  for (int64_t i = 0; i < n; ++i) {
    if (!p[i])
      continue;
    std::vector<int64_t> c(dims);
    int64_t r = i;
    for (int64_t a = dims - 1; a >= 0; --a) {
      c[a] = r % m.size(a);
      r /= m.size(a);
    }
    bool edge = false;
    for (int64_t a = 0; a < dims && !edge; ++a)
      for (int64_t s : {-1, 1}) {
        std::vector<int64_t> q = c;
        q[a] += s;
        if (q[a] < 0 || q[a] >= m.size(a)) {
          edge = true;
          break;
        }
        int64_t j = 0;
        for (int64_t b = 0; b < dims; ++b)
          j = j * m.size(b) + q[b];
        if (!p[j]) {
          edge = true;
          break;
        }
      }
    if (edge)
      out.push_back(c);
  }
  return out;
}

/// For each point of `from`, the Euclidean distance (scaled) to the nearest point of `to`.
std::vector<double> nearest(const Pts &from, const Pts &to, const std::vector<double> &sp) {
  std::vector<double> d;
  for (const auto &a : from) {
    double best = kInf;
    for (const auto &b : to) {
      double sq = 0;
      for (size_t k = 0; k < a.size(); ++k)
        sq += std::pow((a[k] - b[k]) * sp[k], 2);
      best = std::min(best, std::sqrt(sq));
    }
    d.push_back(best);
  }
  return d;
}

double pct(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double r = q / 100 * (v.size() - 1);
  size_t lo = size_t(r), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (r - lo) * (v[hi] - v[lo]);
}

struct Ref {
  at::Tensor hd, hd95, asd, nsd;
};

/// Reference metrics for (B, C, *spatial) masks, background included, both surfaces non-empty.
Ref reference(const at::Tensor &pred, const at::Tensor &gt, const std::vector<double> &sp,
              double tol) {
  const int64_t B = pred.size(0), C = pred.size(1);
  Ref r{at::empty({B, C}, at::kDouble), at::empty({B, C}, at::kDouble),
        at::empty({B, C}, at::kDouble), at::empty({B, C}, at::kDouble)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      Pts sp_ = surface(pred[b][c]), sg = surface(gt[b][c]);
      std::vector<double> pg = nearest(sp_, sg, sp), gp = nearest(sg, sp_, sp);
      double mx = std::max(*std::max_element(pg.begin(), pg.end()),
                           *std::max_element(gp.begin(), gp.end()));
      r.hd[b][c] = mx;
      r.hd95[b][c] = std::max(pct(pg, 95), pct(gp, 95));
      double sum = 0, ok = 0;
      for (double x : pg)
        sum += x, ok += x <= tol;
      for (double x : gp)
        sum += x, ok += x <= tol;
      r.asd[b][c] = sum / double(pg.size() + gp.size());
      r.nsd[b][c] = ok / double(pg.size() + gp.size());
    }
  return r;
}

/// Random blobs (thresholded smoothed noise) that touch the image border.
at::Tensor blobs(at::IntArrayRef shape, int64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::rand(shape);
  at::Tensor s = x.dim() == 5 ? at::avg_pool3d(x, 3, 1, 1) : at::avg_pool2d(x, 3, 1, 1);
  return (s > 0.5).to(at::kFloat);
}

void expectClose(const at::Tensor &ours, const at::Tensor &ref) {
  EXPECT_TRUE(at::allclose(ours.to(at::kDouble), ref, 1e-5, 1e-5)) << ours << "\n" << ref;
}

} // namespace

TEST(SurfaceMetrics, ThreeDWithSpacingMatchBruteForce) {
  at::Tensor pred = blobs({2, 2, 10, 9, 8}, 1), gt = blobs({2, 2, 10, 9, 8}, 2);
  std::vector<double> sp = {1.5, 0.8, 2.0};
  Ref r = reference(pred, gt, sp, 1.7);
  M::SpacingPerItem s = {sp};
  expectClose(M::compute_hausdorff_distance(pred, gt, true, "euclidean", std::nullopt, false, s),
              r.hd);
  expectClose(M::compute_hausdorff_distance(pred, gt, true, "euclidean", 95.0, false, s), r.hd95);
  expectClose(M::compute_average_surface_distance(pred, gt, true, true, "euclidean", s), r.asd);
  expectClose(M::compute_surface_dice(pred, gt, {1.7, 1.7}, true, "euclidean", s), r.nsd);
}

TEST(SurfaceMetrics, TwoDMatchBruteForce) {
  at::Tensor pred = blobs({3, 1, 16, 13}, 3), gt = blobs({3, 1, 16, 13}, 4);
  Ref r = reference(pred, gt, {1.0, 1.0}, 1.0);
  M::HausdorffDistanceMetric hd(M::HausdorffDistanceMetricOptions().include_background(true));
  expectClose(hd(pred, gt), r.hd);
  M::SurfaceDiceMetric nsd(M::SurfaceDiceMetricOptions({1.0}).include_background(true));
  expectClose(nsd(pred, gt), r.nsd);
}

TEST(SurfaceMetrics, EmptyAndFullMasksFollowMonai) {
  at::Tensor gt = at::zeros({1, 2, 6, 6, 6});
  at::Tensor pred = at::zeros({1, 2, 6, 6, 6});
  gt[0][1].slice(0, 1, 4).slice(1, 1, 4).slice(2, 1, 4).fill_(1); // class 1 in gt only
  M::HausdorffDistanceMetric hd;                                  // background dropped
  at::Tensor v = hd(pred, gt);
  EXPECT_TRUE(std::isinf(v[0][0].item<double>()));
  M::HausdorffDistanceMetric hd95(M::HausdorffDistanceMetricOptions().percentile(95));
  EXPECT_TRUE(std::isnan(hd95(pred, gt)[0][0].item<double>()));
  EXPECT_TRUE(std::isnan(hd(pred, pred)[0][0].item<double>())); // both empty
  M::SurfaceDiceMetric nsd(M::SurfaceDiceMetricOptions({1.0}));
  EXPECT_EQ(nsd(pred, gt)[0][0].item<double>(), 0.0);
  // The diagonal policy: the largest distance inside a 6^3 grid with spacing 2 = 2 * 5 * sqrt(3).
  M::HausdorffDistanceMetric worst(M::HausdorffDistanceMetricOptions().empty_policy("diagonal"));
  EXPECT_NEAR(worst(pred, gt, std::vector<double>{2.0})[0][0].item<double>(), 10 * std::sqrt(3.0),
              1e-5);
  M::SurfaceDistanceMetric fixed(
      M::SurfaceDistanceMetricOptions().empty_policy("value").empty_value(42));
  EXPECT_EQ(fixed(pred, gt)[0][0].item<double>(), 42.0);
  // A full mask against itself: its surface is the image border, distance 0.
  at::Tensor full = at::ones({1, 2, 5, 5, 5});
  EXPECT_EQ(hd(full, full)[0][0].item<double>(), 0.0);
}

TEST(SurfaceMetrics, CumulativeAggregateEqualsOneCall) {
  at::Tensor pred = blobs({4, 3, 9, 8, 7}, 5), gt = blobs({4, 3, 9, 8, 7}, 6);
  M::SurfaceDistanceMetric parts(M::SurfaceDistanceMetricOptions().symmetric(true));
  parts(pred.slice(0, 0, 1), gt.slice(0, 0, 1));
  parts(pred.slice(0, 1, 4), gt.slice(0, 1, 4));
  M::SurfaceDistanceMetric whole(M::SurfaceDistanceMetricOptions().symmetric(true));
  whole(pred, gt);
  EXPECT_TRUE(at::allclose(parts.get_buffer(), whole.get_buffer()));
  EXPECT_TRUE(at::allclose(parts.aggregate(), whole.aggregate()));
  EXPECT_TRUE(at::allclose(parts.aggregate("mean_batch"), whole.aggregate("mean_batch")));
  parts.reset();
  EXPECT_THROW(parts.aggregate(), med::Error);
}

TEST(SurfaceMetrics, GetMaskEdgesAndSurfaceDistance) {
  at::Tensor m = at::zeros({5, 5}, at::kBool);
  m.slice(0, 1, 4).slice(1, 1, 4).fill_(true); // 3x3 square: 8 edge voxels, centre not an edge
  auto [ep, eg] = M::get_mask_edges(m, m, 1, false);
  EXPECT_EQ(ep.sum().item<int64_t>(), 8);
  EXPECT_FALSE(ep[2][2].item<bool>());
  auto [cp, cg] = M::get_mask_edges(m, m, 1, true); // cropped to the box grown by one voxel
  EXPECT_EQ(cp.size(0), 5);
  at::Tensor one = at::zeros({5, 5}, at::kBool);
  one[0][0] = true;
  at::Tensor d = M::get_surface_distance(one, ep, "euclidean", {2.0, 1.0});
  ASSERT_EQ(d.numel(), 1);
  EXPECT_NEAR(d.item<double>(), std::sqrt(4.0 + 1.0), 1e-12);
  EXPECT_EQ(M::get_surface_distance(one, ep, "chessboard").item<double>(), 1.0);
  EXPECT_EQ(M::get_surface_distance(one, ep, "taxicab").item<double>(), 2.0);
}

TEST(SurfaceMetrics, BadInputThrowsNamingMetricAndParameter) {
  at::Tensor a = at::zeros({1, 2, 4, 4, 4}), b = at::zeros({1, 2, 4, 4, 5});
  M::HausdorffDistanceMetric hd;
  EXPECT_EQ(errorWhere([&] { hd(a, b); }), "HausdorffDistanceMetric.y");
  EXPECT_EQ(errorWhere([&] { hd(a * 0.5 + 0.25, a); }), "HausdorffDistanceMetric.y_pred");
  at::Tensor n = a.clone();
  n[0][0][0][0][0] = std::nan("");
  EXPECT_EQ(errorWhere([&] { hd(n, a); }), "HausdorffDistanceMetric.y_pred");
  EXPECT_EQ(errorWhere([&] {
              hd(a, a, std::vector<double>{1.0, 2.0});
            }),
            "HausdorffDistanceMetric.spacing");
  EXPECT_EQ(errorWhere([] {
              M::HausdorffDistanceMetric(M::HausdorffDistanceMetricOptions().percentile(120));
            }),
            "HausdorffDistanceMetric.percentile");
  EXPECT_EQ(errorWhere([] {
              M::HausdorffDistanceMetric(M::HausdorffDistanceMetricOptions().distance_metric("l2"));
            }),
            "HausdorffDistanceMetric.distance_metric");
  M::SurfaceDiceMetric nsd(M::SurfaceDiceMetricOptions({1.0, 2.0}));
  EXPECT_EQ(errorWhere([&] { nsd(a, a); }), "SurfaceDiceMetric.class_thresholds");
}

// Two small objects far apart in a large crop box: most planes and lines of the box hold no
// surface voxel, which the distance transform skips (squared_edt_at); anisotropic spacing, and
// one and two threads.
TEST(SurfaceMetrics, SparseSurfacesInALargeBoxMatchBruteForce) {
  at::Tensor pred = at::zeros({1, 1, 30, 24, 27}), gt = at::zeros({1, 1, 30, 24, 27});
  pred.index_put_(
      {0, 0, at::indexing::Slice(2, 6), at::indexing::Slice(3, 5), at::indexing::Slice(20, 25)},
      1.0);
  gt.index_put_(
      {0, 0, at::indexing::Slice(22, 27), at::indexing::Slice(17, 21), at::indexing::Slice(1, 4)},
      1.0);
  gt[0][0][25][2][9] = 1.0; // a single voxel: its own surface
  std::vector<double> sp = {0.7, 1.3, 2.1};
  Ref r = reference(pred, gt, sp, 9.0);
  M::SpacingPerItem s = {sp};
  for (int threads : {1, 2})
    med::testing::withThreads(threads, [&] {
      expectClose(
          M::compute_hausdorff_distance(pred, gt, true, "euclidean", std::nullopt, false, s), r.hd);
      expectClose(M::compute_hausdorff_distance(pred, gt, true, "euclidean", 95.0, false, s),
                  r.hd95);
      expectClose(M::compute_average_surface_distance(pred, gt, true, true, "euclidean", s), r.asd);
      expectClose(M::compute_surface_dice(pred, gt, {9.0}, true, "euclidean", s), r.nsd);
    });
}
