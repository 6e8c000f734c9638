// LocalNormalizedCrossCorrelationLoss for registration (MONAI 1.4.0 semantics, kernels built
// as MONAI builds them; GlobalMutualInformationLoss is in mutual_information.cpp). LNCC on a CPU
// float32/float64 pair whose window has at most kLnccMaxKernelTaps taps runs on the generated
// stencil kernels (med/kernels/lncc.h), every reduction; other inputs and a backward that must
// itself be differentiable use the ATen formula (separable convolutions), which the tests also
// compare the kernels with.
#include "med/losses/reduction.h"
#include "med/losses/registration.h"

#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "med/core/error.h"
#include "med/kernels/lncc.h"
#include "stencil_generated.h"

namespace med::losses {

namespace {

std::string shapeOf(const at::Tensor &t) {
  std::ostringstream s;
  if (t.defined())
    s << t.sizes();
  else
    s << "undefined";
  return s.str();
}

at::Tensor triangularKernel(int64_t k) {
  int64_t fsize = (k + 1) / 2;
  if (fsize % 2 == 0)
    fsize -= 1;
  at::Tensor f = at::ones({1, 1, fsize}, at::kFloat).div(double(fsize));
  int64_t padding = (k - fsize) / 2 + fsize / 2;
  return at::conv1d(f, f, {}, 1, padding).reshape(-1);
}

at::Tensor gaussianKernel(int64_t k) {
  // MONAI samples exp(-x^2 / 2 sigma^2) on [-tail, tail] with sigma = k / 3 and
  // tail = int(sigma * (k / 2) + 0.5), then keeps the first k samples (off-centre for k >= 5).
  at::Tensor sigma = at::scalar_tensor(double(k) / 3.0, at::kFloat);
  double truncated = double(k / 2);
  int64_t tail = int64_t(std::max(sigma.item<float>() * truncated, 0.5) + 0.5);
  at::Tensor x = at::arange(-tail, tail + 1, at::TensorOptions().dtype(at::kFloat));
  at::Tensor out = at::exp(-0.5 / (sigma * sigma) * x.pow(2));
  out = out / (2.5066282 * sigma); // MONAI's unnormalised sampled Gaussian ...
  out = out * (2.5066282 * sigma); // ... rescaled back to a peak of 1
  return out.slice(0, 0, k).contiguous();
}

} // namespace

at::Tensor separable_filtering(const at::Tensor &x, const at::Tensor &kernel) {
  int64_t nd = x.dim() - 2, ch = x.size(1), k = kernel.size(0), pad = (k - 1) / 2;
  at::Tensor out = x;
  at::Tensor kk = kernel.to(x.options().requires_grad(false));
  for (int64_t d = 0; d < nd; ++d) {
    std::vector<int64_t> shape(x.dim(), 1);
    shape[d + 2] = k;
    std::vector<int64_t> rep(x.dim(), 1);
    rep[0] = ch;
    at::Tensor w = kk.reshape(shape).repeat(rep);
    std::vector<int64_t> padding(nd, 0);
    padding[d] = pad;
    std::vector<int64_t> stride(nd, 1), dil(nd, 1);
    if (nd == 1)
      out = at::conv1d(out, w, {}, stride, padding, dil, ch);
    else if (nd == 2)
      out = at::conv2d(out, w, {}, stride, padding, dil, ch);
    else
      out = at::conv3d(out, w, {}, stride, padding, dil, ch);
  }
  return out;
}

at::Tensor detail::lncc_map_eager(const at::Tensor &pred, const at::Tensor &target,
                                  const at::Tensor &kernel, double kvol, double smoothNr,
                                  double smoothDr) {
  at::Tensor vol = at::scalar_tensor(kvol, pred.options().requires_grad(false));
  at::Tensor t_sum = separable_filtering(target, kernel);
  at::Tensor p_sum = separable_filtering(pred, kernel);
  at::Tensor t2_sum = separable_filtering(target * target, kernel);
  at::Tensor p2_sum = separable_filtering(pred * pred, kernel);
  at::Tensor tp_sum = separable_filtering(target * pred, kernel);
  at::Tensor t_avg = t_sum / vol, p_avg = p_sum / vol;
  at::Tensor cross = tp_sum - p_avg * t_sum;
  at::Tensor floor = at::scalar_tensor(smoothDr, t2_sum.options().requires_grad(false));
  at::Tensor t_var = at::max(t2_sum - t_avg * t_sum, floor);
  at::Tensor p_var = at::max(p2_sum - p_avg * p_sum, floor);
  return (cross * cross + smoothNr) / (t_var * p_var);
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The window as a (K) float32 tensor.
at::Tensor windowTensor(const kernels::LnccWindow &w) {
  std::vector<float> v(w.weights.begin(), w.weights.end());
  return at::tensor(v, at::kFloat);
}

/// Keeps the pair and the window for a Function's backward.
void save(AutogradContext *ctx, const at::Tensor &pred, const at::Tensor &p, const at::Tensor &t,
          const kernels::LnccWindow &window, const std::string &owner) {
  ctx->saved_data["pred"] = p;
  ctx->saved_data["target"] = t;
  ctx->saved_data["weights"] = windowTensor(window);
  ctx->saved_data["volume"] = window.volume;
  ctx->saved_data["nr"] = window.smoothNr;
  ctx->saved_data["dr"] = window.smoothDr;
  ctx->saved_data["owner"] = owner;
  ctx->save_for_backward({pred});
}

/// The window kept by save.
kernels::LnccWindow savedWindow(AutogradContext *ctx) {
  at::Tensor weights = ctx->saved_data["weights"].toTensor();
  kernels::LnccWindow window;
  window.weights.assign(weights.data_ptr<float>(), weights.data_ptr<float>() + weights.numel());
  window.volume = ctx->saved_data["volume"].toDouble();
  window.smoothNr = ctx->saved_data["nr"].toDouble();
  window.smoothDr = ctx->saved_data["dr"].toDouble();
  return window;
}

/// MONAI's map in ATen from what save kept, a graph of pred: the backward under create_graph.
at::Tensor eagerMap(AutogradContext *ctx) {
  const kernels::LnccWindow window = savedWindow(ctx);
  return detail::lncc_map_eager(ctx->get_saved_variables()[0], ctx->saved_data["target"].toTensor(),
                                ctx->saved_data["weights"].toTensor(), window.volume,
                                window.smoothNr, window.smoothDr);
}

/// Per channel (b, c) the summed correlation, (B, C) float64, through med.lncc_map; the backward
/// through med.lncc_coefficients and med.lncc_grad with the incoming gradient per channel as
/// their coefficient.
struct LnccFunction : public torch::autograd::Function<LnccFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &pred, const at::Tensor &target,
                            const kernels::LnccWindow &window, const std::string &owner) {
    at::Tensor p = pred.contiguous(), t = target.contiguous();
    save(ctx, pred, p, t, window, owner);
    return kernels::lncc_sums(p, t, window, at::get_num_threads(), owner)
        .view({p.size(0), p.size(1)});
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    variable_list none = {at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      none.insert(none.begin(), detail::channelSumsGradWithGraph(
                                    eagerMap(ctx), ctx->get_saved_variables()[0], go[0]));
      return none;
    }
    at::Tensor coeff = go[0].to(at::kDouble).cpu().contiguous().view(-1);
    none.insert(none.begin(),
                kernels::lncc_grad(ctx->saved_data["pred"].toTensor(),
                                   ctx->saved_data["target"].toTensor(), coeff, savedWindow(ctx),
                                   at::get_num_threads(), ctx->saved_data["owner"].toStringRef()));
    return none;
  }
};

