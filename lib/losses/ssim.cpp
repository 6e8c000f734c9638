// SSIMLoss (see ssim.h): the SSIM map from the generated window passes, wrapped as an autograd
// Function whose backward is the passes' adjoint (med/kernels/ssim.h); MONAI's formulation in
// ATen (forward_eager) for what the kernels do not take.
#include "med/losses/ssim.h"

#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "med/core/error.h"
#include "med/kernels/ssim.h"
#include "med/losses/reduction.h"

namespace med::losses {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// MONAI's SSIM map with the whole n-D `window` (float32, (win,)*n) in ATen: five grouped
/// convolutions, then the formula.
at::Tensor ssimMapEager(const at::Tensor &x, const at::Tensor &y, const at::Tensor &window,
                        double c1, double c2) {
  const int64_t nd = x.dim() - 2, C = x.size(1);
  std::vector<int64_t> wshape = {C, 1};
  wshape.insert(wshape.end(), window.sizes().begin(), window.sizes().end());
  at::Tensor w = window.unsqueeze(0).unsqueeze(0).expand(wshape).contiguous();
  auto conv = [&](const at::Tensor &v) {
    std::vector<int64_t> one(nd, 1), zero(nd, 0);
    return nd == 2 ? at::conv2d(v, w, {}, one, zero, one, C)
                   : at::conv3d(v, w, {}, one, zero, one, C);
  };
  at::Tensor mx = conv(x), my = conv(y);
  at::Tensor sxx = conv(x * x) - mx * mx, syy = conv(y * y) - my * my;
  at::Tensor sxy = conv(x * y) - mx * my;
  at::Tensor cs = (2 * sxy + c2) / (sxx + syy + c2);
  return ((2 * mx * my + c1) / (mx.pow(2) + my.pow(2) + c1)) * cs;
}

std::vector<std::vector<double>> windowsOf(const at::Tensor &taps, int64_t nd) {
  std::vector<double> t(taps.data_ptr<float>(), taps.data_ptr<float>() + taps.numel());
  return std::vector<std::vector<double>>(size_t(nd), t);
}

/// The SSIM map of (x, y) on the kernels; backward gives x's gradient by the adjoint passes
/// (y is the target: no gradient). Under create_graph the backward recomputes the map in ATen
/// so the gradient has a graph of its own.
struct SsimFunction : public torch::autograd::Function<SsimFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &y,
                            const at::Tensor &taps, const at::Tensor &window, double c1, double c2,
                            const std::string &owner) {
    at::Tensor xc = x.contiguous(), yc = y.contiguous();
    ctx->saved_data["x"] = xc;
    ctx->saved_data["y"] = yc;
    ctx->saved_data["taps"] = taps;
    ctx->saved_data["window"] = window;
    ctx->saved_data["c1"] = c1;
    ctx->saved_data["c2"] = c2;
    ctx->saved_data["owner"] = owner;
    ctx->save_for_backward({x});
    return kernels::ssim_maps(xc, yc, windowsOf(taps, x.dim() - 2), c1, c2, at::get_num_threads(),
                              owner)
        .first;
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    at::Tensor y = ctx->saved_data["y"].toTensor();
    at::Tensor taps = ctx->saved_data["taps"].toTensor();
    const double c1 = ctx->saved_data["c1"].toDouble(), c2 = ctx->saved_data["c2"].toDouble();
    variable_list out(7);
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor x = ctx->get_saved_variables()[0];
      at::Tensor map = ssimMapEager(x, y, ctx->saved_data["window"].toTensor(), c1, c2);
      out[0] = torch::autograd::grad({map}, {x}, {go[0]}, /*retain_graph=*/true,
                                     /*create_graph=*/true)[0];
      return out;
    }
    at::Tensor x = ctx->saved_data["x"].toTensor();
    out[0] = kernels::ssim_grad(x, y, windowsOf(taps, x.dim() - 2), c1, c2,
                                go[0].to(x.scalar_type()).contiguous(), at::get_num_threads(),
                                ctx->saved_data["owner"].toStringRef());
    return out;
  }
};

} // namespace

