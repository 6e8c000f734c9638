// The surface metrics' hot path without intermediate tensors: MONAI's crop box, the surface
// voxels by cross erosion, and the distances from one surface to the other through one squared
// EDT of the box (square roots only where a distance is read).
#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "med/metrics/distance_transform.h"
#include "surface_internal.h"

namespace med::metrics::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// A rank-1..3 shape as three extents with leading ones.
std::array<int64_t, 3> asThree(at::IntArrayRef s) {
  std::array<int64_t, 3> out{1, 1, 1};
  std::copy(s.begin(), s.end(), out.begin() + (3 - s.size()));
  return out;
}

} // namespace

CroppedMasks cropped_masks(const at::Tensor &pred, const at::Tensor &gt) {
  at::Tensor p = pred.to(at::kBool).contiguous(), g = gt.to(at::kBool).contiguous();
  const int64_t rank = p.dim(), fake = 3 - rank;
  const auto S = asThree(p.sizes());
  const bool *pp = p.data_ptr<bool>(), *gp = g.data_ptr<bool>();
  std::array<int64_t, 3> lo{S[0], S[1], S[2]}, hi{-1, -1, -1};
  for (int64_t i = 0; i < S[0]; ++i)
    for (int64_t j = 0; j < S[1]; ++j) {
      const int64_t row = (i * S[1] + j) * S[2];
      // Rows are mostly empty: test them a byte-OR at a time before looking for the ends.
      uint8_t any = 0;
      for (int64_t k = 0; k < S[2]; ++k)
        any |= uint8_t(pp[row + k]) | uint8_t(gp[row + k]);
      if (!any)
        continue;
      int64_t first = 0, last = S[2] - 1;
      while (!(pp[row + first] | gp[row + first]))
        ++first;
      while (!(pp[row + last] | gp[row + last]))
        --last;
      lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], first)};
      hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], last)};
    }
  CroppedMasks m;
  m.fake = fake;
  if (hi[0] < 0) { // both empty
    m.empty = true;
    m.shape.assign(p.sizes().begin(), p.sizes().end());
    return m;
  }
  // The box [lo - 1, hi + 1] on the real axes; the leading fake axes keep their single index.
  std::array<int64_t, 3> start{};
  auto &B = m.box;
  for (int64_t a = 0; a < 3; ++a) {
    bool real = a >= fake;
    start[a] = real ? lo[a] - 1 : 0;
    B[a] = real ? hi[a] - lo[a] + 3 : 1;
  }
  for (int64_t a = fake; a < 3; ++a)
    m.shape.push_back(B[a]);
  const int64_t n = B[0] * B[1] * B[2];
  m.pred.assign(n, 0);
  m.gt.assign(n, 0);
  // Box rows from image rows; the parts outside the image stay zero.
  const int64_t k0 = std::max<int64_t>(start[2], 0), k1 = std::min(start[2] + B[2], S[2]);
  for (int64_t i = 0; i < B[0]; ++i)
    for (int64_t j = 0; j < B[1]; ++j) {
      int64_t x = start[0] + i, y = start[1] + j;
      if (x < 0 || y < 0 || x >= S[0] || y >= S[1] || k1 <= k0)
        continue;
      int64_t src = (x * S[1] + y) * S[2], dst = (i * B[1] + j) * B[2] - start[2];
      for (int64_t z = k0; z < k1; ++z) {
        m.pred[dst + z] = pp[src + z];
        m.gt[dst + z] = gp[src + z];
      }
    }
  return m;
}

CroppedEdges cropped_edges(const at::Tensor &pred, const at::Tensor &gt) {
  CroppedMasks m = cropped_masks(pred, gt);
  CroppedEdges e;
  e.shape = m.shape;
  if (m.empty) { // full-size all-false surfaces
    int64_t n = 1;
    for (int64_t s : m.shape)
      n *= s;
    e.pred.assign(n, 0);
    e.gt.assign(n, 0);
    return e;
  }
  const auto &B = m.box;
  const int64_t n = B[0] * B[1] * B[2], fake = m.fake;
  // Face-neighbour offsets on the real axes. Set voxels are at least one voxel inside the box
  // on those axes, so every voxel closer than the largest offset to either end of the buffer is
  // unset and no surface; the others read all their neighbours inside the buffer. Branch-free
  // byte arithmetic, so the loops vectorise.
  std::vector<int64_t> offsets;
  const std::array<int64_t, 3> stride{B[1] * B[2], B[2], 1};
  for (int64_t a = fake; a < 3; ++a)
    offsets.push_back(stride[a]);
  const int64_t margin = std::min(offsets.front(), n);
  auto edges = [&](const std::vector<uint8_t> &m, std::vector<uint8_t> &out, int64_t &count) {
    out.assign(n, 0);
    const uint8_t *in = m.data();
    uint8_t *o = out.data();
    for (int64_t i = margin; i < n - margin; ++i)
      o[i] = in[i];
    for (int64_t off : offsets) // o = m AND all face neighbours: the interior
      for (int64_t i = margin; i < n - margin; ++i)
        o[i] &= in[i + off] & in[i - off];
    int64_t c = 0;
    for (int64_t i = margin; i < n - margin; ++i) {
      o[i] = in[i] & (o[i] ^ 1); // set and not interior
      c += o[i];
    }
    count = c;
  };
  edges(m.pred, e.pred, e.predCount);
  edges(m.gt, e.gt, e.gtCount);
  return e;
}

std::vector<double> edge_distances(const CroppedEdges &e, bool fromPred, const std::string &metric,
                                   const std::vector<double> &spacing) {
  const std::vector<uint8_t> &from = fromPred ? e.pred : e.gt, &to = fromPred ? e.gt : e.pred;
  const int64_t fromCount = fromPred ? e.predCount : e.gtCount;
  const int64_t toCount = fromPred ? e.gtCount : e.predCount;
  if (toCount == 0)
    return std::vector<double>(fromCount, kInf);
  if (fromCount == 0) // MONAI: one inf per voxel of the non-empty side
    return std::vector<double>(toCount, kInf);
  const int64_t n = int64_t(to.size());
  std::vector<double> out;
  out.reserve(fromCount);
  if (metric == "euclidean") {
    std::vector<double> d(n);
    for (int64_t i = 0; i < n; ++i)
      d[i] = to[i] ? 0.0 : kInf;
    squared_edt_at(d.data(), e.shape, spacing, from.data());
    for (int64_t i = 0; i < n; ++i)
      if (from[i])
        out.push_back(std::sqrt(d[i]));
    return out;
  }
  at::Tensor target = at::from_blob(const_cast<uint8_t *>(to.data()), e.shape, at::kByte);
  at::Tensor d = distance_transform_cdt(target.logical_not(), metric).contiguous();
  const double *dp = d.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i)
    if (from[i])
      out.push_back(dp[i]);
  return out;
}

} // namespace med::metrics::detail
