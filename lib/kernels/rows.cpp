// Launching the stencil kernels (see rows.h).
#include "rows.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <sstream>

#include "med/runtime/launcher.h"
#include "med/runtime/memory.h"

namespace med::kernels::detail {

namespace {

/// Rows per run: about kBlock voxels, at least one row.
int64_t rowsPerRun(int64_t length) { return std::max<int64_t>(1, kBlock / length); }

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

std::string rowsIR(const std::string &op, const std::string &attrs, int inputs, rt::DType t,
                   int64_t args, int results) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  const std::string window = "tensor<?x?x" + e + ">";
  std::ostringstream ir;
  ir << "func.func @med_kernel(";
  for (int i = 0; i < inputs; ++i)
    ir << "%in" << i << ": " << m << ", ";
  ir << "%params: memref<?xf64>";
  for (int r = 0; r < results; ++r)
    ir << ", %out" << r << ": " << m;
  ir << ") attributes {llvm.emit_c_interface} {\n";
  for (int i = 0; i < inputs; ++i)
    ir << "  %x" << i << " = bufferization.to_tensor %in" << i << " restrict : " << m << "\n";
  for (int64_t i = 0; i < args + 2; ++i)
    ir << "  %c" << i << " = arith.constant " << i << " : index\n  %p" << i
       << " = memref.load %params[%c" << i << "] : memref<?xf64>\n";
  for (int i = 0; i < 2; ++i)
    ir << "  %w" << i << " = arith.fptoui %p" << i << " : f64 to i64\n  %i" << i
       << " = arith.index_cast %w" << i << " : i64 to index\n";
  ir << "  %r" << (results > 1 ? ":" + std::to_string(results) : "") << " = " << op << " ";
  for (int i = 0; i < inputs; ++i)
    ir << (i ? ", " : "") << "%x" << i;
  ir << " [%i0, %i1] (";
  for (int64_t i = 0; i < args; ++i)
    ir << (i ? ", " : "") << "%p" << i + 2;
  ir << ") " << attrs << " : ";
  for (int i = 0; i < inputs; ++i)
    ir << (i ? ", " : "") << v;
  ir << " -> ";
  for (int r = 0; r < results; ++r)
    ir << (r ? ", " : "") << window;
  ir << "\n";
  for (int r = 0; r < results; ++r) {
    const std::string res = results > 1 ? "%r#" + std::to_string(r) : "%r";
    ir << "  %f" << r << " = tensor.collapse_shape " << res << " [[0, 1]] : " << window << " into "
       << v << "\n  bufferization.materialize_in_destination %f" << r
       << " in restrict writable %out" << r << " : (" << v << ", " << m << ") -> ()\n";
  }
  ir << "  return\n}\n";
  return ir.str();
}

int64_t runsOf(int64_t rows, int64_t length) {
  const int64_t per = rowsPerRun(length);
  return (rows + per - 1) / per;
}

void forEachRun(int64_t channels, int64_t rows, int64_t length, const ChannelArgsFn &args,
                int extra, int threads, const RunFn &fn) {
  const int64_t per = rowsPerRun(length), runs = runsOf(rows, length);
  rt::parallelFor(channels * runs, threads, 1, [&](int64_t first, int64_t last) {
    std::vector<double> params;
    for (int64_t task = first; task < last; ++task) {
      const int64_t channel = task / runs, r0 = (task % runs) * per;
      const std::vector<double> &a = args(channel);
      params.assign(2 + a.size() + extra, 0.0);
      params[0] = double(r0);
      params[1] = double(std::min(per, rows - r0));
      std::copy(a.begin(), a.end(), params.begin() + 2);
      fn(task, channel, r0, int64_t(params[1]), params);
    }
  });
}

at::Tensor sumOfRuns(const compiler::Kernel &kernel, at::ScalarType type, int64_t channels,
                     int64_t rows, int64_t length, const ChannelArgsFn &args, int threads,
                     const std::function<void(CallArgs &, int64_t channel)> &bind) {
  const int64_t runs = runsOf(rows, length);
  std::vector<double> partial(channels * runs, 0.0);
  forEachRun(
      channels, rows, length, args, 0, threads,
      [&](int64_t task, int64_t channel, int64_t, int64_t count, std::vector<double> &params) {
        // One buffer per thread, reused: a fresh one per run would be mapped and faulted
        // in again every time.
        thread_local std::vector<double> scratch;
        scratch.resize(size_t(count * length));
        CallArgs call;
        bind(call, channel);
        call.flat(params.data(), int64_t(params.size()));
        call.flat(scratch.data(), count * length);
        call.call(kernel);
        partial[task] = type == at::kFloat
                            ? sumOf(reinterpret_cast<const float *>(scratch.data()), count * length)
                            : sumOf(scratch.data(), count * length);
      });
  at::Tensor sums = at::zeros({channels}, at::kDouble);
  double *s = sums.data_ptr<double>();
  for (int64_t task = 0; task < channels * runs; ++task)
    s[task / runs] += partial[task];
  return sums;
}

int64_t stencilPad(const at::Tensor &x, int64_t reach) {
  int64_t pad = 0, stride = 1;
  for (int64_t d = x.dim() - 1; d >= 2; --d) {
    pad += stride;
    stride *= x.size(d);
  }
  return pad * reach;
}

at::Tensor paddedLike(const at::Tensor &x, int64_t channels, int64_t pad) {
  const int64_t volume = channels ? x.numel() / channels : 0;
  at::Tensor padded = at::empty({channels, volume + 2 * pad}, x.options());
  rt::preferHugePages(padded.data_ptr(), padded.nbytes());
  padded.narrow(1, 0, pad).zero_();
  padded.narrow(1, pad + volume, pad).zero_();
  return padded;
}

at::Tensor padChannels(const at::Tensor &x, int64_t channels, int64_t pad) {
  at::Tensor padded = paddedLike(x, channels, pad);
  const int64_t volume = channels ? x.numel() / channels : 0;
  padded.narrow(1, pad, volume).copy_(x.reshape({channels, volume}));
  return padded;
}

} // namespace med::kernels::detail
