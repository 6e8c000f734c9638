// GeneralizedWassersteinDiceLoss on the generated kernels (see wasserstein_generated.h).
#include "wasserstein_generated.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <string>
#include <vector>

#include "med/core/error.h"
#include "med/kernels/wasserstein.h"

namespace med::losses::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

const std::string kOwner = "GeneralizedWassersteinDiceLoss";

/// The loss of one item from its sums, and its derivative with respect to each class's summed
/// distance s_k. With the class weights a_k (default: 0 for the background, 1 otherwise; GDL:
/// 1 / (n_k + 1)), tp = sum_k a_k (n_k - s_k), and the denominator sum_k a_k (2 n_k - s_k)
/// (GDL) or 2 tp + sum_k s_k (default): loss = 1 - (2 tp + smooth_nr) / (denominator +
/// smooth_dr).
double itemLoss(const WassersteinPlan &plan, const double *n, const double *s, int64_t C,
                double *dLoss) {
  std::vector<double> a(C);
  double tp = 0, spread = 0, weighted = 0;
  for (int64_t k = 0; k < C; ++k) {
    // As MONAI forms the weights, in float32.
    a[k] = plan.gdl ? double(1.0f / (float(n[k]) + 1.0f)) : (k == 0 ? 0.0 : 1.0);
    tp += a[k] * (n[k] - s[k]);
    spread += s[k];
    weighted += a[k] * (2 * n[k] - s[k]);
  }
  const double num = 2 * tp + plan.smoothNr;
  const double den = (plan.gdl ? weighted : 2 * tp + spread) + plan.smoothDr;
  for (int64_t k = 0; k < C; ++k) {
    const double dNum = -2 * a[k], dDen = plan.gdl ? -a[k] : 1 - 2 * a[k];
    dLoss[k] = -(dNum * den - num * dDen) / (den * den);
  }
  return 1 - num / den;
}

struct WassersteinFunction : public torch::autograd::Function<WassersteinFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &labels,
                            const WassersteinPlan *plan) {
    at::Tensor xc = x.contiguous();
    const int64_t B = xc.size(0), C = xc.size(1), N = xc.numel() / (B * C);
    at::Tensor sums = kernels::wasserstein_sums(xc, labels, plan->matrix, at::get_num_threads(),
                                                kOwner); // (B, 2, C)
    at::Tensor loss = at::empty({B}, at::kDouble), dLoss = at::empty({B, C}, at::kDouble);
    double *out = loss.data_ptr<double>();
    for (int64_t b = 0; b < B; ++b) {
      const double *n = sums.data_ptr<double>() + b * 2 * C;
      double labelled = 0;
      for (int64_t k = 0; k < C; ++k)
        labelled += n[k];
      if (labelled != double(N))
        throw Error(kOwner + ".target", "labels must lie in [0, " + std::to_string(C) + ")");
      out[b] = itemLoss(*plan, n, n + C, C, dLoss.data_ptr<double>() + b * C);
    }
    ctx->saved_data["x"] = xc;
    ctx->saved_data["labels"] = labels;
    ctx->saved_data["matrix"] = plan->matrix;
    ctx->saved_data["d_loss"] = dLoss;
    ctx->saved_data["gdl"] = plan->gdl;
    ctx->saved_data["smooth_nr"] = plan->smoothNr;
    ctx->saved_data["smooth_dr"] = plan->smoothDr;
    ctx->save_for_backward({x});
    return loss.to(x.scalar_type());
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor x = ctx->get_saved_variables()[0];
      WassersteinPlan plan{ctx->saved_data["matrix"].toTensor(), ctx->saved_data["gdl"].toBool(),
                           ctx->saved_data["smooth_nr"].toDouble(),
                           ctx->saved_data["smooth_dr"].toDouble()};
      at::Tensor labels = ctx->saved_data["labels"].toTensor().reshape({x.size(0), -1});
      at::Tensor loss = wasserstein_dice_eager(plan, x, labels.to(at::kLong));
      return {torch::autograd::grad({loss}, {x}, {go[0]}, /*retain_graph=*/true,
                                    /*create_graph=*/true)[0],
              at::Tensor(), at::Tensor()};
    }
    at::Tensor x = ctx->saved_data["x"].toTensor();
    at::Tensor m = ctx->saved_data["matrix"].toTensor().to(at::kDouble);
    at::Tensor dLoss = ctx->saved_data["d_loss"].toTensor();
    // G[b][k][c] = incoming gradient of item b * d loss_b / d s_k * M[k][c].
    at::Tensor scaled = dLoss * go[0].to(at::kDouble).cpu().reshape({-1, 1});
    at::Tensor coeff = (scaled.unsqueeze(2) * m.unsqueeze(0)).contiguous();
    return {kernels::wasserstein_grad(x, ctx->saved_data["labels"].toTensor(), coeff,
                                      at::get_num_threads(), kOwner),
            at::Tensor(), at::Tensor()};
  }
};

} // namespace

at::Tensor wasserstein_dice_eager(const WassersteinPlan &plan, const at::Tensor &input,
                                  const at::Tensor &y) {
  const int64_t B = input.size(0), C = input.size(1);
  at::Tensor p = at::softmax(input.reshape({B, C, -1}), 1);
  const int64_t N = p.size(2);
  // Wasserstein distance at each voxel: sum_c M[y_v, c] p_c(v).
  at::Tensor mrows =
      plan.matrix.to(p.options().requires_grad(false)).index_select(0, y.reshape(-1));
  at::Tensor wass = (mrows.view({B, N, C}).permute({0, 2, 1}) * p).sum(1); // (B, N)
  at::Tensor alpha;
  if (plan.gdl) {
    at::Tensor vol = at::zeros({B, C}, at::kFloat).scatter_add_(1, y, at::ones({B, N}, at::kFloat));
    alpha = 1.0 / (vol + 1.0);
  } else {
    alpha = at::ones({B, C}, at::kFloat);
    alpha.select(1, 0).fill_(0.0);
  }
  at::Tensor av = alpha.gather(1, y).to(p.scalar_type()); // alpha of each voxel's true class
  at::Tensor tp = (av * (1.0 - wass)).sum(1);
  at::Tensor denom = plan.gdl ? (av * (2.0 - wass)).sum(1) : 2 * tp + wass.sum(1);
  return 1.0 - (2.0 * tp + plan.smoothNr) / (denom + plan.smoothDr);
}

at::Tensor wasserstein_dice_generated(const WassersteinPlan &plan, const at::Tensor &input,
                                      const at::Tensor &target) {
  const at::ScalarType type = input.scalar_type();
  if ((type != at::kFloat && type != at::kDouble) || !input.device().is_cpu() ||
      !target.device().is_cpu() || input.numel() == 0 || target.requires_grad() ||
      at::isComplexType(target.scalar_type()) || target.numel() != input.numel() / input.size(1))
    return {};
  const int64_t B = input.size(0);
  std::vector<int64_t> labelShape = {B, 1};
  for (int64_t d = 2; d < input.dim(); ++d)
    labelShape.push_back(input.size(d));
  // Float labels are truncated first (MONAI reads them as .long()), so the cast to the logits'
  // dtype cannot move one across a class boundary.
  at::Tensor labels = target.detach();
  if (at::isFloatingType(labels.scalar_type()) && labels.scalar_type() != type)
    labels = at::trunc(labels);
  labels = labels.to(type).reshape(labelShape).contiguous();
  return WassersteinFunction::apply(input, labels, &plan);
}

} // namespace med::losses::detail
