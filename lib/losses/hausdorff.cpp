// HausdorffDTLoss and LogHausdorffDTLoss (MONAI 1.4.0 semantics).
#include "med/losses/hausdorff.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "med/core/error.h"
#include "med/kernels/losses.h"
#include "med/metrics/distance_transform.h"

namespace med::losses {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The per-(item, class) sums of (x - y)^2 (f_x^alpha + f_y^alpha) over the spatial axes, as an
/// ATen graph of `x`: what the kernels compute, for a backward with create_graph.
at::Tensor eagerSums(const at::Tensor &x, const at::Tensor &y, const at::Tensor &fx,
                     const at::Tensor &fy, double alpha) {
  at::Tensor err = (x - y).pow(2) * (fx.pow(alpha) + fy.pow(alpha));
  return err.flatten(2).sum(2);
}

/// The sums through med.hausdorff_dt_sums, the backward through med.hausdorff_dt_grad: inputs
/// (B, C, *spatial) of one dtype (float32/float64, the fields converted to it), a (B, C) result
/// of that dtype.
struct HausdorffSumsFunction : public torch::autograd::Function<HausdorffSumsFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &y,
                            const at::Tensor &fx, const at::Tensor &fy, double alpha,
                            const std::string &owner) {
    at::Tensor xc = x.contiguous(), yc = y.contiguous(), fxc = fx.contiguous(),
               fyc = fy.contiguous();
    const int64_t B = xc.size(0), C = xc.size(1);
    at::Tensor sums =
        kernels::hausdorff_dt_sums(xc, yc, fxc, fyc, B * C, alpha, at::get_num_threads(), owner);
    ctx->saved_data["x"] = xc;
    ctx->saved_data["y"] = yc;
    ctx->saved_data["fx"] = fxc;
    ctx->saved_data["fy"] = fyc;
    ctx->saved_data["alpha"] = alpha;
    ctx->saved_data["owner"] = owner;
    ctx->save_for_backward({x});
    return sums.view({B, C}).to(x.scalar_type());
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    at::Tensor y = ctx->saved_data["y"].toTensor(), fx = ctx->saved_data["fx"].toTensor(),
               fy = ctx->saved_data["fy"].toTensor();
    const double alpha = ctx->saved_data["alpha"].toDouble();
    variable_list none = {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor x = ctx->get_saved_variables()[0];
      none.insert(none.begin(),
                  torch::autograd::grad({eagerSums(x, y, fx, fy, alpha)}, {x}, {go[0]},
                                        /*retain_graph=*/true, /*create_graph=*/true)[0]);
      return none;
    }
    at::Tensor x = ctx->saved_data["x"].toTensor();
    at::Tensor coeff = go[0].to(at::kDouble).cpu().contiguous().view(-1);
    none.insert(none.begin(),
                kernels::hausdorff_dt_grad(x, y, fx, fy, coeff, alpha, at::get_num_threads(),
                                           ctx->saved_data["owner"].toStringRef()));
    return none;
  }
};

} // namespace

at::Tensor hausdorff_distance_field(const at::Tensor &img) {
  at::NoGradGuard no_grad;
  if (!img.defined() || img.dim() < 3)
    throw Error("HausdorffDTLoss.distance_field",
                "expected a (B, C, *spatial) tensor with at least one spatial axis");
  at::Tensor fg = (img.detach() > 0.5).cpu();
  at::Tensor field = at::zeros(fg.sizes(), at::kDouble);
  for (int64_t b = 0; b < fg.size(0); ++b)
    for (int64_t c = 0; c < fg.size(1); ++c) {
      at::Tensor m = fg[b][c];
      // Empty and all-foreground masks have no boundary: MONAI leaves their field at zero.
      if (!m.any().item<bool>() || m.all().item<bool>())
        continue;
      // Inside: distance to the background; outside: distance to the foreground.
      field[b][c].copy_(metrics::distance_transform_edt(m) +
                        metrics::distance_transform_edt(m.logical_not()));
    }
  return field.to(img.device(), at::kFloat);
}

HausdorffDTLossImpl::HausdorffDTLossImpl(HausdorffDTLossOptions o)
    : HausdorffDTLossImpl(std::move(o), "HausdorffDTLoss") {}

HausdorffDTLossImpl::HausdorffDTLossImpl(HausdorffDTLossOptions o, std::string name)
    : options(std::move(o)), name_(std::move(name)) {
  check_reduction(name_, options.reduction());
  // MONAI only forbids sigmoid together with softmax here; other_act may follow either.
  if (options.sigmoid() && options.softmax())
    throw Error(name_, "incompatible values: sigmoid=true and softmax=true");
}

at::Tensor HausdorffDTLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  if (!input.defined() || (input.dim() != 4 && input.dim() != 5))
    throw Error(name_ + ".input",
                "only 2-D (B, C, H, W) and 3-D (B, C, H, W, D) inputs are supported, got " +
                    (input.defined() ? std::to_string(input.dim()) + " dimensions"
                                     : std::string("an undefined tensor")));
  SegInputs p = prepare_seg(name_,
                            {options.include_background(), options.to_onehot_y(), options.sigmoid(),
                             options.softmax(), options.other_act()},
                            input, target);
  const at::Tensor &x = p.input, &y = p.target;
  at::Tensor fx = hausdorff_distance_field(x), fy = hausdorff_distance_field(y);
  const at::ScalarType type = x.scalar_type();
  if ((type == at::kFloat || type == at::kDouble) && x.device().is_cpu() && y.device().is_cpu() &&
      !y.requires_grad() && x.numel() > 0 && at::isFloatingType(y.scalar_type())) {
    // The generated kernels: per (item, class) sums, then MONAI's mean on the host.
    const int64_t B = x.size(0), C = x.size(1), N = x.numel() / (B * C);
    at::Tensor sums = HausdorffSumsFunction::apply(x, y.to(type), fx.to(type), fy.to(type),
                                                   options.alpha(), name_);
    at::Tensor f =
        options.batch() ? sums.sum(0, /*keepdim=*/true) / double(B * N) : sums / double(N);
    std::vector<int64_t> shape = {f.size(0), C};
    shape.resize(x.dim(), 1);
    return reduce(f.view(shape), options.reduction()); // (B or 1, C, 1, ...)
  }
  // MONAI raises the float32 fields to alpha in float32, then promotes to the input's dtype.
  at::Tensor weight = fx.pow(options.alpha()) + fy.pow(options.alpha());
  at::Tensor err = (x - y).pow(2) * weight.to(x.device());
  std::vector<int64_t> axes;
  if (options.batch())
    axes.push_back(0);
  for (int64_t d = 2; d < x.dim(); ++d)
    axes.push_back(d);
  at::Tensor f = err.mean(axes, /*keepdim=*/true); // (B or 1, C, 1, ...)
  return reduce(f, options.reduction());
}

LogHausdorffDTLossImpl::LogHausdorffDTLossImpl(HausdorffDTLossOptions o)
    : HausdorffDTLossImpl(std::move(o), "LogHausdorffDTLoss") {}

at::Tensor LogHausdorffDTLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  return at::log(HausdorffDTLossImpl::forward(input, target) + 1);
}

} // namespace med::losses
