// SurfaceDiceMetric with use_subvoxels: the per-cell areas against hand-worked geometry and the
// cube's symmetries, and the metric against a brute-force reference that codes every 2x2x2 cell
// of the zero-padded image and compares all pairs of surface cells.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "error_where.h"
#include "med/core/error.h"
#include "med/metrics/surface_distance.h"

namespace M = med::metrics;
using med::testing::errorWhere;

namespace {

/// Bit of corner (d0, d1, d2) in a 3D code.
int bit3(int d0, int d1, int d2) { return 1 << (7 - (4 * d0 + 2 * d1 + d2)); }

/// The code after moving each corner by an axis permutation and reflections.
int transformed(int code, const std::array<int, 3> &perm, const std::array<int, 3> &flip) {
  int out = 0;
  for (int d0 = 0; d0 < 2; ++d0)
    for (int d1 = 0; d1 < 2; ++d1)
      for (int d2 = 0; d2 < 2; ++d2) {
        if (!(code & bit3(d0, d1, d2)))
          continue;
        std::array<int, 3> o{d0, d1, d2}, n{};
        for (int k = 0; k < 3; ++k)
          n[k] = flip[k] ? 1 - o[perm[k]] : o[perm[k]];
        out |= bit3(n[0], n[1], n[2]);
      }
  return out;
}

struct Cell {
  std::vector<int64_t> at;
  double area;
};

/// Surface cells of a rank-2/3 mask, padded by one zero voxel on each side: every cell whose
/// corners are neither all in nor all out, with its area from the table.
std::vector<Cell> cells(const at::Tensor &mask, const at::Tensor &table) {
  const int64_t dims = mask.dim();
  std::vector<int64_t> pad(2 * dims, 1);
  at::Tensor m = at::constant_pad_nd(mask.to(at::kByte), pad, 0).contiguous();
  auto acc = m.reshape({dims == 3 ? m.size(0) : 1, m.size(-2), m.size(-1)});
  std::vector<Cell> out;
  const int64_t n0 = acc.size(0) - (dims == 3), n1 = acc.size(1) - 1, n2 = acc.size(2) - 1;
  const int all = dims == 3 ? 255 : 15;
  for (int64_t i = 0; i < n0; ++i)
    for (int64_t j = 0; j < n1; ++j)
      for (int64_t k = 0; k < n2; ++k) {
        int code = 0;
        for (int d0 = 0; d0 < (dims == 3 ? 2 : 1); ++d0)
          for (int d1 = 0; d1 < 2; ++d1)
            for (int d2 = 0; d2 < 2; ++d2) {
              int corner = dims == 3 ? 4 * d0 + 2 * d1 + d2 : 2 * d1 + d2;
              if (acc[i + d0][j + d1][k + d2].item<uint8_t>())
                code |= 1 << ((dims == 3 ? 7 : 3) - corner);
            }
        if (code == 0 || code == all)
          continue;
        std::vector<int64_t> at =
            dims == 3 ? std::vector<int64_t>{i, j, k} : std::vector<int64_t>{j, k};
        out.push_back({at, table[code].item<double>()});
      }
  return out;
}

/// NSD by area from two surfaces of cells (both non-empty), all pairs compared.
double referenceNsd(const at::Tensor &pred, const at::Tensor &gt, const std::vector<double> &sp,
                    double tol) {
  at::Tensor table = M::get_code_to_measure_table(sp);
  std::vector<Cell> p = cells(pred, table), g = cells(gt, table);
  auto correct = [&](const std::vector<Cell> &from, const std::vector<Cell> &to) {
    double sum = 0;
    for (const Cell &a : from) {
      double best = std::numeric_limits<double>::infinity();
      for (const Cell &b : to) {
        double sq = 0;
        for (size_t k = 0; k < sp.size(); ++k)
          sq += std::pow((a.at[k] - b.at[k]) * sp[k], 2);
        best = std::min(best, sq);
      }
      sum += std::sqrt(best) <= tol ? a.area : 0.0;
    }
    return sum;
  };
  double total = 0;
  for (const Cell &c : p)
    total += c.area;
  for (const Cell &c : g)
    total += c.area;
  return (correct(p, g) + correct(g, p)) / total;
}

at::Tensor blobs(at::IntArrayRef shape, int64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::rand(shape);
  at::Tensor s = x.dim() == 5 ? at::avg_pool3d(x, 3, 1, 1) : at::avg_pool2d(x, 3, 1, 1);
  return (s > 0.5).to(at::kFloat);
}

} // namespace

