// GlobalMutualInformationLoss (MONAI 1.4.0 semantics). On a CPU float32/float64 pair of at
// most kParzenMaxBins bins, the joint histogram and its gradient come from generated kernels
// (med/kernels/parzen.h) inside an autograd Function, without the (voxels x bins) weight
// tensors; the marginals (the joint's row and column sums), the mutual information and the
// b-spline windows' scales (each image's extrema) are ATen's, with autograd. A target that
// needs a gradient, other devices, more bins and a backward with create_graph (re-formed in
// ATen) use forward_eager, MONAI's formulation, which the tests compare the kernels with.
#include "med/losses/reduction.h"
#include "med/losses/registration.h"

#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "med/core/error.h"
#include "med/kernels/parzen.h"

namespace med::losses {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// MONAI's Gaussian Parzen weights of (B, *) images: (B, N, bins), x clamped to [0, 1].
at::Tensor gaussianWeights(const at::Tensor &img, const at::Tensor &centres,
                           const at::Tensor &preterm) {
  at::Tensor x = at::clamp(img, 0, 1).reshape({img.size(0), -1, 1});
  at::Tensor w = at::exp(-preterm.to(x.options().requires_grad(false)) *
                         (x - centres.to(x.options().requires_grad(false))).pow(2));
  return w / w.sum(-1, true);
}

/// sum over (i, j) of pab log((pab + nr) / (papb + dr) + dr), per item.
at::Tensor miOf(const at::Tensor &pab, const at::Tensor &papb, double nr, double dr) {
  return (pab * at::log((pab + nr) / (papb + dr) + dr)).sum({1, 2});
}

/// MONAI's b-spline scale of an image, from the extrema of all of it (the batch too), in its
/// dtype, with autograd: (bin size, normalised minimum), 0-d tensors.
std::pair<at::Tensor, at::Tensor> bsplineScale(const at::Tensor &img, int64_t bins) {
  const int64_t padding = 2;
  at::Tensor mx = img.max(), mn = img.min();
  at::Tensor size = (mx - mn) / double(bins - 2 * padding);
  return {size, at::div(mn, size) - double(padding)};
}

/// MONAI's b-spline weights (B, N, bins) of an image with its scale: cubic (order 3) or a box
/// (order 0), normalised over the bins.
at::Tensor bsplineWeights(const at::Tensor &img, const at::Tensor &size, const at::Tensor &min,
                          int64_t bins, int order) {
  const int64_t padding = 2;
  at::Tensor term = at::div(img, size) - min;
  term = at::clamp(term, double(padding), double(bins - padding - 1));
  term = term.reshape({term.size(0), -1, 1});
  at::Tensor centers = at::arange(bins, at::TensorOptions().dtype(at::kLong)).view({1, 1, -1});
  at::Tensor a = at::abs(centers - term);
  // MONAI starts from a float32 zero tensor, so the box window stays float32.
  at::Tensor w = at::zeros(a.sizes(), a.options().dtype(at::kFloat).requires_grad(false));
  if (order == 0) {
    w = w + a.lt(0.5) + a.eq(0.5) * 0.5;
  } else {
    w = w + (4 - 6 * a.pow(2) + 3 * a.pow(3)) * a.lt(1) / 6;
    w = w + (2 - a).pow(3) * a.ge(1) * a.lt(2) / 6;
  }
  return w / w.sum(-1, true);
}

/// The joint histogram (B, bins, bins), float64, of the b-spline windows on the kernels, pred's
/// cubic and target's box; backward gives the gradients of pred and of pred's scale (bin size
/// and normalised minimum, which carry it on to pred's extrema). Under create_graph the
/// backward forms the joint again in ATen.
struct BsplineJointFunction : public torch::autograd::Function<BsplineJointFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &pred, const at::Tensor &target,
                            const at::Tensor &size, const at::Tensor &min,
                            const at::Tensor &targetSize, const at::Tensor &targetMin, int64_t bins,
                            const std::string &owner) {
    at::Tensor a = pred.contiguous(), b = target.contiguous();
    ctx->saved_data["a"] = a;
    ctx->saved_data["b"] = b;
    ctx->saved_data["bins"] = bins;
    ctx->saved_data["owner"] = owner;
    ctx->saved_data["targetSize"] = targetSize;
    ctx->saved_data["targetMin"] = targetMin;
    ctx->save_for_backward({pred, size, min});
    return kernels::bspline_joint(a, b, bins, scaleOf(size, min), scaleOf(targetSize, targetMin),
                                  at::get_num_threads(), owner);
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &pred = saved[0], &size = saved[1], &min = saved[2];
    at::Tensor b = ctx->saved_data["b"].toTensor();
    at::Tensor targetSize = ctx->saved_data["targetSize"].toTensor();
    at::Tensor targetMin = ctx->saved_data["targetMin"].toTensor();
    const int64_t bins = ctx->saved_data["bins"].toInt();
    variable_list out(8);
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      // The saved scale depends on pred (its extrema), so pred's gradient through it is pred's
      // whole gradient; the scale's own entries stay empty.
      at::Tensor wa = bsplineWeights(pred, size, min, bins, 3);
      at::Tensor wb = bsplineWeights(b, targetSize, targetMin, bins, 0).to(wa.scalar_type());
      at::Tensor joint = at::bmm(wa.permute({0, 2, 1}), wb).div(double(wa.size(1)));
      out[0] = torch::autograd::grad({joint}, {pred}, {go[0].to(joint.scalar_type())},
                                     /*retain_graph=*/true, /*create_graph=*/true)[0];
      return out;
    }
    at::Tensor a = ctx->saved_data["a"].toTensor();
    at::Tensor gx =
        kernels::bspline_joint_grad(a, b, bins, scaleOf(size, min), scaleOf(targetSize, targetMin),
                                    go[0].to(at::kDouble).contiguous(), at::get_num_threads(),
                                    ctx->saved_data["owner"].toStringRef());
    // t = x / s - m: dL/ds = -sum(dL/dx x) / s, dL/dm = -s sum(dL/dx).
    out[0] = gx;
    out[2] = -(gx * a).sum() / size;
    out[3] = -gx.sum() * size;
    return out;
  }

  static kernels::BsplineScale scaleOf(const at::Tensor &size, const at::Tensor &min) {
    return {size.item<double>(), min.item<double>()};
  }
};

