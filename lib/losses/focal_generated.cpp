// FocalLoss on the generated kernels: forward sums and backward gradient as `med` ops, or the
// loss map and its gradient for reduction "none" (see focal_generated.h), each pair wrapped as
// a torch::autograd::Function.
#include "focal_generated.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <string>

#include "med/core/error.h"
#include "med/kernels/losses.h"
#include "med/losses/reduction.h"

namespace med::losses::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

const std::string kOwner = "FocalLoss";

/// What the kernels need besides the tensors: the form, the focal parameters, the first class
/// kept (softmax form), and per kept class the factor of its sums in the loss (class weight,
/// alpha's class factor, and 1 / the count the reduction divides by).
struct FocalPlan {
  bool softmax = false;
  double gamma = 2.0;
  std::optional<double> alpha; // the sigmoid form's, applied per voxel in the kernels
  int64_t first = 0;
  std::vector<double> scale;
};

/// Throws the one-hot encoder's error for labels that name no class: `counted` holds per item
/// the voxels whose label names a class, which falls short of `voxels` exactly when some label
/// is out of range, not a number, or the like.
void checkLabels(const at::Tensor &counted, const at::Tensor &labels, int64_t classes,
                 int64_t voxels) {
  if (at::equal(counted, at::full_like(counted, double(voxels))))
    return;
  one_hot(labels, classes, kOwner); // names the offending range
  throw Error(kOwner + ".target",
              "labels must lie in [0, " + std::to_string(classes) + ") for one-hot encoding");
}

/// checkLabels for a label map the kernels do not count (the map of reduction "none"): every
/// label must lie in (-1, classes), which NaN does not.
void checkLabelRange(const at::Tensor &labels, int64_t classes) {
  const bool named = at::logical_and(labels > -1.0, labels < double(classes)).all().item<bool>();
  checkLabels(at::full({1}, named ? 1.0 : 0.0, at::kDouble), labels, classes, 1);
}

/// The saved alpha of the sigmoid form, if any.
std::optional<double> savedAlpha(AutogradContext *ctx) {
  if (!ctx->saved_data["has_alpha"].toBool())
    return std::nullopt;
  return ctx->saved_data["alpha"].toDouble();
}

/// The focal terms the kernels compute, per element of the kept classes, as an ATen graph of
/// `x` (the saved input, part of the caller's graph). Used when backward runs with
/// create_graph, so that the gradient has a graph of its own for second derivatives; the
/// kernels' gradient has none.
at::Tensor eagerTerms(AutogradContext *ctx, const at::Tensor &x) {
  at::Tensor y = ctx->saved_data["y"].toTensor().to(x.scalar_type());
  at::Tensor scale = ctx->saved_data["scale"].toTensor();
  const double gamma = ctx->saved_data["gamma"].toDouble();
  const int64_t kept = scale.size(0);
  at::Tensor term;
  if (ctx->saved_data["softmax"].toBool()) {
    const int64_t first = ctx->saved_data["first"].toInt();
    // Over the kept classes only: MONAI drops the background before its softmax.
    at::Tensor logp = at::log_softmax(x.slice(1, first, first + kept), 1);
    at::Tensor t = y.size(1) == 1 ? one_hot(y, x.size(1), kOwner).to(x.scalar_type()) : y;
    term = -at::pow(1.0 - logp.exp(), gamma) * logp * t.slice(1, first, first + kept);
  } else {
    at::Tensor bce = x - x * y - at::log_sigmoid(x);
    term = (at::log_sigmoid(-x * (y * 2 - 1)) * gamma).exp() * bce;
    if (std::optional<double> alpha = savedAlpha(ctx))
      term = (y * *alpha + (1 - y) * (1 - *alpha)) * term;
  }
  return term;
}

/// The loss the kernels compute from eagerTerms: summed per item and kept class, times the
/// class factors.
at::Tensor eagerLoss(AutogradContext *ctx, const at::Tensor &x) {
  at::Tensor term = eagerTerms(ctx, x);
  at::Tensor scale = ctx->saved_data["scale"].toTensor();
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < term.dim(); ++d)
    spatial.push_back(d);
  return (term.sum(spatial).to(at::kDouble) * scale).sum().to(at::kFloat);
}

/// The map of reduction "none" from eagerTerms: each kept class's terms times its factor.
at::Tensor eagerMap(AutogradContext *ctx, const at::Tensor &x) {
  at::Tensor term = eagerTerms(ctx, x);
  std::vector<int64_t> shape(term.dim(), 1);
  shape[1] = term.size(1);
  at::Tensor scale = ctx->saved_data["scale"].toTensor().to(at::kFloat).view(shape);
  return term * scale;
}

