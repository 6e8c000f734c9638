// DiceLoss on the generated kernels: forward sums and backward gradient as `med` ops (see
// dice_generated.h), wrapped as a torch::autograd::Function.
#include "dice_generated.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "med/kernels/losses.h"
#include "med/losses/dice.h"

namespace med::losses::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Forward: the (B, C) sums from med.dice_sums become leaves of a small graph through the
/// loss's formula; backward differentiates that graph with respect to the sums and hands the
/// per-(sample, class) derivatives to med.dice_grad.
struct GeneratedDiceFunction : public torch::autograd::Function<GeneratedDiceFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &y,
                            const DiceLossImpl *loss, bool sigmoid) {
    const bool squared = loss->options.squared_pred();
    at::Tensor xc = x.contiguous(), yc = y.to(x.scalar_type()).contiguous();
    const int64_t B = x.size(0), C = x.size(1);
    at::Tensor sums =
        kernels::dice_sums(xc, yc, B * C, sigmoid, squared, at::get_num_threads(), "DiceLoss");
    at::Tensor s = sums.to(x.scalar_type()).view({B, C, 3});
    at::AutoGradMode grad(true);
    at::Tensor inter = s.select(2, 0).clone().requires_grad_(true);
    at::Tensor pred = s.select(2, 1).clone().requires_grad_(true);
    at::Tensor ground = s.select(2, 2);
    const bool batch = loss->options.batch();
    at::Tensor f = loss->terms_from_sums(
        batch ? inter.sum(0) : inter, batch ? ground.sum(0) : ground, batch ? pred.sum(0) : pred);
    ctx->saved_data["f"] = f;
    ctx->saved_data["inter"] = inter;
    ctx->saved_data["pred"] = pred;
    ctx->saved_data["x"] = xc;
    ctx->saved_data["y"] = yc;
    ctx->saved_data["sigmoid"] = sigmoid;
    ctx->saved_data["squared"] = squared;
    return f.detach();
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    at::Tensor f = ctx->saved_data["f"].toTensor();
    at::Tensor inter = ctx->saved_data["inter"].toTensor();
    at::Tensor pred = ctx->saved_data["pred"].toTensor();
    at::Tensor x = ctx->saved_data["x"].toTensor(), y = ctx->saved_data["y"].toTensor();
    variable_list d;
    {
      at::AutoGradMode grad(true);
      // retain_graph: a caller may run backward through this loss more than once.
      d = torch::autograd::grad({f}, {inter, pred}, {go[0]}, /*retain_graph=*/true);
    }
    at::Tensor coeff = at::stack({d[0].flatten(), d[1].flatten()}, 1).to(at::kDouble);
    at::Tensor g =
        kernels::dice_grad(x, y, coeff, ctx->saved_data["sigmoid"].toBool(),
                           ctx->saved_data["squared"].toBool(), at::get_num_threads(), "DiceLoss");
    return {g, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

} // namespace

bool generated_dice_applies(const at::Tensor &x, const at::Tensor &y) {
  const auto t = x.scalar_type();
  return x.device().is_cpu() && y.device().is_cpu() && (t == at::kFloat || t == at::kDouble) &&
         at::promote_types(t, y.scalar_type()) == t && !y.requires_grad() && x.dim() >= 2 &&
         x.sizes().equals(y.sizes());
}

at::Tensor generated_dice_terms(const DiceLossImpl &loss, const at::Tensor &x, const at::Tensor &y,
                                bool sigmoid) {
  return GeneratedDiceFunction::apply(x, y, &loss, sigmoid);
}

} // namespace med::losses::detail