/// The joint histogram (B, bins, bins), float64, of pred and target on the kernels; backward
/// gives pred's gradient (the target is detached). Under create_graph the backward forms the
/// joint again in ATen so the gradient has a graph of its own.
struct ParzenJointFunction : public torch::autograd::Function<ParzenJointFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &pred, const at::Tensor &target,
                            const at::Tensor &centres, const at::Tensor &preterm,
                            const std::string &owner) {
    at::Tensor a = pred.contiguous(), b = target.contiguous();
    ctx->saved_data["a"] = a;
    ctx->saved_data["b"] = b;
    ctx->saved_data["centres"] = centres;
    ctx->saved_data["preterm"] = preterm;
    ctx->saved_data["owner"] = owner;
    ctx->save_for_backward({pred});
    return kernels::parzen_joint(a, b, centresOf(centres), preterm.item<double>(),
                                 at::get_num_threads(), owner);
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    at::Tensor b = ctx->saved_data["b"].toTensor(), centres = ctx->saved_data["centres"].toTensor();
    at::Tensor preterm = ctx->saved_data["preterm"].toTensor();
    variable_list out(5);
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor pred = ctx->get_saved_variables()[0];
      at::Tensor wa = gaussianWeights(pred, centres, preterm),
                 wb = gaussianWeights(b, centres, preterm);
      at::Tensor joint = at::bmm(wa.permute({0, 2, 1}), wb).div(double(wa.size(1)));
      out[0] = torch::autograd::grad({joint}, {pred}, {go[0].to(joint.scalar_type())},
                                     /*retain_graph=*/true, /*create_graph=*/true)[0];
      return out;
    }
    out[0] =
        kernels::parzen_joint_grad(ctx->saved_data["a"].toTensor(), b, centresOf(centres),
                                   preterm.item<double>(), go[0].to(at::kDouble).contiguous(),
                                   at::get_num_threads(), ctx->saved_data["owner"].toStringRef());
    return out;
  }

  static std::vector<double> centresOf(const at::Tensor &c) {
    at::Tensor d = c.to(at::kDouble).contiguous().view(-1);
    return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  }
};

} // namespace

GlobalMutualInformationLossImpl::GlobalMutualInformationLossImpl(
    GlobalMutualInformationLossOptions o)
    : options(std::move(o)) {
  const std::string owner = "GlobalMutualInformationLoss";
  check_reduction(owner, options.reduction());
  if (options.num_bins() <= 0)
    throw Error(owner + ".num_bins", "expected > 0, got " + std::to_string(options.num_bins()));
  if (options.kernel_type() != "gaussian" && options.kernel_type() != "b-spline")
    throw Error(owner + ".kernel_type",
                "expected gaussian or b-spline, got '" + options.kernel_type() + "'");
  if (options.kernel_type() == "b-spline" && options.num_bins() <= 4)
    throw Error(owner + ".num_bins", "b-spline windows need more than 4 bins (2 padding bins "
                                     "on each side)");
  at::Tensor centers = at::linspace(0.0, 1.0, options.num_bins(), at::kFloat);
  at::Tensor sigma = (centers.slice(0, 1) - centers.slice(0, 0, -1)).mean() * options.sigma_ratio();
  if (options.num_bins() == 1)
    sigma = at::scalar_tensor(0.0, at::kFloat);
  preterm_ = 1 / (2 * sigma.pow(2));
  bin_centers_ = centers.view({1, 1, -1});
}