/// Reduction "none": the correlation map through med.lncc_map; the backward through
/// med.lncc_coefficients with the incoming gradient map per voxel, then med.lncc_grad.
struct LnccMapFunction : public torch::autograd::Function<LnccMapFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &pred, const at::Tensor &target,
                            const kernels::LnccWindow &window, const std::string &owner) {
    at::Tensor p = pred.contiguous(), t = target.contiguous();
    save(ctx, pred, p, t, window, owner);
    return kernels::lncc_map(p, t, window, at::get_num_threads(), owner);
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    variable_list none = {at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      none.insert(none.begin(),
                  torch::autograd::grad({eagerMap(ctx)}, {ctx->get_saved_variables()[0]}, {go[0]},
                                        /*retain_graph=*/true,
                                        /*create_graph=*/true)[0]);
      return none;
    }
    at::Tensor pred = ctx->saved_data["pred"].toTensor();
    none.insert(none.begin(), kernels::lncc_map_grad(pred, ctx->saved_data["target"].toTensor(),
                                                     go[0].to(pred.scalar_type()).contiguous(),
                                                     savedWindow(ctx), at::get_num_threads(),
                                                     ctx->saved_data["owner"].toStringRef()));
    return none;
  }
};

} // namespace

LocalNormalizedCrossCorrelationLossImpl::LocalNormalizedCrossCorrelationLossImpl(
    LocalNormalizedCrossCorrelationLossOptions o)
    : options(std::move(o)) {
  const std::string owner = "LocalNormalizedCrossCorrelationLoss";
  check_reduction(owner, options.reduction());
  if (options.spatial_dims() < 1 || options.spatial_dims() > 3)
    throw Error(owner + ".spatial_dims",
                "expected 1, 2 or 3, got " + std::to_string(options.spatial_dims()));
  int64_t k = options.kernel_size();
  if (k < 1 || k % 2 == 0)
    throw Error(owner + ".kernel_size", "expected an odd size >= 1, got " + std::to_string(k));
  const std::string &t = options.kernel_type();
  if (t == "rectangular")
    kernel = at::ones({k}, at::kFloat);
  else if (t == "triangular")
    kernel = triangularKernel(k);
  else if (t == "gaussian")
    kernel = gaussianKernel(k);
  else
    throw Error(owner + ".kernel_type",
                "expected rectangular, triangular or gaussian, got '" + t + "'");
}

