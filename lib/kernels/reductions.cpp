#include "med/kernels/reductions.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"

namespace med::kernels {

using namespace detail;

namespace {

/// torch.min / torch.max on two partial results: NaN wins.
double nanMin(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }
double nanMax(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }

} // namespace

std::pair<double, double> extrema(const at::Tensor &input, int threads, const std::string &owner) {
  const rt::DType type = toDType(input.scalar_type(), owner);
  auto kernel = compiled(reductionIR("med.extrema", 1, type, 2), "extrema", owner);
  const int64_t n = input.numel();
  std::vector<double> partial(2 * blocksPerSlab(n));
  forEachBlock(1, n, threads, [&](int64_t b, int64_t start, int64_t count) {
    rt::BufferRef buffers[2] = {bufferOf(input, start, count),
                                {partial.data() + 2 * b, 2, 8, /*split=*/false}};
    rt::launchWhole(kernel->entry, buffers, 2);
  });
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t b = 0; b < partial.size(); b += 2) {
    lo = nanMin(lo, partial[b]);
    hi = nanMax(hi, partial[b + 1]);
  }
  return {lo, hi};
}

at::Tensor overlap_counts(const at::Tensor &pred, const at::Tensor &target, int64_t slabs,
                          bool binary, int threads, const std::string &owner) {
  const rt::DType type = toDType(pred.scalar_type(), owner);
  if (target.scalar_type() != pred.scalar_type() || target.numel() != pred.numel() ||
      !pred.is_contiguous() || !target.is_contiguous() || slabs < 0 ||
      (slabs == 0 ? pred.numel() != 0 : pred.numel() % slabs != 0))
    throw Error(owner, "overlap counts need contiguous pred and target of one dtype and size, "
                       "cut into equal slabs");
  const std::string op = binary ? "med.overlap_counts {binary}" : "med.overlap_counts";
  auto kernel = compiled(reductionIR(op, 2, type, 4), "overlap counting", owner);
  const int64_t len = slabs ? pred.numel() / slabs : 0, per = blocksPerSlab(len);
  std::vector<double> partial(4 * slabs * per);
  forEachBlock(slabs, len, threads, [&](int64_t b, int64_t start, int64_t count) {
    rt::BufferRef buffers[3] = {bufferOf(pred, start, count),
                                bufferOf(target, start, count),
                                {partial.data() + 4 * b, 4, 8, /*split=*/false}};
    rt::launchWhole(kernel->entry, buffers, 3);
  });
  // Whole counts below 2^53 add exactly in any order; the flags are 0 or 1.
  at::Tensor out = at::zeros({slabs, 4}, at::kDouble);
  double *o = out.data_ptr<double>();
  for (int64_t b = 0; b < slabs * per; ++b)
    for (int k = 0; k < 4; ++k) {
      double &total = o[4 * (b / per) + k];
      total = k < 3 ? total + partial[4 * b + k] : std::max(total, partial[4 * b + k]);
    }
  return out;
}

} // namespace med::kernels