std::pair<at::Tensor, at::Tensor>
GlobalMutualInformationLossImpl::gaussian_window(const at::Tensor &img) const {
  at::Tensor w = gaussianWeights(img, bin_centers_, preterm_);
  return {w, w.mean(-2, true)};
}

std::pair<at::Tensor, at::Tensor>
GlobalMutualInformationLossImpl::bspline_window(const at::Tensor &img, int order) const {
  auto [size, min] = bsplineScale(img, options.num_bins());
  at::Tensor w = bsplineWeights(img, size, min, options.num_bins(), order);
  return {w, w.mean(-2, true)};
}

void GlobalMutualInformationLossImpl::check(const at::Tensor &pred,
                                            const at::Tensor &target) const {
  const std::string owner = "GlobalMutualInformationLoss";
  std::ostringstream p, t;
  if (pred.defined())
    p << pred.sizes();
  if (target.defined())
    t << target.sizes();
  if (!pred.defined() || pred.dim() < 2)
    throw Error(owner + ".pred", "expected a (B, C, *spatial) tensor, got " + p.str());
  if (!target.defined() || !target.sizes().equals(pred.sizes()))
    throw Error(owner + ".target", "expected the shape of pred " + p.str() + ", got " + t.str());
}

at::Tensor GlobalMutualInformationLossImpl::forward(const at::Tensor &pred,
                                                    const at::Tensor &target) {
  check(pred, target);
  const std::string owner = "GlobalMutualInformationLoss";
  const at::ScalarType type = pred.scalar_type();
  const bool floating = type == at::kFloat || type == at::kDouble;
  const bool targetGrad = at::GradMode::is_enabled() && target.requires_grad();
  const int64_t bins = options.num_bins();
  if (!floating || !pred.device().is_cpu() || !target.device().is_cpu() || targetGrad ||
      pred.numel() == 0 || bins < 2 || bins > kernels::kParzenMaxBins)
    return forward_eager(pred, target);
  // The joint in float64 from the kernels, then MONAI's formula in pred's dtype: the marginals
  // as its row and column sums (each voxel's weights sum to 1).
  at::Tensor pab;
  if (options.kernel_type() == "gaussian") {
    pab = ParzenJointFunction::apply(pred, target.detach().to(type), bin_centers_, preterm_, owner);
  } else {
    // Each image's scale as MONAI forms it, pred's with autograd. A constant image (a zero bin
    // size) or a NaN gives MONAI's NaNs through its own formulation.
    if (target.scalar_type() != type)
      return forward_eager(pred, target);
    auto [size, min] = bsplineScale(pred, bins);
    auto [tSize, tMin] = bsplineScale(target.detach(), bins);
    at::Tensor scales = at::stack({size.detach(), min.detach(), tSize, tMin}).to(at::kDouble);
    if (!at::isfinite(scales).all().item<bool>() || size.item<double>() <= 0 ||
        tSize.item<double>() <= 0)
      return forward_eager(pred, target);
    pab = BsplineJointFunction::apply(pred, target.detach(), size, min, tSize, tMin, bins, owner);
  }
  pab = pab.to(type);
  // MONAI's target marginal is the mean of its float32 box weights: k / N rounded to float32
  // (the sum of halves and ones is exact); the joint's column sums give k / N, so rounding them
  // to float32 gives MONAI's. It does not depend on pred.
  at::Tensor pb = pab.sum(1, true);
  if (options.kernel_type() != "gaussian")
    pb = pb.detach().to(at::kFloat).to(type);
  at::Tensor papb = pab.sum(2, true) * pb;
  return reduce(miOf(pab, papb, options.smooth_nr(), options.smooth_dr()), options.reduction())
      .neg();
}

at::Tensor GlobalMutualInformationLossImpl::forward_eager(const at::Tensor &pred,
                                                          const at::Tensor &target) {
  check(pred, target);
  std::pair<at::Tensor, at::Tensor> a, b;
  if (options.kernel_type() == "gaussian") {
    a = gaussian_window(pred);
    b = gaussian_window(target);
  } else {
    a = bspline_window(pred, 3);
    b = bspline_window(target, 0);
  }
  at::Tensor wa = a.first, pa = a.second;
  at::Tensor wb = b.first.to(wa.scalar_type()), pb = b.second.to(pa.scalar_type());
  at::Tensor pab = at::bmm(wa.permute({0, 2, 1}), wb).div(double(wa.size(1)));
  at::Tensor papb = at::bmm(pa.permute({0, 2, 1}), pb);
  return reduce(miOf(pab, papb, options.smooth_nr(), options.smooth_dr()), options.reduction())
      .neg();
}

} // namespace med::losses