at::Tensor LocalNormalizedCrossCorrelationLossImpl::forward(const at::Tensor &pred,
                                                            const at::Tensor &target) {
  const std::string owner = "LocalNormalizedCrossCorrelationLoss";
  if (!pred.defined() || pred.dim() - 2 != options.spatial_dims())
    throw Error(owner + ".pred", "expected (B, C, " + std::to_string(options.spatial_dims()) +
                                     " spatial axes), got shape " + shapeOf(pred));
  if (!target.defined() || !target.sizes().equals(pred.sizes()))
    throw Error(owner + ".target",
                "expected the shape of pred " + shapeOf(pred) + ", got " + shapeOf(target));
  // Kernel volume: the sum of the separable kernel's outer product, in float32 as MONAI.
  at::Tensor vol = kernel;
  for (int64_t i = 0; i + 1 < options.spatial_dims(); ++i)
    vol = at::matmul(vol.unsqueeze(-1), kernel.unsqueeze(0));
  const double kvol = vol.sum().item<double>();
  int64_t taps = 1;
  for (int64_t i = 0; i < options.spatial_dims(); ++i)
    taps *= kernel.size(0);
  const at::ScalarType type = pred.scalar_type();
  if ((type == at::kFloat || type == at::kDouble) && pred.device().is_cpu() &&
      target.device().is_cpu() && !target.requires_grad() && taps <= kLnccMaxKernelTaps &&
      pred.numel() > 0) {
    kernels::LnccWindow window;
    at::Tensor w = kernel.to(at::kFloat).contiguous();
    window.weights.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    window.volume = kvol;
    window.smoothNr = options.smooth_nr();
    window.smoothDr = options.smooth_dr();
    if (options.reduction() == "none")
      return LnccMapFunction::apply(pred, target.to(type), window, owner).neg();
    at::Tensor total = LnccFunction::apply(pred, target.to(type), window, owner).sum(); // float64
    if (options.reduction() == "mean")
      total = total / double(pred.numel());
    return total.neg().to(type);
  }
  return reduce(detail::lncc_map_eager(pred, target, kernel, kvol, options.smooth_nr(),
                                       options.smooth_dr()),
                options.reduction())
      .neg();
}

} // namespace med::losses
