// Overlap losses on the generated kernels: forward sums and backward gradient as `med` ops (see
// dice_generated.h), wrapped as a torch::autograd::Function.
#include "dice_generated.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <vector>

#include "med/core/error.h"
#include "med/kernels/losses.h"

namespace med::losses::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Throws the one-hot encoder's error for labels that name no class: with a label map, an item's
/// ground sums count the voxels whose label names a class, so they fall short of the item's
/// voxel count exactly when some label is out of range, not a number, or the like.
void checkLabels(const at::Tensor &sums, const at::Tensor &labels, const std::string &owner) {
  const int64_t voxels = labels.numel() / std::max<int64_t>(labels.size(0), 1);
  at::Tensor counted = sums.select(1, 2).sum(1);
  if (at::equal(counted, at::full_like(counted, double(voxels))))
    return;
  one_hot(labels, sums.size(2), owner); // names the offending range
  throw Error(owner + ".target",
              "labels must lie in [0, " + std::to_string(sums.size(2)) + ") for one-hot encoding");
}

/// The formula, kept for a backward that must itself be differentiable (see eagerLoss).
struct FormulaHolder : torch::CustomClassHolder {
  explicit FormulaHolder(SumsFormula f) : formula(std::move(f)) {}
  SumsFormula formula;
};

/// The loss as an ATen graph of `x` (the saved input, part of the caller's graph): the same sums
/// the kernels compute (activation, one-hot label map, classes from `first` on) and the formula
/// on them. Used when backward runs with create_graph, so that the gradient has a graph of its
/// own for second derivatives; the kernels' gradient has none.
at::Tensor eagerLoss(const at::Tensor &x, const at::Tensor &y, Activation activation, int64_t first,
                     bool squared, const SumsFormula &formula, const std::string &owner) {
  at::Tensor p = x, t = y;
  if (activation == Activation::softmax) {
    p = at::softmax(x, 1);
    if (y.size(1) == 1 && x.size(1) > 1)
      t = one_hot(y, x.size(1), owner).to(x.scalar_type());
    p = p.slice(1, first);
    t = t.slice(1, first);
  } else if (activation == Activation::sigmoid) {
    p = at::sigmoid(x);
  }
  OverlapSums s = overlap_sums_eager(p, t, squared);
  return formula(s.inter, s.pred, s.ground);
}

