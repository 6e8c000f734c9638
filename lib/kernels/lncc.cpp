// Launchers of the LNCC kernels med.lncc_map, med.lncc_coefficients and med.lncc_grad (see
// med/kernels/lncc.h).
#include "med/kernels/lncc.h"

#include <ATen/ATen.h>

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

/// Checks the pair and the window; returns the spatial rank n.
int64_t checkLncc(const at::Tensor &pred, const at::Tensor &target, const LnccWindow &window,
                  const std::string &owner) {
  std::ostringstream shape;
  shape << pred.sizes();
  const bool floating = pred.scalar_type() == at::kFloat || pred.scalar_type() == at::kDouble;
  if (!floating || target.scalar_type() != pred.scalar_type() || !pred.is_contiguous() ||
      !target.is_contiguous() || !pred.device().is_cpu() || !target.device().is_cpu() ||
      pred.dim() < 3 || pred.dim() > 5 || !target.sizes().equals(pred.sizes()))
    throw Error(owner, "the LNCC kernels need a contiguous CPU float32/float64 pair of one "
                       "(B, C, *spatial) shape with 1..3 spatial axes, got " +
                           shape.str());
  const size_t k = window.weights.size();
  if (k == 0 || k % 2 == 0)
    throw Error(owner,
                "the LNCC kernels need an odd window, got " + std::to_string(k) + " weights");
  return pred.dim() - 2;
}

/// The args after the window: sizes, weights, volume, smooth_nr, smooth_dr (and the
/// coefficient, set per call, with `coefficient`).
std::vector<double> argsOf(const at::Tensor &pred, const LnccWindow &w) {
  std::vector<double> a;
  for (int64_t d = 2; d < pred.dim(); ++d)
    a.push_back(double(pred.size(d)));
  a.insert(a.end(), w.weights.begin(), w.weights.end());
  a.push_back(w.volume);
  a.push_back(w.smoothNr);
  a.push_back(w.smoothDr);
  return a;
}

std::string attrs(const LnccWindow &w) {
  return "{kernel_size = " + std::to_string(w.weights.size()) + "}";
}

/// The pair's shape in channels, voxels per channel, row length, rows and padding.
struct Layout {
  int64_t channels, volume, length, rows, pad;
  Layout(const at::Tensor &pred, const LnccWindow &w)
      : channels(pred.size(0) * pred.size(1)), volume(channels ? pred.numel() / channels : 0),
        length(pred.size(pred.dim() - 1)), rows(length ? volume / length : 0),
        pad(stencilPad(pred, int64_t(w.weights.size()) / 2)) {}
  int64_t padded() const { return volume + 2 * pad; }
};

/// The checked pair's med.lncc_map kernel.
std::shared_ptr<const compiler::Kernel> mapKernel(const at::Tensor &pred, const at::Tensor &target,
                                                  const LnccWindow &window,
                                                  const std::string &owner) {
  const int64_t n = checkLncc(pred, target, window, owner);
  const int64_t k = int64_t(window.weights.size());
  return compiled(
      rowsIR("med.lncc_map", attrs(window), 2, toDType(pred.scalar_type(), owner), n + k + 3, 1),
      "LocalNormalizedCrossCorrelationLoss map", owner);
}

} // namespace

at::Tensor lncc_sums(const at::Tensor &pred, const at::Tensor &target, const LnccWindow &window,
                     int threads, const std::string &owner) {
  auto kernel = mapKernel(pred, target, window, owner);
  const Layout s(pred, window);
  at::Tensor p = padChannels(pred, s.channels, s.pad), q = padChannels(target, s.channels, s.pad);
  const std::vector<double> args = argsOf(pred, window);
  return sumOfRuns(
      *kernel, pred.scalar_type(), s.channels, s.rows, s.length,
      [&](int64_t) -> const std::vector<double> & { return args; }, threads,
      [&](CallArgs &call, int64_t channel) {
        call.flat(elementAt(p, channel * s.padded()), s.padded());
        call.flat(elementAt(q, channel * s.padded()), s.padded());
      });
}