TEST(SubvoxelSurface, AreasMatchHandWorkedGeometry) {
  const std::vector<double> s{1.0, 2.0, 3.0};
  at::Tensor t = M::get_code_to_measure_table(s);
  ASSERT_EQ(t.numel(), 256);
  EXPECT_EQ(t[0].item<double>(), 0.0);
  EXPECT_EQ(t[255].item<double>(), 0.0);
  // One corner cut off: the triangle through the three half-edges, area
  // |(s1 s2, s0 s2, s0 s1)| / 8 = |(6, 3, 2)| / 8 = 7/8.
  for (int corner = 0; corner < 8; ++corner)
    EXPECT_NEAR(t[1 << corner].item<double>(), 7.0 / 8.0, 1e-12) << corner;
  // Half the cell in: a plane across it, of area s1 s2, s0 s2 or s0 s1.
  EXPECT_NEAR(t[0b11110000].item<double>(), 6.0, 1e-12); // d0 = 0 side
  EXPECT_NEAR(t[0b11001100].item<double>(), 3.0, 1e-12); // d1 = 0 side
  EXPECT_NEAR(t[0b10101010].item<double>(), 2.0, 1e-12); // d2 = 0 side
  // Two corners along axis 2: a rectangle s2 long and half the (s0, s1) diagonal wide.
  EXPECT_NEAR(t[bit3(0, 0, 0) | bit3(0, 0, 1)].item<double>(), 3.0 * 0.5 * std::sqrt(5.0), 1e-12);
  // Unit spacing, one corner: the equilateral triangle of side sqrt(2)/2.
  EXPECT_NEAR(M::get_code_to_measure_table({1, 1, 1})[1].item<double>(), std::sqrt(3.0) / 8, 1e-12);
  // 2D contour lengths for spacing (2, 3): half diagonal, side, side, two half diagonals.
  at::Tensor t2 = M::get_code_to_measure_table({2.0, 3.0});
  ASSERT_EQ(t2.numel(), 16);
  EXPECT_NEAR(t2[0b0001].item<double>(), 0.5 * std::sqrt(13.0), 1e-12);
  EXPECT_NEAR(t2[0b0011].item<double>(), 3.0, 1e-12);
  EXPECT_NEAR(t2[0b0101].item<double>(), 2.0, 1e-12);
  EXPECT_NEAR(t2[0b0110].item<double>(), std::sqrt(13.0), 1e-12);
}

