// MONAI's sub-voxel surfaces (SurfaceDiceMetric use_subvoxels): the crop box is cut into cells of
// 2x2x2 (2x2) voxels; a cell whose corners are neither all inside nor all outside carries a
// piece of the marching-cubes surface (a piece of contour in 2D) whose area (length) depends on
// the corner pattern and the voxel spacing only.
#include <ATen/ATen.h>

#include <cmath>

#include "med/core/error.h"
#include "med/metrics/surface_distance.h"
#include "surface_internal.h"

namespace med::metrics::detail {

namespace {

/// The marching-cubes surface pieces of each 3D neighbourhood code, as used by MONAI's
/// get_code_to_measure_table (so the areas equal MONAI's): per code, its triangles' normals as
/// digit triples (|x|, |y|, |z|) in eighths of a voxel, the normal's length being the triangle's
/// area. Signs are dropped: only lengths are read. The table is invariant under the cube's 48
/// symmetries (with the spacing permuted along), which unittests check.
// clang-format off
const char *const kSurfelNormals[256] = {
    /*   0 */ "", "111", "111", "220220", "111", "202202",
    /*   6 */ "111111", "400222111", "111", "111111", "202202", "400222111",
    /*  12 */ "220220", "400222111", "400222111", "400400", "111", "022022",
    /*  18 */ "111111", "040222111", "111111", "004222111", "111111111", "111222222111",
    /*  24 */ "111111", "022022111", "202202111", "111333022202", "111220220", "333022111220",
    /*  30 */ "400111222111", "400111222", "111", "111111", "022022", "040111222",
    /*  36 */ "111111", "111202202", "022022111", "333022111202", "111111", "111111111",
    /*  42 */ "004222111", "222222111111", "111220220", "400222111111", "022333111220", "400222111",
    /*  48 */ "220220", "040222111", "040111222", "040040", "220220111", "333202111220",
    /*  54 */ "111040222111", "040222111", "111220220", "040222111111", "333220111202", "040222111",
    /*  60 */ "220220220220", "220220111", "111220220", "220220", "111", "111111",
    /*  66 */ "111111", "111220220", "022022", "004222111", "022022111", "333022111220",
    /*  72 */ "111111", "111111111", "111202202", "400222111111", "040222111", "222222111111",
    /*  78 */ "202333022111", "400222111", "202202", "004222111", "111202202", "202333220111",
    /*  84 */ "004222111", "004004", "111111222004", "111222004", "202202111", "004222111111",
    /*  90 */ "202202202202", "111202202", "202333220111", "004222111", "111202202", "202202",
    /*  96 */ "111111", "111111111", "111022022", "040111222111", "022022111", "004222111111",
    /* 102 */ "022022022022", "022022111", "111111111", "111111111111", "004222111111", "111111111",
    /* 108 */ "040222111111", "111111111", "022022111", "111111", "400222111", "222111222111",
    /* 114 */ "333022111202", "040222111", "333220022111", "111222004", "111022022", "022022",
    /* 120 */ "400222111111", "111111111", "202202111", "111111", "220220111", "111111",
    /* 126 */ "111111", "111", "111", "111111", "111111", "220220111",
    /* 132 */ "111111", "202202111", "111111111", "400222111111", "022022", "111022022",
    /* 138 */ "111222004", "333220022111", "040222111", "333022111202", "222111222111", "400222111",
    /* 144 */ "111111", "022022111", "111111111", "040222111111", "111111111", "004222111111",
    /* 150 */ "111111111111", "111111111", "022022111", "022022022022", "004222111111", "022022111",
    /* 156 */ "040111222111", "111022022", "111111111", "111111", "202202", "111202202",
    /* 162 */ "004222111", "202333220111", "111202202", "202202202202", "004222111111", "202202111",
    /* 168 */ "111222004", "111111222004", "004004", "004222111", "202333220111", "111202202",
    /* 174 */ "004222111", "202202", "400222111", "202333022111", "222222111111", "040222111",
    /* 180 */ "400222111111", "111202202", "111111111", "111111", "333022111220", "022022111",
    /* 186 */ "004222111", "022022", "111220220", "111111", "111111", "111",
    /* 192 */ "220220", "111220220", "220220111", "220220220220", "040222111", "333220111202",
    /* 198 */ "040222111111", "111220220", "040222111", "111040222111", "333202111220", "220220111",
    /* 204 */ "040040", "040111222", "040222111", "220220", "400222111", "022333111220",
    /* 210 */ "400222111111", "111220220", "222222111111", "004222111", "111111111", "111111",
    /* 216 */ "333022111202", "022022111", "111202202", "111111", "040111222", "022022",
    /* 222 */ "111111", "111", "400111222", "400111222111", "333022111220", "111220220",
    /* 228 */ "111333022202", "202202111", "022022111", "111111", "111222222111", "111111111",
    /* 234 */ "004222111", "111111", "040222111", "111111", "022022", "111",
    /* 240 */ "400400", "400222111", "400222111", "220220", "400222111", "202202",
    /* 246 */ "111111", "111", "400222111", "111111", "202202", "111",
    /* 252 */ "220220", "111", "111", "",
};
// clang-format on

} // namespace

std::vector<double> subvoxel_measure_table(const std::vector<double> &spacing) {
  if (spacing.size() == 2) {
    // A 2x2 cell's contour: a half diagonal per cut corner, or a full side when the cell is cut
    // straight across. Bits: 8 = (0,0), 4 = (0,1), 2 = (1,0), 1 = (1,1).
    const double diag = 0.5 * std::hypot(spacing[0], spacing[1]);
    std::vector<double> t(16, diag);
    t[0] = t[15] = 0;
    t[0b0011] = t[0b1100] = spacing[1]; // one row in: the cut runs along axis 1
    t[0b0101] = t[0b1010] = spacing[0]; // one column in: the cut runs along axis 0
    t[0b0110] = t[0b1001] = 2 * diag;   // opposite corners: two cuts
    return t;
  }
  // A triangle scaled by spacing (s0, s1, s2) has its normal scaled by (s1 s2, s0 s2, s0 s1).
  const double w[3] = {spacing[1] * spacing[2], spacing[0] * spacing[2], spacing[0] * spacing[1]};
  std::vector<double> t(256, 0.0);
  for (int code = 0; code < 256; ++code)
    for (const char *n = kSurfelNormals[code]; *n; n += 3) {
      double x = (n[0] - '0') * w[0], y = (n[1] - '0') * w[1], z = (n[2] - '0') * w[2];
      t[code] += std::sqrt(x * x + y * y + z * z) / 8.0;
    }
  return t;
}

SubvoxelEdges subvoxel_edges(const at::Tensor &pred, const at::Tensor &gt,
                             const std::vector<double> &spacing, const std::string &owner) {
  if (pred.dim() != 2 && pred.dim() != 3)
    throw Error(owner + ".use_subvoxels",
                "expected 2D or 3D images, got " + std::to_string(pred.dim()) + " spatial dims");
  CroppedMasks m = cropped_masks(pred, gt);
  SubvoxelEdges out;
  CroppedEdges &e = out.edges;
  if (m.empty) { // MONAI: full-size all-false edges, no area
    e.shape = m.shape;
    e.pred.assign(pred.numel(), 0);
    e.gt.assign(pred.numel(), 0);
    return out;
  }
  const auto &B = m.box;
  const bool is3d = m.fake == 0;
  // Cells start at every voxel but the last one on each real axis.
  const int64_t G0 = is3d ? B[0] - 1 : 1, G1 = B[1] - 1, G2 = B[2] - 1;
  for (int64_t a = m.fake; a < 3; ++a)
    e.shape.push_back(B[a] - 1);
  const std::vector<double> table = subvoxel_measure_table(spacing);
  const int all = is3d ? 255 : 15;
  const int64_t s0 = B[1] * B[2], s1 = B[2];
  auto cells = [&](const std::vector<uint8_t> &v, std::vector<uint8_t> &flags,
                   std::vector<double> &areas, int64_t &count) {
    flags.assign(G0 * G1 * G2, 0);
    count = 0;
    int64_t cell = 0;
    for (int64_t i = 0; i < G0; ++i)
      for (int64_t j = 0; j < G1; ++j)
        for (int64_t k = 0; k < G2; ++k, ++cell) {
          const uint8_t *c = v.data() + i * s0 + j * s1 + k;
          // Corner (d0, d1, d2) weighs 2^(7 - (4 d0 + 2 d1 + d2)); in 2D (d1, d2) weighs
          // 2^(3 - (2 d1 + d2)), so the 2D code is the 3D code's first half.
          int code = (c[0] << 3) | (c[1] << 2) | (c[s1] << 1) | c[s1 + 1];
          if (is3d)
            code =
                (code << 4) | (c[s0] << 3) | (c[s0 + 1] << 2) | (c[s0 + s1] << 1) | c[s0 + s1 + 1];
          if (code == 0 || code == all)
            continue;
          flags[cell] = 1;
          areas.push_back(table[code]);
          ++count;
        }
  };
  cells(m.pred, e.pred, out.predAreas, e.predCount);
  cells(m.gt, e.gt, out.gtAreas, e.gtCount);
  return out;
}

} // namespace med::metrics::detail

namespace med::metrics {

at::Tensor get_code_to_measure_table(const std::vector<double> &spacing) {
  if (spacing.size() != 2 && spacing.size() != 3)
    throw Error("get_code_to_measure_table.spacing",
                "expected 2 or 3 values, got " + std::to_string(spacing.size()));
  for (double v : spacing)
    if (!(v > 0) || !std::isfinite(v))
      throw Error("get_code_to_measure_table.spacing", "expected positive finite voxel sizes");
  std::vector<double> t = detail::subvoxel_measure_table(spacing);
  return at::tensor(t, at::kDouble);
}

} // namespace med::metrics
