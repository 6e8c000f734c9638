// Connected-component labelling on the voxel grid (breadth-first search over the neighbours
// allowed by the connectivity), used by KeepLargestConnectedComponent and FillHoles.
#include <ATen/Functions.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <deque>
#include <numeric>

#include "med/core/error.h"
#include "med/transforms/utility.h"

namespace med::transforms::detail {
namespace {

// The mask as a contiguous bool volume of three axes (2D masks get a z of size 1).
struct Grid {
  at::Tensor mask;
  std::array<int64_t, 3> n{1, 1, 1};
  std::vector<std::array<int64_t, 3>> offsets; // neighbour steps
};

Grid gridOf(const at::Tensor &mask, int64_t connectivity) {
  const int64_t rank = mask.dim();
  if (rank < 1 || rank > 3)
    throw Error("connected components", "expected a mask of 1 to 3 spatial axes");
  if (connectivity < 1 || connectivity > rank)
    throw Error("connectivity", "expected a value in [1, " + std::to_string(rank) + "], got " +
                                    std::to_string(connectivity));
  Grid g;
  g.mask = mask.to(at::kBool).contiguous();
  for (int64_t d = 0; d < rank; ++d)
    g.n[d] = mask.size(d);
  // Offsets in {-1, 0, 1}^rank with 1..connectivity non-zero entries (generate_binary_structure).
  for (int dx = -1; dx <= 1; ++dx)
    for (int dy = rank > 1 ? -1 : 0; dy <= (rank > 1 ? 1 : 0); ++dy)
      for (int dz = rank > 2 ? -1 : 0; dz <= (rank > 2 ? 1 : 0); ++dz) {
        const int nz = std::abs(dx) + std::abs(dy) + std::abs(dz);
        if (nz > 0 && nz <= connectivity)
          g.offsets.push_back({dx, dy, dz});
      }
  return g;
}

// Breadth-first fill from the queued voxels through `in`, writing `label` into `out`.
void flood(const Grid &g, const bool *in, int32_t *out, int32_t label, std::deque<int64_t> &queue) {
  const int64_t sy = g.n[2], sx = g.n[1] * g.n[2];
  while (!queue.empty()) {
    const int64_t v = queue.front();
    queue.pop_front();
    const int64_t x = v / sx, y = (v / sy) % g.n[1], z = v % sy;
    for (const auto &o : g.offsets) {
      const int64_t a = x + o[0], b = y + o[1], c = z + o[2];
      if (a < 0 || b < 0 || c < 0 || a >= g.n[0] || b >= g.n[1] || c >= g.n[2])
        continue;
      const int64_t w = a * sx + b * sy + c;
      if (in[w] && out[w] == 0) {
        out[w] = label;
        queue.push_back(w);
      }
    }
  }
}

} // namespace

at::Tensor labelComponents(const at::Tensor &mask, int64_t connectivity, int64_t *count) {
  Grid g = gridOf(mask, connectivity);
  at::Tensor labels = at::zeros(mask.sizes(), at::kInt);
  const bool *in = g.mask.data_ptr<bool>();
  int32_t *out = labels.data_ptr<int32_t>();
  int32_t next = 0;
  std::deque<int64_t> queue;
  for (int64_t v = 0, n = g.mask.numel(); v < n; ++v)
    if (in[v] && out[v] == 0) {
      out[v] = ++next;
      queue.push_back(v);
      flood(g, in, out, next, queue);
    }
  if (count)
    *count = next;
  return labels;
}

at::Tensor largestComponents(const at::Tensor &mask, int64_t connectivity, int64_t num) {
  int64_t count = 0;
  at::Tensor labels = labelComponents(mask, connectivity, &count);
  if (count <= num)
    return mask.to(at::kBool);
  std::vector<int64_t> sizes(count + 1, 0);
  const int32_t *l = labels.data_ptr<int32_t>();
  for (int64_t v = 0, n = labels.numel(); v < n; ++v)
    ++sizes[l[v]];
  // MONAI: argsort(bincount)[::-1] -- largest first; among equal sizes the later label first.
  std::vector<int32_t> order(count);
  std::iota(order.begin(), order.end(), 1);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return sizes[a] != sizes[b] ? sizes[a] > sizes[b] : a > b;
  });
  std::vector<bool> keep(count + 1, false);
  for (int64_t i = 0; i < num; ++i)
    keep[order[i]] = true;
  at::Tensor out = at::zeros(mask.sizes(), at::kBool);
  bool *o = out.data_ptr<bool>();
  for (int64_t v = 0, n = labels.numel(); v < n; ++v)
    o[v] = l[v] > 0 && keep[l[v]];
  return out;
}

at::Tensor borderConnected(const at::Tensor &mask, int64_t connectivity) {
  Grid g = gridOf(mask, connectivity);
  at::Tensor reached = at::zeros(mask.sizes(), at::kInt);
  const bool *in = g.mask.data_ptr<bool>();
  int32_t *out = reached.data_ptr<int32_t>();
  std::deque<int64_t> queue;
  const int64_t rank = mask.dim(), sy = g.n[2], sx = g.n[1] * g.n[2];
  for (int64_t v = 0, n = g.mask.numel(); v < n; ++v) {
    const int64_t c[3] = {v / sx, (v / sy) % g.n[1], v % sy};
    bool border = false;
    for (int64_t d = 0; d < rank; ++d)
      border = border || c[d] == 0 || c[d] == g.n[d] - 1;
    if (border && in[v]) {
      out[v] = 1;
      queue.push_back(v);
    }
  }
  flood(g, in, out, 1, queue);
  return reached.to(at::kBool);
}

} // namespace med::transforms::detail