/// What both Functions' backward needs: the contiguous operands the kernels read, the class
/// factors, the plan, and `x` itself (part of the caller's graph) for a backward with
/// create_graph.
void savePlan(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &xc, const at::Tensor &yc,
              const at::Tensor &scale, const FocalPlan &plan) {
  ctx->saved_data["x"] = xc;
  ctx->saved_data["y"] = yc;
  ctx->saved_data["scale"] = scale;
  ctx->saved_data["softmax"] = plan.softmax;
  ctx->saved_data["gamma"] = plan.gamma;
  ctx->saved_data["has_alpha"] = plan.alpha.has_value();
  ctx->saved_data["alpha"] = plan.alpha.value_or(0.0);
  ctx->saved_data["first"] = plan.first;
  ctx->save_for_backward({x});
}

struct FocalSumsFunction : public torch::autograd::Function<FocalSumsFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &y,
                            const FocalPlan *plan) {
    at::Tensor xc = x.contiguous(), yc = y.contiguous();
    const int64_t B = xc.size(0), kept = int64_t(plan->scale.size());
    at::Tensor sums; // (B, kept)
    if (plan->softmax) {
      sums = kernels::softmax_focal_sums(xc, yc, plan->first, plan->gamma, at::get_num_threads(),
                                         kOwner);
      const bool labels = yc.size(1) == 1;
      if (labels)
        checkLabels(sums.select(1, kept), yc, xc.size(1), xc.numel() / (B * xc.size(1)));
      sums = sums.slice(1, 0, kept);
    } else {
      sums = kernels::focal_sums(xc, yc, B * kept, plan->gamma, plan->alpha, at::get_num_threads(),
                                 kOwner)
                 .view({B, kept});
    }
    at::Tensor scale = at::tensor(plan->scale, at::kDouble);
    savePlan(ctx, x, xc, yc, scale, *plan);
    // The loss in float32, as MONAI computes it (the sums themselves are float64).
    return (sums * scale).sum().to(at::kFloat);
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor x = ctx->get_saved_variables()[0];
      return {torch::autograd::grad({eagerLoss(ctx, x)}, {x}, {go[0]}, /*retain_graph=*/true,
                                    /*create_graph=*/true)[0],
              at::Tensor(), at::Tensor()};
    }
    at::Tensor x = ctx->saved_data["x"].toTensor(), y = ctx->saved_data["y"].toTensor();
    at::Tensor scale = ctx->saved_data["scale"].toTensor();
    const double gamma = ctx->saved_data["gamma"].toDouble();
    // d loss / d sums: the same factor for every item of a class, times the incoming gradient.
    at::Tensor coeff = (go[0].to(at::kDouble).cpu() * scale).expand({x.size(0), scale.size(0)});
    at::Tensor g;
    if (ctx->saved_data["softmax"].toBool()) {
      g = kernels::softmax_focal_grad(x, y, coeff.contiguous(), ctx->saved_data["first"].toInt(),
                                      gamma, at::get_num_threads(), kOwner);
    } else {
      std::optional<double> alpha = savedAlpha(ctx);
      g = kernels::focal_grad(x, y, coeff.flatten().contiguous(), gamma, alpha,
                              at::get_num_threads(), kOwner);
    }
    return {g, at::Tensor(), at::Tensor()};
  }
};

/// Reduction "none": the loss map from med.focal_terms (med.softmax_focal_terms), its backward
/// from the map's incoming gradient through med.focal_terms_grad (med.softmax_focal_terms_grad).
struct FocalMapFunction : public torch::autograd::Function<FocalMapFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &y,
                            const FocalPlan *plan) {
    at::Tensor xc = x.contiguous(), yc = y.contiguous();
    const int64_t B = xc.size(0);
    at::Tensor scale = at::tensor(plan->scale, at::kDouble);
    at::Tensor map;
    if (plan->softmax) {
      if (yc.size(1) == 1)
        checkLabelRange(yc, xc.size(1));
      map = kernels::softmax_focal_terms(xc, yc, plan->scale, plan->first, plan->gamma,
                                         at::get_num_threads(), kOwner);
    } else {
      map = kernels::focal_terms(xc, yc, scale.repeat({B}), plan->gamma, plan->alpha,
                                 at::get_num_threads(), kOwner);
    }
    savePlan(ctx, x, xc, yc, scale, *plan);
    return map;
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor x = ctx->get_saved_variables()[0];
      return {torch::autograd::grad({eagerMap(ctx, x)}, {x}, {go[0]}, /*retain_graph=*/true,
                                    /*create_graph=*/true)[0],
              at::Tensor(), at::Tensor()};
    }
    at::Tensor x = ctx->saved_data["x"].toTensor(), y = ctx->saved_data["y"].toTensor();
    at::Tensor scale = ctx->saved_data["scale"].toTensor();
    const double gamma = ctx->saved_data["gamma"].toDouble();
    at::Tensor up = go[0].to(x.scalar_type()).contiguous();
    at::Tensor g;
    if (ctx->saved_data["softmax"].toBool()) {
      std::vector<double> factors(scale.data_ptr<double>(),
                                  scale.data_ptr<double>() + scale.numel());
      g = kernels::softmax_focal_terms_grad(x, y, up, factors, ctx->saved_data["first"].toInt(),
                                            gamma, at::get_num_threads(), kOwner);
    } else {
      std::optional<double> alpha = savedAlpha(ctx);
      g = kernels::focal_terms_grad(x, y, up, scale.repeat({x.size(0)}), gamma, alpha,
                                    at::get_num_threads(), kOwner);
    }
    return {g, at::Tensor(), at::Tensor()};
  }
};

