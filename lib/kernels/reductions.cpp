// Launchers of the generated reduction kernels: med.extrema, med.moments, med.overlap_counts and
// med.error_sums (see med/kernels/reductions.h).
#include "med/kernels/reductions.h"

#include <ATen/ATen.h>

#include <array>
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

std::string extrema_ir(c10::ScalarType dtype) {
  return reductionIR("med.extrema", 1, toDType(dtype, "extrema"), 2);
}

std::string moments_ir(c10::ScalarType dtype, bool nonzero) {
  return reductionIR(nonzero ? "med.moments {nonzero}" : "med.moments", 1,
                     toDType(dtype, "moments"), 3);
}

std::pair<double, double> extrema(const at::Tensor &input, int threads, const std::string &owner) {
  toDType(input.scalar_type(), owner); // names the owner when the dtype is not supported
  auto kernel = compiled(extrema_ir(input.scalar_type()), "extrema", owner);
  const int64_t n = input.numel();
  std::vector<double> partial(2 * blocksPerSlab(n));
  forEachBlock(1, n, threads, [&](int64_t b, int64_t start, int64_t count) {
    CallArgs args;
    args.flat(elementAt(input, start), count);
    args.flat(partial.data() + 2 * b, 2);
    args.call(*kernel);
  });
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t b = 0; b < partial.size(); b += 2) {
    lo = nanMin(lo, partial[b]);
    hi = nanMax(hi, partial[b + 1]);
  }
  return {lo, hi};
}

std::array<double, 3> moments(const at::Tensor &input, bool nonzero, int threads,
                              const std::string &owner) {
  if (!input.is_contiguous() || !input.device().is_cpu())
    throw Error(owner, "the moments kernel needs a contiguous CPU tensor");
  toDType(input.scalar_type(), owner); // names the owner when the dtype is not supported
  auto kernel = compiled(moments_ir(input.scalar_type(), nonzero), "moments", owner);
  at::Tensor m = sumOverBlocks(*kernel, {input}, 1, 3, threads);
  const double *v = m.data_ptr<double>();
  return {v[0], v[1], v[2]};
}

at::Tensor overlap_counts(const at::Tensor &pred, const at::Tensor &target, int64_t slabs,
                          bool binary, int threads, const std::string &owner) {
  checkPair(pred, target, slabs, false, owner);
  const rt::DType type = toDType(pred.scalar_type(), owner);
  const std::string op = binary ? "med.overlap_counts {binary}" : "med.overlap_counts";
  auto kernel = compiled(reductionIR(op, 2, type, 4), "overlap counting", owner);
  // The flags add up too: a slab's bad column counts its flagged blocks.
  at::Tensor counts = sumOverBlocks(*kernel, {pred, target}, slabs, 4, threads);
  counts.select(1, 3).clamp_max_(1.0);
  return counts;
}

at::Tensor error_sums(const at::Tensor &pred, const at::Tensor &target, int64_t slabs, int threads,
                      const std::string &owner) {
  checkPair(pred, target, slabs, true, owner);
  const rt::DType type = toDType(pred.scalar_type(), owner);
  auto kernel = compiled(reductionIR("med.error_sums", 2, type, 2), "error sums", owner);
  return sumOverBlocks(*kernel, {pred, target}, slabs, 2, threads);
}

} // namespace med::kernels