SSIMLossImpl::SSIMLossImpl(SSIMLossOptions o) : options(std::move(o)) {
  const std::string owner = "SSIMLoss";
  const int64_t nd = options.spatial_dims(), k = options.win_size();
  if (nd != 2 && nd != 3)
    throw Error(owner + ".spatial_dims", "expected 2 or 3, got " + std::to_string(nd));
  if (k < 1)
    throw Error(owner + ".win_size", "expected >= 1, got " + std::to_string(k));
  check_reduction(owner, options.reduction());
  if (options.kernel_type() == "gaussian") {
    if (!(options.kernel_sigma() > 0))
      throw Error(owner + ".kernel_sigma", "expected > 0");
    at::Tensor d = at::arange((1.0 - double(k)) / 2, (1.0 + double(k)) / 2, 1.0, at::kFloat);
    at::Tensor g = at::exp(-at::pow(d / options.kernel_sigma(), 2) / 2);
    taps_ = g / g.sum();
  } else if (options.kernel_type() == "uniform") {
    taps_ = at::ones({k}, at::kFloat) / double(k);
  } else {
    throw Error(owner + ".kernel_type",
                "expected gaussian or uniform, got '" + options.kernel_type() + "'");
  }
  window_ = nd == 2 ? at::outer(taps_, taps_)
                    : at::outer(taps_, taps_).unsqueeze(-1) * taps_.view({1, 1, k});
}

void SSIMLossImpl::check(const at::Tensor &input, const at::Tensor &target) const {
  const std::string owner = "SSIMLoss";
  const int64_t nd = options.spatial_dims();
  std::ostringstream s;
  if (input.defined())
    s << input.sizes();
  if (!input.defined() || input.dim() != nd + 2)
    throw Error(owner + ".input",
                "expected (B, C, " + std::to_string(nd) + " spatial axes), got " + s.str());
  if (!target.defined() || !target.sizes().equals(input.sizes()))
    throw Error(owner + ".target", "expected the input's shape " + s.str());
  for (int64_t d = 2; d < input.dim(); ++d)
    if (input.size(d) < options.win_size())
      throw Error(owner + ".input", "every spatial size must be >= win_size (" +
                                        std::to_string(options.win_size()) + "), got " + s.str());
}

at::Tensor SSIMLossImpl::forward_eager(const at::Tensor &input, const at::Tensor &target) {
  check(input, target);
  // MONAI computes SSIM in float32.
  at::Tensor x = input.to(at::kFloat), y = target.to(at::kFloat);
  const double c1 = std::pow(options.k1() * options.data_range(), 2);
  const double c2 = std::pow(options.k2() * options.data_range(), 2);
  at::Tensor ssim = ssimMapEager(x, y, window_, c1, c2);
  at::Tensor per = ssim.reshape({ssim.size(0), -1}).mean(1, true); // (B, 1)
  return reduce(1 - per, options.reduction());
}

at::Tensor SSIMLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  check(input, target);
  const bool targetGrad = at::GradMode::is_enabled() && target.requires_grad();
  if (!input.device().is_cpu() || !target.device().is_cpu() || targetGrad || input.numel() == 0)
    return forward_eager(input, target);
  at::Tensor x = input.to(at::kFloat), y = target.to(at::kFloat).detach();
  const double c1 = std::pow(options.k1() * options.data_range(), 2);
  const double c2 = std::pow(options.k2() * options.data_range(), 2);
  at::Tensor ssim = SsimFunction::apply(x, y, taps_, window_, c1, c2, std::string("SSIMLoss"));
  at::Tensor per = ssim.reshape({ssim.size(0), -1}).mean(1, true); // (B, 1)
  return reduce(1 - per, options.reduction());
}

} // namespace med::losses