/// A label map for the softmax kernels in float32: float labels are truncated first (MONAI's
/// one_hot reads them as .long()), so casting cannot move one across a class boundary.
at::Tensor labelsAsFloat(const at::Tensor &labels) {
  at::Tensor l = labels.detach();
  if (at::isFloatingType(l.scalar_type()) && l.scalar_type() != at::kFloat)
    l = at::trunc(l);
  return l.to(at::kFloat).contiguous();
}

/// The softmax form's factor per kept class: [1 - alpha, alpha, alpha, ...] as MONAI builds it
/// (float32), times the class weights (float32, as MONAI casts them to the loss).
std::vector<double> classFactors(int64_t kept, const std::vector<double> &weights,
                                 std::optional<double> softmaxAlpha) {
  std::vector<double> f(kept, 1.0);
  for (int64_t c = 0; c < kept; ++c) {
    if (softmaxAlpha)
      f[c] = double(float(c == 0 ? 1.0 - *softmaxAlpha : *softmaxAlpha));
    if (!weights.empty())
      f[c] *= double(float(weights[c]));
  }
  return f;
}

} // namespace

std::vector<double> focal_class_weights(const std::vector<double> &weight, int64_t classes) {
  if (weight.empty() || classes == 1)
    return {};
  std::vector<double> cw = weight.size() == 1 ? std::vector<double>(classes, weight[0]) : weight;
  if (int64_t(cw.size()) != classes)
    throw Error("FocalLoss.weight", "expected " + std::to_string(classes) +
                                        " class weights (one per class), got " +
                                        std::to_string(weight.size()));
  return cw;
}

at::Tensor focal_loss_generated(const FocalLossOptions &o, std::optional<double> alpha,
                                const at::Tensor &input, const at::Tensor &target) {
  if (!input.defined() || !target.defined() || input.dim() < 3 || target.dim() != input.dim() ||
      !input.device().is_cpu() || !target.device().is_cpu() ||
      !at::isFloatingType(input.scalar_type()) || at::isComplexType(target.scalar_type()) ||
      target.requires_grad() || input.numel() == 0)
    return {};
  const int64_t B = input.size(0), C = input.size(1), N = input.numel() / (B * C);
  FocalPlan plan;
  plan.gamma = o.gamma();
  at::Tensor x, y;
  int64_t kept = 0;
  if (o.use_softmax()) {
    // The kernels read the logits and the untouched target: (B, 1) labels with to_onehot_y,
    // else (B, C) per-class targets. Other shapes take the ATen path, which names the error.
    const bool shaped = C >= 2 && target.size(0) == B &&
                        target.size(1) == (o.to_onehot_y() ? 1 : C) &&
                        target.sizes().slice(2).equals(input.sizes().slice(2));
    if (!shaped)
      return {};
    plan.softmax = true;
    plan.first = o.include_background() ? 0 : 1;
    kept = C - plan.first;
    x = input.to(at::kFloat);
    y = o.to_onehot_y() ? labelsAsFloat(target) : target.detach().to(at::kFloat);
    plan.scale = classFactors(kept, focal_class_weights(o.weight(), kept), alpha);
  } else {
    SegInputs p = prepare_seg(
        kOwner, {o.include_background(), o.to_onehot_y(), false, false, nullptr}, input, target);
    x = p.input.to(at::kFloat);
    y = p.target.detach().to(at::kFloat);
    kept = x.size(1);
    plan.alpha = alpha;
    plan.scale = classFactors(kept, focal_class_weights(o.weight(), kept), std::nullopt);
  }
  if (o.reduction() == "none") // the map itself, each class's terms times its factor
    return FocalMapFunction::apply(x, y, &plan);
  // "mean": over every element; "sum": MONAI's sum over items and classes of spatial means.
  const double count = double(N) * (o.reduction() == "mean" ? double(B * kept) : 1.0);
  for (double &s : plan.scale)
    s /= count;
  return FocalSumsFunction::apply(x, y, &plan);
}

} // namespace med::losses::detail
