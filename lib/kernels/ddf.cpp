// Launchers of the displacement-field kernels med.ddf_energy, med.ddf_energy_grad and
// med.ddf_energy_weighted_grad (see med/kernels/ddf.h).
#include "med/kernels/ddf.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <functional>
#include <sstream>
#include <vector>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/runtime/memory.h"
#include "rows.h"

namespace med::kernels {

using namespace detail;

namespace {

/// The kernel's IR: the channel, params [window offset, window rows, 3 n args (and the
/// coefficient for the gradient)], the output window.
std::string ddfIR(rt::DType t, int64_t n, int64_t order, bool grad) {
  return rowsIR(grad ? "med.ddf_energy_grad" : "med.ddf_energy",
                "{order = " + std::to_string(order) + "}", 1, t, 3 * n + (grad ? 1 : 0), 1);
}

/// The weighted gradient's IR: the channel and its weights, params [window offset, window
/// rows, 3 n args], the output window.
std::string weightedGradIR(rt::DType t, int64_t n, int64_t order) {
  return rowsIR("med.ddf_energy_weighted_grad", "{order = " + std::to_string(order) + "}", 2, t,
                3 * n, 1);
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

/// The args of every component of `ddf`, for forEachRun.
std::vector<std::vector<double>> componentArgs(const at::Tensor &ddf, bool normalize) {
  std::vector<std::vector<double>> args;
  for (int64_t c = 0; c < ddf.size(1); ++c)
    args.push_back(argsOf(ddf, c, normalize));
  return args;
}

/// forEachRun over the B n channels of `ddf`, each with its component's args.
void forEachChannelRun(const at::Tensor &ddf, bool normalize, int64_t rows, int64_t length,
                       int extra, int threads, const RunFn &fn) {
  const int64_t n = ddf.dim() - 2;
  const auto args = componentArgs(ddf, normalize);
  forEachRun(
      ddf.size(0) * n, rows, length,
      [&](int64_t channel) -> const std::vector<double> & { return args[channel % n]; }, extra,
      threads, fn);
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
  const auto args = componentArgs(ddf, normalize);
  at::Tensor sums = sumOfRuns(
      *kernel, ddf.scalar_type(), B * n, rows, length,
      [&](int64_t channel) -> const std::vector<double> & { return args[channel % n]; }, threads,
      [&](CallArgs &call, int64_t channel) {
        call.flat(elementAt(ddf, channel * volume), volume);
      });
  return sums;
}

at::Tensor ddf_energy_map(const at::Tensor &ddf, int64_t order, bool normalize, int threads,
                          const std::string &owner) {
  const int64_t n = checkDdf(ddf, order, owner), B = ddf.size(0);
  auto kernel = compiled(ddfIR(toDType(ddf.scalar_type(), owner), n, order, false),
                         order == 1 ? "DiffusionLoss energy" : "BendingEnergyLoss energy", owner);
  std::vector<int64_t> shape = {B, n};
  for (int64_t d = 2; d < ddf.dim(); ++d)
    shape.push_back(ddf.size(d) - 2 * order);
  at::Tensor map = at::empty(shape, ddf.options());
  rt::preferHugePages(map.data_ptr(), map.nbytes());
  const int64_t volume = ddf.numel() / std::max<int64_t>(1, B * n);
  const int64_t length = shape.back(), rows = B * n ? map.numel() / (B * n * length) : 0;
  forEachChannelRun(
      ddf, normalize, rows, length, 0, threads,
      [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
        CallArgs call;
        call.flat(elementAt(ddf, channel * volume), volume);
        call.flat(params.data(), int64_t(params.size()));
        call.flat(elementAt(map, (channel * rows + r0) * length), count * length);
        call.call(*kernel);
      });
  return map;
}

at::Tensor ddf_energy_map_grad(const at::Tensor &ddf, const at::Tensor &weights, int64_t order,
                               bool normalize, int threads, const std::string &owner) {
  const int64_t n = checkDdf(ddf, order, owner), B = ddf.size(0);
  std::vector<int64_t> interior = {B, n};
  for (int64_t d = 2; d < ddf.dim(); ++d)
    interior.push_back(ddf.size(d) - 2 * order);
  if (!weights.sizes().equals(interior) || weights.scalar_type() != ddf.scalar_type() ||
      !weights.device().is_cpu())
    throw Error(owner, "the displacement-field map gradient needs the energy map's gradient, a "
                       "CPU tensor of the field's dtype and the map's shape");
  auto kernel =
      compiled(weightedGradIR(toDType(ddf.scalar_type(), owner), n, order),
               order == 1 ? "DiffusionLoss map gradient" : "BendingEnergyLoss map gradient", owner);
  const int64_t volume = ddf.numel() / std::max<int64_t>(1, B * n);
  const int64_t length = ddf.size(ddf.dim() - 1), rows = volume / length;
  // The field and the weights on the same padded channels, the weights 0 off the interior.
  const int64_t pad = stencilPad(ddf, 2 * order);
  at::Tensor padded = padChannels(ddf, B * n, pad);
  at::Tensor w = at::empty({B * n, volume + 2 * pad}, ddf.options());
  rt::preferHugePages(w.data_ptr(), w.nbytes()); // before the first touch
  w.zero_();
  at::Tensor inner = w.narrow(1, pad, volume).view(ddf.sizes());
  for (int64_t d = 2; d < ddf.dim(); ++d)
    inner = inner.narrow(d, order, ddf.size(d) - 2 * order);
  inner.copy_(weights);
  at::Tensor grad = at::empty_like(ddf, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  forEachChannelRun(
      ddf, normalize, rows, length, 0, threads,
      [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
        CallArgs call;
        call.flat(elementAt(padded, channel * (volume + 2 * pad)), volume + 2 * pad);
        call.flat(elementAt(w, channel * (volume + 2 * pad)), volume + 2 * pad);
        call.flat(params.data(), int64_t(params.size()));
        call.flat(elementAt(grad, channel * volume + r0 * length), count * length);
        call.call(*kernel);
      });
  return grad;
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
  // Each channel with P = 2 order (sum of the strides) elements on both sides, so every stencil
  // read stays inside the buffer (see med.ddf_energy_grad).
  const int64_t pad = stencilPad(ddf, 2 * order);
  at::Tensor padded = padChannels(ddf, B * n, pad);
  at::Tensor grad = at::empty_like(ddf, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  const double *k = coefficients.data_ptr<double>();
  forEachChannelRun(
      ddf, normalize, rows, length, 1, threads,
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