namespace {

/// The gradient kernels over every channel: the coefficient maps of med.lncc_coefficients with
/// a coefficient per channel (`coefficients`) or, when `weights` is defined, the incoming
/// gradient map per voxel; then med.lncc_grad.
at::Tensor gradOf(const at::Tensor &pred, const at::Tensor &target, const double *coefficients,
                  const at::Tensor &weights, const LnccWindow &window, int threads,
                  const std::string &owner) {
  const int64_t n = checkLncc(pred, target, window, owner);
  const Layout s(pred, window);
  const rt::DType t = toDType(pred.scalar_type(), owner);
  const int64_t k = int64_t(window.weights.size());
  const bool perVoxel = weights.defined();
  auto coefficientsKernel = compiled(rowsIR("med.lncc_coefficients", attrs(window),
                                            perVoxel ? 3 : 2, t, n + k + (perVoxel ? 3 : 4), 3),
                                     "LocalNormalizedCrossCorrelationLoss coefficients", owner);
  auto gradKernel = compiled(rowsIR("med.lncc_grad", attrs(window), 5, t, n + k, 1),
                             "LocalNormalizedCrossCorrelationLoss gradient", owner);
  at::Tensor p = padChannels(pred, s.channels, s.pad), q = padChannels(target, s.channels, s.pad);
  at::Tensor g = perVoxel ? padChannels(weights, s.channels, s.pad) : at::Tensor();
  // The three coefficient maps, padded like p so that the gradient's window reads stay inside.
  at::Tensor maps[3];
  for (at::Tensor &m : maps)
    m = paddedLike(pred, s.channels, s.pad);
  const std::vector<double> args = argsOf(pred, window);
  auto same = [&](int64_t) -> const std::vector<double> & { return args; };
  forEachRun(s.channels, s.rows, s.length, same, perVoxel ? 0 : 1, threads,
             [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
               if (!perVoxel)
                 params.back() = coefficients[channel];
               CallArgs call;
               call.flat(elementAt(p, channel * s.padded()), s.padded());
               call.flat(elementAt(q, channel * s.padded()), s.padded());
               if (perVoxel)
                 call.flat(elementAt(g, channel * s.padded()), s.padded());
               call.flat(params.data(), int64_t(params.size()));
               for (at::Tensor &m : maps)
                 call.flat(elementAt(m, channel * s.padded() + s.pad + r0 * s.length),
                           count * s.length);
               call.call(*coefficientsKernel);
             });
  const std::vector<double> gradArgs(args.begin(), args.begin() + n + k);
  at::Tensor grad = at::empty_like(pred, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  forEachRun(
      s.channels, s.rows, s.length,
      [&](int64_t) -> const std::vector<double> & { return gradArgs; }, 0, threads,
      [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
        CallArgs call;
        for (const at::Tensor &x : {p, q, maps[0], maps[1], maps[2]})
          call.flat(elementAt(x, channel * s.padded()), s.padded());
        call.flat(params.data(), int64_t(params.size()));
        call.flat(elementAt(grad, channel * s.volume + r0 * s.length), count * s.length);
        call.call(*gradKernel);
      });
  return grad;
}

} // namespace

at::Tensor lncc_grad(const at::Tensor &pred, const at::Tensor &target,
                     const at::Tensor &coefficients, const LnccWindow &window, int threads,
                     const std::string &owner) {
  checkLncc(pred, target, window, owner);
  if (coefficients.dim() != 1 || coefficients.size(0) != pred.size(0) * pred.size(1) ||
      coefficients.scalar_type() != at::kDouble || !coefficients.is_contiguous())
    throw Error(owner, "the LNCC gradient kernels need (B * C) float64 coefficients");
  return gradOf(pred, target, coefficients.data_ptr<double>(), at::Tensor(), window, threads,
                owner);
}

at::Tensor lncc_map(const at::Tensor &pred, const at::Tensor &target, const LnccWindow &window,
                    int threads, const std::string &owner) {
  auto kernel = mapKernel(pred, target, window, owner);
  const Layout s(pred, window);
  at::Tensor p = padChannels(pred, s.channels, s.pad), q = padChannels(target, s.channels, s.pad);
  at::Tensor map = at::empty_like(pred, at::MemoryFormat::Contiguous);
  rt::preferHugePages(map.data_ptr(), map.nbytes());
  const std::vector<double> args = argsOf(pred, window);
  forEachRun(
      s.channels, s.rows, s.length, [&](int64_t) -> const std::vector<double> & { return args; }, 0,
      threads,
      [&](int64_t, int64_t channel, int64_t r0, int64_t count, std::vector<double> &params) {
        CallArgs call;
        call.flat(elementAt(p, channel * s.padded()), s.padded());
        call.flat(elementAt(q, channel * s.padded()), s.padded());
        call.flat(params.data(), int64_t(params.size()));
        call.flat(elementAt(map, channel * s.volume + r0 * s.length), count * s.length);
        call.call(*kernel);
      });
  return map;
}

at::Tensor lncc_map_grad(const at::Tensor &pred, const at::Tensor &target,
                         const at::Tensor &weights, const LnccWindow &window, int threads,
                         const std::string &owner) {
  checkLncc(pred, target, window, owner);
  if (!weights.sizes().equals(pred.sizes()) || weights.scalar_type() != pred.scalar_type() ||
      !weights.is_contiguous() || !weights.device().is_cpu())
    throw Error(owner, "the LNCC map gradient needs the map's gradient as a contiguous CPU "
                       "tensor of pred's shape and dtype");
  return gradOf(pred, target, nullptr, weights, window, threads, owner);
}

} // namespace med::kernels
