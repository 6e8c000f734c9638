// Launchers of the displacement-field kernels med.ddf_energy and med.ddf_energy_grad (see
// med/kernels/ddf.h).
#include "med/kernels/ddf.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <functional>
#include <sstream>
#include <vector>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/runtime/launcher.h"
#include "med/runtime/memory.h"

namespace med::kernels {

using namespace detail;

namespace {

/// The kernel's IR: the channel (flat), params [window offset, window rows, 3 n args (and the
/// coefficient for the gradient)], then the output window, flat.
std::string ddfIR(rt::DType t, int64_t n, int64_t order, bool grad) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  const int64_t args = 3 * n + (grad ? 1 : 0);
  std::ostringstream ir;
  ir << "func.func @med_kernel(%in0: " << m << ", %params: memref<?xf64>, %out: " << m
     << ") attributes {llvm.emit_c_interface} {\n  %x = bufferization.to_tensor %in0 restrict : "
     << m << "\n";
  for (int64_t i = 0; i < args + 2; ++i)
    ir << "  %c" << i << " = arith.constant " << i << " : index\n  %p" << i
       << " = memref.load %params[%c" << i << "] : memref<?xf64>\n";
  for (int i = 0; i < 2; ++i)
    ir << "  %w" << i << " = arith.fptoui %p" << i << " : f64 to i64\n  %i" << i
       << " = arith.index_cast %w" << i << " : i64 to index\n";
  ir << "  %r = med." << (grad ? "ddf_energy_grad" : "ddf_energy") << " %x [%i0, %i1] (";
  for (int64_t i = 0; i < args; ++i)
    ir << (i ? ", " : "") << "%p" << i + 2;
  ir << ") {order = " << order << "} : " << v << " -> tensor<?x?x" << e << ">\n"
     << "  %f = tensor.collapse_shape %r [[0, 1]] : tensor<?x?x" << e << "> into " << v << "\n"
     << "  bufferization.materialize_in_destination %f in restrict writable %out : (" << v << ", "
     << m << ") -> ()\n  return\n}\n";
  return ir.str();
}

/// Checks the field and returns its spatial rank n.
int64_t checkDdf(const at::Tensor &ddf, int64_t order, const std::string &owner) {
  std::ostringstream shape;
  shape << ddf.sizes();
  const bool floating = ddf.scalar_type() == at::kFloat || ddf.scalar_type() == at::kDouble;
  if (!floating || !ddf.is_contiguous() || !ddf.device().is_cpu() || ddf.dim() < 3 ||
      ddf.dim() > 5 || ddf.size(1) != ddf.dim() - 2)
    throw Error(owner, "the displacement-field kernels need a contiguous CPU float32/float64 "
                       "(B, n, *spatial) field with n = 1..3, got shape " +
                           shape.str());
  for (int64_t d = 2; d < ddf.dim(); ++d)
    if (ddf.size(d) <= 2 * order)
      throw Error(owner, "every spatial size must be > " + std::to_string(2 * order) +
                             ", got shape " + shape.str());
  return ddf.dim() - 2;
}

/// The 3 n args of channel component `c`: sizes, ratios (S_d / S_c rounded to float32, as
/// MONAI's float32 factor, when normalizing, else 1), scales (S_d when normalizing, else 1).
std::vector<double> argsOf(const at::Tensor &ddf, int64_t c, bool normalize) {
  const int64_t n = ddf.dim() - 2;
  std::vector<double> a;
  for (int64_t d = 0; d < n; ++d)
    a.push_back(double(ddf.size(2 + d)));
  for (int64_t d = 0; d < n; ++d)
    a.push_back(normalize ? double(float(double(ddf.size(2 + d)) / double(ddf.size(2 + c)))) : 1.0);
  for (int64_t d = 0; d < n; ++d)
    a.push_back(normalize ? double(ddf.size(2 + d)) : 1.0);
  return a;
}

/// Runs of rows per call: about kBlock voxels, at least one row.
int64_t rowsPerRun(int64_t length) { return std::max<int64_t>(1, kBlock / length); }

/// The runs of a channel of `rows` rows of `length` voxels.
int64_t runsOf(int64_t rows, int64_t length) {
  const int64_t per = rowsPerRun(length);
  return (rows + per - 1) / per;
}

/// One kernel call: (task = channel * runs + run, channel, first row, rows, params), params
/// being [first row, rows, the channel's 3 n args, `extra` more for the caller to set].
using RunFn = std::function<void(int64_t task, int64_t channel, int64_t first, int64_t count,
                                 std::vector<double> &params)>;

/// Calls fn for every run of rows of every channel of `ddf` (B, n, ...), on up to `threads`
/// threads.
void forEachRun(const at::Tensor &ddf, int64_t rows, int64_t length, bool normalize, int extra,
                int threads, const RunFn &fn) {
  const int64_t n = ddf.size(1), per = rowsPerRun(length), runs = runsOf(rows, length);
  std::vector<std::vector<double>> args;
  for (int64_t c = 0; c < n; ++c)
    args.push_back(argsOf(ddf, c, normalize));
  rt::parallelFor(ddf.size(0) * n * runs, threads, 1, [&](int64_t first, int64_t last) {
    std::vector<double> params(2 + 3 * n + extra);
    for (int64_t task = first; task < last; ++task) {
      const int64_t channel = task / runs, r0 = (task % runs) * per;
      params[0] = double(r0);
      params[1] = double(std::min(per, rows - r0));
      std::copy(args[channel % n].begin(), args[channel % n].end(), params.begin() + 2);
      fn(task, channel, r0, int64_t(params[1]), params);
    }
  });
}

/// The sum of `count` values in float64 through 8 accumulators (so the loop vectorises), added
/// in a fixed order.
template <typename T> double sumOf(const T *p, int64_t count) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += double(p[i + j]);
  for (int j = 0; i < count; ++i, ++j)
    acc[j] += double(p[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

} // namespace

at::Tensor ddf_energy(const at::Tensor &ddf, int64_t order, bool normalize, int threads,
                      const std::string &owner) {
  const int64_t n = checkDdf(ddf, order, owner), B = ddf.size(0);
  auto kernel = compiled(ddfIR(toDType(ddf.scalar_type(), owner), n, order, false),
                         order == 1 ? "DiffusionLoss energy" : "BendingEnergyLoss energy", owner);
  const int64_t volume = ddf.numel() / std::max<int64_t>(1, B * n);
  const int64_t length = ddf.size(ddf.dim() - 1) - 2 * order;
  int64_t rows = 1;
  for (int64_t d = 2; d + 1 < ddf.dim(); ++d)
    rows *= ddf.size(d) - 2 * order;
  const int64_t runs = runsOf(rows, length);
  std::vector<double> partial(B * n * runs, 0.0);
  forEachRun(
      ddf, rows, length, normalize, 0, threads,
      [&](int64_t task, int64_t channel, int64_t, int64_t count, std::vector<double> &params) {
        // One buffer per thread, reused: a fresh one per run would be mapped and faulted
        // in again every time.
        thread_local std::vector<double> scratch;
        scratch.resize(size_t(count * length));
        CallArgs call;
        call.flat(elementAt(ddf, channel * volume), volume);
        call.flat(params.data(), int64_t(params.size()));
        call.flat(scratch.data(), count * length);
        call.call(*kernel);
        partial[task] = ddf.scalar_type() == at::kFloat
                            ? sumOf(reinterpret_cast<const float *>(scratch.data()), count * length)
                            : sumOf(scratch.data(), count * length);
      });
  at::Tensor sums = at::zeros({B * n}, at::kDouble);
  double *s = sums.data_ptr<double>();
  for (int64_t task = 0; task < B * n * runs; ++task)
    s[task / runs] += partial[task];
  return sums;
}

at::Tensor ddf_energy_grad(const at::Tensor &ddf, const at::Tensor &coefficients, int64_t order,
                           bool normalize, int threads, const std::string &owner) {
  const int64_t n = checkDdf(ddf, order, owner), B = ddf.size(0);
  if (coefficients.dim() != 1 || coefficients.size(0) != B * n ||
      coefficients.scalar_type() != at::kDouble || !coefficients.is_contiguous())
    throw Error(owner, "the displacement-field gradient kernel needs (B * n) float64 "
                       "coefficients");
  auto kernel =
      compiled(ddfIR(toDType(ddf.scalar_type(), owner), n, order, true),
               order == 1 ? "DiffusionLoss gradient" : "BendingEnergyLoss gradient", owner);
  const int64_t volume = ddf.numel() / std::max<int64_t>(1, B * n);
  const int64_t length = ddf.size(ddf.dim() - 1), rows = volume / length;
  // Each channel with P elements on both sides, so every stencil read stays inside the buffer
  // (see med.ddf_energy_grad): P = 2 order (sum of the strides).
  int64_t pad = 0, stride = 1;
  for (int64_t d = ddf.dim() - 1; d >= 2; --d) {
    pad += stride;
    stride *= ddf.size(d);
  }
  pad *= 2 * order;
  at::Tensor padded = at::empty({B * n, volume + 2 * pad}, ddf.options());
  rt::preferHugePages(padded.data_ptr(), padded.nbytes());
  padded.narrow(1, 0, pad).zero_();
  padded.narrow(1, pad + volume, pad).zero_();
  padded.narrow(1, pad, volume).copy_(ddf.view({B * n, volume}));
  at::Tensor grad = at::empty_like(ddf, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  const double *k = coefficients.data_ptr<double>();
  forEachRun(ddf, rows, length, normalize, 1, threads,
             [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
               params.back() = k[channel];
               CallArgs call;
               call.flat(elementAt(padded, channel * (volume + 2 * pad)), volume + 2 * pad);
               call.flat(params.data(), int64_t(params.size()));
               call.flat(elementAt(grad, channel * volume + r0 * length), count * length);
               call.call(*kernel);
             });
  return grad;
}

} // namespace med::kernels
