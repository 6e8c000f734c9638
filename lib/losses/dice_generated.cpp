// Overlap losses on the generated kernels: forward sums and backward gradient as `med` ops (see
// dice_generated.h), wrapped as a torch::autograd::Function.
#include "dice_generated.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

#include "med/kernels/losses.h"

namespace med::losses::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct OverlapSumsFunction : public torch::autograd::Function<OverlapSumsFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &y,
                            bool sigmoid, bool squared, const SumsFormula *formula,
                            const std::string *owner) {
    at::Tensor xc = x.contiguous(), yc = y.to(x.scalar_type()).contiguous();
    const int64_t B = x.size(0), C = x.size(1);
    at::Tensor sums =
        kernels::dice_sums(xc, yc, B * C, sigmoid, squared, at::get_num_threads(), *owner);
    at::Tensor s = sums.to(x.scalar_type()).view({B, C, 3});
    at::AutoGradMode grad(true);
    at::Tensor inter = s.select(2, 0).clone().requires_grad_(true);
    at::Tensor pred = s.select(2, 1).clone().requires_grad_(true);
    at::Tensor f = (*formula)(inter, pred, s.select(2, 2));
    ctx->saved_data["f"] = f;
    ctx->saved_data["inter"] = inter;
    ctx->saved_data["pred"] = pred;
    ctx->saved_data["x"] = xc;
    ctx->saved_data["y"] = yc;
    ctx->saved_data["sigmoid"] = sigmoid;
    ctx->saved_data["squared"] = squared;
    ctx->saved_data["owner"] = *owner;
    return f.detach();
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    at::Tensor f = ctx->saved_data["f"].toTensor();
    at::Tensor inter = ctx->saved_data["inter"].toTensor();
    at::Tensor pred = ctx->saved_data["pred"].toTensor();
    variable_list d;
    {
      at::AutoGradMode grad(true);
      // retain_graph: a caller may run backward through this loss more than once.
      d = torch::autograd::grad({f}, {inter, pred}, {go[0]}, /*retain_graph=*/true,
                                /*create_graph=*/false, /*allow_unused=*/true);
    }
    for (int k = 0; k < 2; ++k) // a formula may ignore one of the sums
      if (!d[k].defined())
        d[k] = at::zeros_like(inter);
    at::Tensor coeff = at::stack({d[0].flatten(), d[1].flatten()}, 1).to(at::kDouble);
    at::Tensor g =
        kernels::dice_grad(ctx->saved_data["x"].toTensor(), ctx->saved_data["y"].toTensor(), coeff,
                           ctx->saved_data["sigmoid"].toBool(), ctx->saved_data["squared"].toBool(),
                           at::get_num_threads(), ctx->saved_data["owner"].toStringRef());
    return {g, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

} // namespace

bool generated_overlap_applies(const at::Tensor &x, const at::Tensor &y) {
  const auto t = x.scalar_type();
  return x.device().is_cpu() && y.device().is_cpu() && (t == at::kFloat || t == at::kDouble) &&
         at::promote_types(t, y.scalar_type()) == t && !y.requires_grad() && x.dim() >= 2 &&
         x.sizes().equals(y.sizes());
}

OverlapInputs prepare_overlap(const std::string &owner, SegPrep prep, const at::Tensor &input,
                              const at::Tensor &target) {
  const bool sigmoid = prep.sigmoid;
  prep.sigmoid = false;
  SegInputs p = prepare_seg(owner, prep, input, target);
  OverlapInputs out{p.input, p.target, generated_overlap_applies(p.input, p.target), false};
  if (sigmoid && out.generated)
    out.sigmoid = true;
  else if (sigmoid)
    out.x = at::sigmoid(out.x);
  return out;
}

at::Tensor overlap_sums_loss(const at::Tensor &x, const at::Tensor &y, bool sigmoid, bool squared,
                             const SumsFormula &formula, const std::string &owner) {
  return OverlapSumsFunction::apply(x, y, sigmoid, squared, &formula, &owner);
}

OverlapSums overlap_sums_eager(const at::Tensor &x, const at::Tensor &y, bool squared) {
  std::vector<int64_t> axes;
  for (int64_t d = 2; d < x.dim(); ++d)
    axes.push_back(d);
  return {(y * x).sum(axes), squared ? (x * x).sum(axes) : x.sum(axes),
          squared ? (y * y).sum(axes) : y.sum(axes)};
}

at::Tensor overlap_loss(const std::string &owner, const SegPrep &prep, const at::Tensor &input,
                        const at::Tensor &target, bool squared, const SumsFormula &formula) {
  OverlapInputs p = prepare_overlap(owner, prep, input, target);
  if (p.generated)
    return overlap_sums_loss(p.x, p.y, p.sigmoid, squared, formula, owner);
  OverlapSums s = overlap_sums_eager(p.x, p.y, squared);
  return formula(s.inter, s.pred, s.ground);
}

} // namespace med::losses::detail