TEST(SubvoxelSurface, AreasFollowTheCubesSymmetries) {
  // Moving the inside corners by a symmetry of the cube moves the surface rigidly; with the
  // spacing moved along, its area is unchanged. Inside and outside swapped: the same surface.
  const std::array<double, 3> s{1.0, 2.0, 3.5};
  at::Tensor base = M::get_code_to_measure_table({s[0], s[1], s[2]});
  std::array<int, 3> perm{0, 1, 2};
  do {
    // The transformed cell's axis k is the original's axis perm[k].
    at::Tensor moved = M::get_code_to_measure_table({s[perm[0]], s[perm[1]], s[perm[2]]});
    for (int f = 0; f < 8; ++f) {
      std::array<int, 3> flip{f & 1, (f >> 1) & 1, (f >> 2) & 1};
      for (int code = 0; code < 256; ++code)
        ASSERT_NEAR(moved[transformed(code, perm, flip)].item<double>(), base[code].item<double>(),
                    1e-12)
            << "code " << code << " perm " << perm[0] << perm[1] << perm[2] << " flip " << f;
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  for (int code = 0; code < 256; ++code)
    EXPECT_NEAR(base[code].item<double>(), base[255 - code].item<double>(), 1e-12) << code;
}

TEST(SubvoxelSurface, SingleVoxelsTwoApart) {
  // Two single voxels two steps apart on axis 2: each surface is the 8 one-corner cells around
  // its voxel, equal areas; half of each surface's cells are 1 step from the other's, half 2.
  at::Tensor pred = at::zeros({1, 1, 9, 9, 11}), gt = at::zeros({1, 1, 9, 9, 11});
  pred[0][0][4][4][4] = 1;
  gt[0][0][4][4][6] = 1;
  auto nsd = [&](double tol, std::vector<double> spacing) {
    return M::compute_surface_dice(pred, gt, {tol}, true, "euclidean", {spacing}, true)[0][0]
        .item<double>();
  };
  EXPECT_DOUBLE_EQ(nsd(0.5, {1, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(nsd(1.0, {1, 1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(nsd(2.0, {1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(nsd(1.0, {1, 1, 2}), 0.0);
  EXPECT_DOUBLE_EQ(nsd(2.0, {1, 1, 2}), 0.5);
  // Voxel surfaces instead: the two voxels themselves, 2 apart.
  EXPECT_DOUBLE_EQ(
      M::compute_surface_dice(pred, gt, {1.0}, true, "euclidean", {}, false)[0][0].item<double>(),
      0.0);
}

TEST(SubvoxelSurface, MatchesBruteForceReference) {
  struct Case {
    std::vector<int64_t> shape;
    std::vector<double> spacing;
    double tol;
  };
  for (const Case &k :
       {Case{{2, 2, 10, 9, 8}, {1.0, 1.0, 1.0}, 1.0}, Case{{1, 2, 9, 8, 7}, {0.7, 1.3, 2.0}, 1.5},
        Case{{2, 3, 17, 15}, {1.0, 2.0}, 2.0}}) {
    at::Tensor pred = blobs(k.shape, 3), gt = blobs(k.shape, 4);
    std::vector<double> th(k.shape[1], k.tol);
    at::Tensor ours =
        M::compute_surface_dice(pred, gt, th, true, "euclidean", {k.spacing}, true).to(at::kDouble);
    for (int64_t b = 0; b < k.shape[0]; ++b)
      for (int64_t c = 0; c < k.shape[1]; ++c) {
        if (!pred[b][c].any().item<bool>() || !gt[b][c].any().item<bool>())
          continue;
        EXPECT_NEAR(ours[b][c].item<double>(), referenceNsd(pred[b][c], gt[b][c], k.spacing, k.tol),
                    1e-6)
            << "shape rank " << k.shape.size() << " b " << b << " c " << c;
      }
  }
}

TEST(SubvoxelSurface, EmptyMasksAndBadInput) {
  at::Tensor none = at::zeros({1, 1, 6, 6, 6}), blob = at::zeros({1, 1, 6, 6, 6});
  blob[0][0].slice(0, 1, 4).slice(1, 2, 4).slice(2, 0, 3).fill_(1); // touches the border
  M::SurfaceDiceMetric m(
      M::SurfaceDiceMetricOptions({1.0}).include_background(true).use_subvoxels(true));
  EXPECT_TRUE(std::isnan(m(none, none)[0][0].item<double>()));
  EXPECT_EQ(m(blob, none)[0][0].item<double>(), 0.0);
  EXPECT_EQ(m(none, blob)[0][0].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(m(blob, blob)[0][0].item<double>(), 1.0);
  at::Tensor line = at::zeros({1, 1, 8});
  EXPECT_EQ(errorWhere([&] { m(line, line); }), "SurfaceDiceMetric.use_subvoxels");
  EXPECT_EQ(errorWhere([] {
              M::get_code_to_measure_table({1, 1, 1, 1});
            }),
            "get_code_to_measure_table.spacing");
  EXPECT_EQ(errorWhere([] {
              M::get_code_to_measure_table({1, -1});
            }),
            "get_code_to_measure_table.spacing");
}
