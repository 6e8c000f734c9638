// Launcher of SSIM's window passes, med.ssim_pass and med.ssim_adjoint (see med/kernels/ssim.h).
#include "med/kernels/ssim.h"

#include <ATen/ATen.h>

#include <sstream>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/runtime/memory.h"
#include "rows.h"

namespace med::kernels {

using namespace detail;

namespace {

int64_t volumeOf(const std::vector<int64_t> &sizes) {
  int64_t v = 1;
  for (int64_t s : sizes)
    v *= s;
  return v;
}

/// A flat field per channel: `data` holds `channels` channels of `volume` elements each.
struct Field {
  at::Tensor data;
  int64_t volume;
};

/// One pass over every channel: `op` with `attrs` over `fields` whose grid (the pass's input)
/// has `sizes`; the output grid is `sizes` with K - 1 fewer voxels along `axis`. Returns
/// `results` (channels, output volume) tensors.
std::vector<at::Tensor> runPass(const std::string &op, const std::string &attrs,
                                const std::vector<Field> &fields, int64_t channels,
                                const std::vector<int64_t> &sizes, int64_t axis, int64_t k,
                                const std::vector<double> &tail, int results, int threads,
                                const std::string &owner) {
  const at::Tensor &like = fields.front().data;
  const rt::DType t = toDType(like.scalar_type(), owner);
  std::vector<double> args(sizes.begin(), sizes.end());
  args.insert(args.end(), tail.begin(), tail.end());
  auto kernel = compiled(rowsIR(op, attrs, int(fields.size()), t, int64_t(args.size()), results),
                         "SSIM window pass", owner);
  std::vector<int64_t> outSizes = sizes;
  outSizes[axis] -= k - 1;
  const int64_t outVolume = volumeOf(outSizes), length = outSizes.back();
  const int64_t rows = outVolume / length;
  std::vector<at::Tensor> out;
  for (int r = 0; r < results; ++r) {
    out.push_back(at::empty({channels, outVolume}, like.options()));
    rt::preferHugePages(out.back().data_ptr(), out.back().nbytes());
  }
  forEachRun(
      channels, rows, length, [&](int64_t) -> const std::vector<double> & { return args; }, 0,
      threads,
      [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
        CallArgs call;
        for (const Field &f : fields)
          call.flat(elementAt(f.data, channel * f.volume), f.volume);
        call.flat(params.data(), int64_t(params.size()));
        for (const at::Tensor &o : out)
          call.flat(elementAt(o, channel * outVolume + r0 * length), count * length);
        call.call(*kernel);
      });
  return out;
}

std::string attrsOf(int64_t axis, int64_t k, const std::string &flags) {
  return "{axis = " + std::to_string(axis) + ", kernel_size = " + std::to_string(k) + flags + "}";
}

/// Checks a pair for the kernels and returns its spatial sizes.
std::vector<int64_t> checkPair(const at::Tensor &x, const at::Tensor &y,
                               const std::vector<std::vector<double>> &windows,
                               const std::string &owner) {
  std::ostringstream shape;
  shape << x.sizes();
  const bool floating = x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble;
  const int64_t n = x.dim() - 2;
  if (!floating || y.scalar_type() != x.scalar_type() || !x.is_contiguous() || !y.is_contiguous() ||
      !x.device().is_cpu() || !y.device().is_cpu() || n < 2 || n > 3 ||
      !y.sizes().equals(x.sizes()) || int64_t(windows.size()) != n)
    throw Error(owner, "the SSIM kernels need a contiguous CPU float32/float64 pair of one "
                       "(B, C, *spatial) shape with 2 or 3 spatial axes and one window per "
                       "axis, got " +
                           shape.str());
  for (int64_t d = 0; d < n; ++d)
    if (windows[d].empty() || int64_t(windows[d].size()) > x.size(2 + d))
      throw Error(owner, "the SSIM window along axis " + std::to_string(d) +
                             " must have 1 to the image's size taps, got " +
                             std::to_string(windows[d].size()) + " for shape " + shape.str());
  return std::vector<int64_t>(x.sizes().begin() + 2, x.sizes().end());
}

/// The passes along axes 0 .. n - 2 from x and y: the five filtered fields and their grid.
std::vector<Field> leadingPasses(const at::Tensor &x, const at::Tensor &y,
                                 const std::vector<std::vector<double>> &windows,
                                 std::vector<int64_t> &sizes, int threads,
                                 const std::string &owner) {
  const int64_t channels = x.size(0) * x.size(1);
  std::vector<Field> fields = {{x, volumeOf(sizes)}, {y, volumeOf(sizes)}};
  for (size_t d = 0; d + 1 < windows.size(); ++d) {
    const int64_t k = int64_t(windows[d].size());
    std::vector<at::Tensor> out =
        runPass("med.ssim_pass", attrsOf(int64_t(d), k, d == 0 ? ", first" : ""), fields, channels,
                sizes, int64_t(d), k, windows[d], 5, threads, owner);
    sizes[d] -= k - 1;
    fields.clear();
    for (const at::Tensor &o : out)
      fields.push_back({o, volumeOf(sizes)});
  }
  return fields;
}

} // namespace

std::pair<at::Tensor, at::Tensor> ssim_maps(const at::Tensor &x, const at::Tensor &y,
                                            const std::vector<std::vector<double>> &windows,
                                            double c1, double c2, int threads,
                                            const std::string &owner) {
  std::vector<int64_t> sizes = checkPair(x, y, windows, owner);
  const int64_t n = int64_t(sizes.size()), channels = x.size(0) * x.size(1);
  std::vector<Field> fields = leadingPasses(x, y, windows, sizes, threads, owner);
  const int64_t k = int64_t(windows[n - 1].size());
  std::vector<double> tail = windows[n - 1];
  tail.push_back(c1);
  tail.push_back(c2);
  std::vector<at::Tensor> maps = runPass("med.ssim_pass", attrsOf(n - 1, k, ", last"), fields,
                                         channels, sizes, n - 1, k, tail, 2, threads, owner);
  sizes[n - 1] -= k - 1;
  std::vector<int64_t> mapShape = {x.size(0), x.size(1)};
  mapShape.insert(mapShape.end(), sizes.begin(), sizes.end());
  return {maps[0].view(mapShape), maps[1].view(mapShape)};
}

at::Tensor ssim_grad(const at::Tensor &x, const at::Tensor &y,
                     const std::vector<std::vector<double>> &windows, double c1, double c2,
                     const at::Tensor &g, int threads, const std::string &owner) {
  const std::vector<int64_t> image = checkPair(x, y, windows, owner);
  std::vector<int64_t> sizes = image;
  const int64_t n = int64_t(sizes.size()), channels = x.size(0) * x.size(1);
  std::vector<int64_t> mapShape = {x.size(0), x.size(1)};
  for (int64_t d = 0; d < n; ++d)
    mapShape.push_back(sizes[d] - int64_t(windows[d].size()) + 1);
  if (!g.sizes().equals(mapShape) || g.scalar_type() != x.scalar_type() || !g.is_contiguous() ||
      !g.device().is_cpu()) {
    std::ostringstream s;
    s << "the SSIM gradient needs the incoming gradient as a contiguous CPU tensor of the map's "
      << at::IntArrayRef(mapShape) << " and the images' dtype, got " << g.sizes();
    throw Error(owner, s.str());
  }
  std::vector<Field> fields = leadingPasses(x, y, windows, sizes, threads, owner);
  const int64_t kLast = int64_t(windows[n - 1].size());
  fields.push_back({g, volumeOf(std::vector<int64_t>(mapShape.begin() + 2, mapShape.end()))});
  std::vector<double> tail = windows[n - 1];
  tail.push_back(c1);
  tail.push_back(c2);
  std::vector<at::Tensor> a =
      runPass("med.ssim_pass", attrsOf(n - 1, kLast, ", last, coefficients"), fields, channels,
              sizes, n - 1, kLast, tail, 3, threads, owner);
  sizes[n - 1] -= kLast - 1;
  // Back along axes n - 1 .. 0: each a valid window with reversed weights over the fields
  // zero-padded by K - 1 on both ends of the axis, which restores the image's size there.
  for (int64_t d = n - 1; d >= 0; --d) {
    const int64_t k = int64_t(windows[d].size());
    std::vector<int64_t> grid = {channels};
    grid.insert(grid.end(), sizes.begin(), sizes.end());
    sizes[d] += 2 * (k - 1);
    std::vector<int64_t> paddedGrid = {channels};
    paddedGrid.insert(paddedGrid.end(), sizes.begin(), sizes.end());
    std::vector<Field> padded;
    for (const at::Tensor &f : a) {
      // Huge pages advised before the first touch: a page fault per 4 KiB of a fresh buffer
      // costs about as much as the pass that reads it.
      at::Tensor p = at::empty(paddedGrid, f.options());
      rt::preferHugePages(p.data_ptr(), p.nbytes());
      p.narrow(1 + d, 0, k - 1).zero_();
      p.narrow(1 + d, sizes[d] - (k - 1), k - 1).zero_();
      p.narrow(1 + d, k - 1, grid[1 + d]).copy_(f.view(grid));
      padded.push_back({p.view({channels, -1}), volumeOf(sizes)});
    }
    if (d == 0) {
      padded.push_back({x, volumeOf(image)});
      padded.push_back({y, volumeOf(image)});
    }
    std::vector<double> reversed(windows[d].rbegin(), windows[d].rend());
    a = runPass("med.ssim_adjoint", attrsOf(d, k, d == 0 ? ", last" : ""), padded, channels, sizes,
                d, k, reversed, d == 0 ? 1 : 3, threads, owner);
    sizes[d] -= k - 1;
  }
  return a[0].view(x.sizes());
}

} // namespace med::kernels
