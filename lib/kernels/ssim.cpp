// Launcher of SSIM's window passes, med.ssim_pass (see med/kernels/ssim.h).
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

std::pair<at::Tensor, at::Tensor> ssim_maps(const at::Tensor &x, const at::Tensor &y,
                                            const std::vector<std::vector<double>> &windows,
                                            double c1, double c2, int threads,
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
  const rt::DType t = toDType(x.scalar_type(), owner);
  const int64_t channels = x.size(0) * x.size(1);
  std::vector<int64_t> sizes(x.sizes().begin() + 2, x.sizes().end());
  std::vector<at::Tensor> fields = {x, y};
  for (int64_t d = 0; d < n; ++d) {
    const bool first = d == 0, last = d == n - 1;
    const int64_t k = int64_t(windows[d].size());
    std::vector<double> args(sizes.begin(), sizes.end());
    args.insert(args.end(), windows[d].begin(), windows[d].end());
    if (last) {
      args.push_back(c1);
      args.push_back(c2);
    }
    const std::string attrs = "{axis = " + std::to_string(d) +
                              ", kernel_size = " + std::to_string(k) + (first ? ", first" : "") +
                              (last ? ", last" : "") + "}";
    const int results = last ? 2 : 5;
    auto kernel = compiled(
        rowsIR("med.ssim_pass", attrs, int(fields.size()), t, int64_t(args.size()), results),
        "SSIM window pass", owner);
    int64_t volume = 1;
    for (int64_t s : sizes)
      volume *= s;
    std::vector<int64_t> outSizes = sizes;
    outSizes[d] -= k - 1;
    int64_t outVolume = 1;
    for (int64_t s : outSizes)
      outVolume *= s;
    const int64_t length = outSizes.back(), rows = outVolume / length;
    std::vector<int64_t> mapShape = {x.size(0), x.size(1)};
    mapShape.insert(mapShape.end(), outSizes.begin(), outSizes.end());
    std::vector<at::Tensor> out;
    for (int r = 0; r < results; ++r) {
      out.push_back(last ? at::empty(mapShape, x.options())
                         : at::empty({channels, outVolume}, x.options()));
      rt::preferHugePages(out.back().data_ptr(), out.back().nbytes());
    }
    forEachRun(
        channels, rows, length, [&](int64_t) -> const std::vector<double> & { return args; }, 0,
        threads,
        [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
          CallArgs call;
          for (const at::Tensor &f : fields)
            call.flat(elementAt(f, channel * volume), volume);
          call.flat(params.data(), int64_t(params.size()));
          for (const at::Tensor &o : out)
            call.flat(elementAt(o, channel * outVolume + r0 * length), count * length);
          call.call(*kernel);
        });
    fields = out;
    sizes = outSizes;
  }
  return {fields[0], fields[1]};
}

} // namespace med::kernels