struct OverlapSumsFunction : public torch::autograd::Function<OverlapSumsFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &y,
                            int64_t activation, int64_t first, bool squared,
                            const SumsFormula *formula, const std::string *owner) {
    at::Tensor xc = x.contiguous(), yc = y.to(x.scalar_type()).contiguous();
    const int64_t B = x.size(0), C = x.size(1);
    const bool softmax = activation == int64_t(Activation::softmax);
    const bool sigmoid = activation == int64_t(Activation::sigmoid);
    at::Tensor s; // (B, kept classes, 3)
    if (softmax) {
      at::Tensor sums = kernels::softmax_dice_sums(xc, yc, squared, at::get_num_threads(), *owner);
      if (yc.size(1) == 1)
        checkLabels(sums, yc, *owner);
      s = sums.slice(2, first).transpose(1, 2).to(x.scalar_type());
    } else {
      at::Tensor sums =
          kernels::dice_sums(xc, yc, B * C, sigmoid, squared, at::get_num_threads(), *owner);
      s = sums.to(x.scalar_type()).view({B, C, 3});
    }
    at::AutoGradMode grad(true);
    at::Tensor inter = s.select(2, 0).clone().requires_grad_(true);
    at::Tensor pred = s.select(2, 1).clone().requires_grad_(true);
    at::Tensor f = (*formula)(inter, pred, s.select(2, 2));
    ctx->saved_data["f"] = f;
    ctx->saved_data["inter"] = inter;
    ctx->saved_data["pred"] = pred;
    ctx->saved_data["x"] = xc;
    ctx->saved_data["y"] = yc;
    ctx->saved_data["activation"] = activation;
    ctx->saved_data["first"] = first;
    ctx->saved_data["squared"] = squared;
    ctx->saved_data["owner"] = *owner;
    ctx->saved_data["formula"] =
        c10::IValue::make_capsule(c10::make_intrusive<FormulaHolder>(*formula));
    ctx->save_for_backward({x});
    return f.detach();
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    const auto none = at::Tensor();
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor x = ctx->get_saved_variables()[0];
      auto holder =
          c10::static_intrusive_pointer_cast<FormulaHolder>(ctx->saved_data["formula"].toCapsule());
      at::Tensor f = eagerLoss(
          x, ctx->saved_data["y"].toTensor(), Activation(ctx->saved_data["activation"].toInt()),
          ctx->saved_data["first"].toInt(), ctx->saved_data["squared"].toBool(), holder->formula,
          ctx->saved_data["owner"].toStringRef());
      at::Tensor g = torch::autograd::grad({f}, {x}, {go[0]}, /*retain_graph=*/true,
                                           /*create_graph=*/true)[0];
      return {g, none, none, none, none, none, none};
    }
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
    at::Tensor x = ctx->saved_data["x"].toTensor(), y = ctx->saved_data["y"].toTensor();
    const bool squared = ctx->saved_data["squared"].toBool();
    const std::string &owner = ctx->saved_data["owner"].toStringRef();
    const auto activation = Activation(ctx->saved_data["activation"].toInt());
    at::Tensor g;
    if (activation == Activation::softmax) {
      // Dropped classes (the background) have no sums in the formula: zero coefficients.
      at::Tensor coeff = at::zeros({x.size(0), 2, x.size(1)}, at::kDouble);
      coeff.slice(2, ctx->saved_data["first"].toInt()).copy_(at::stack({d[0], d[1]}, 1));
      g = kernels::softmax_dice_grad(x, y, coeff, squared, at::get_num_threads(), owner);
    } else {
      at::Tensor coeff = at::stack({d[0].flatten(), d[1].flatten()}, 1).to(at::kDouble);
      g = kernels::dice_grad(x, y, coeff, activation == Activation::sigmoid, squared,
                             at::get_num_threads(), owner);
    }
    return {g, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

/// True when the softmax kernels can take (input, target) as they come: more than one channel
/// of CPU float logits, and a target without gradient of the same batch and spatial shape, a
/// (B, 1) label map with to_onehot_y, else (B, C) per-class targets, whose dtype the input's
/// contains.
bool softmaxApplies(const SegPrep &prep, const at::Tensor &x, const at::Tensor &y) {
  if (!prep.softmax || prep.other_act || !x.defined() || !y.defined() || x.dim() < 3 ||
      x.size(1) < 2 || y.dim() != x.dim())
    return false;
  const auto t = x.scalar_type();
  return x.device().is_cpu() && y.device().is_cpu() && (t == at::kFloat || t == at::kDouble) &&
         at::promote_types(t, y.scalar_type()) == t && !y.requires_grad() &&
         y.size(0) == x.size(0) && y.size(1) == (prep.to_onehot_y ? 1 : x.size(1)) &&
         y.sizes().slice(2).equals(x.sizes().slice(2));
}

} // namespace

bool generated_overlap_applies(const at::Tensor &x, const at::Tensor &y) {
  const auto t = x.scalar_type();
  return x.device().is_cpu() && y.device().is_cpu() && (t == at::kFloat || t == at::kDouble) &&
         at::promote_types(t, y.scalar_type()) == t && !y.requires_grad() && x.dim() >= 2 &&
         x.sizes().equals(y.sizes());
}

OverlapInputs prepare_overlap(const std::string &owner, SegPrep prep, const at::Tensor &input,
                              const at::Tensor &target) {
  if (softmaxApplies(prep, input, target))
    return {input, target, true, Activation::softmax, prep.include_background ? 0 : 1};
  const bool sigmoid = prep.sigmoid;
  prep.sigmoid = false;
  SegInputs p = prepare_seg(owner, prep, input, target);
  OverlapInputs out{p.input, p.target, generated_overlap_applies(p.input, p.target)};
  if (sigmoid && out.generated)
    out.activation = Activation::sigmoid;
  else if (sigmoid)
    out.x = at::sigmoid(out.x);
  return out;
}

at::Tensor overlap_sums_loss(const OverlapInputs &in, bool squared, const SumsFormula &formula,
                             const std::string &owner) {
  return OverlapSumsFunction::apply(in.x, in.y, int64_t(in.activation), in.first, squared, &formula,
                                    &owner);
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
    return overlap_sums_loss(p, squared, formula, owner);
  OverlapSums s = overlap_sums_eager(p.x, p.y, squared);
  return formula(s.inter, s.pred, s.ground);
}

} // namespace med::losses::detail
