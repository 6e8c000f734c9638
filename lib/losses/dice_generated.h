// Overlap losses (DiceLoss, GeneralizedDiceLoss, TverskyLoss) on the generated kernels
// med.dice_sums / med.dice_grad and their softmax forms (internal to lib/losses;
// docs/architecture.md).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>

#include "med/losses/reduction.h"

namespace med::losses::detail {

/// A loss as a function of its per-(sample, class) sums, each (B, C): inter = sum p t, pred =
/// sum p (or p p), ground = sum t (or t t). Written in ATen ops, so autograd can differentiate
/// it with respect to inter and pred. It may be evaluated again in a backward with create_graph,
/// after the call that made it has returned: capture by value.
using SumsFormula = std::function<at::Tensor(const at::Tensor &inter, const at::Tensor &pred,
                                             const at::Tensor &ground)>;

/// True when a prepared pair may run on the generated kernels: a CPU float32/float64 input
/// whose dtype the target's promotes to (so the reference's arithmetic stays in the input
/// type), a target without gradient (the kernels differentiate the input only), same shapes.
bool generated_overlap_applies(const at::Tensor &x, const at::Tensor &y);

/// How the prediction reaches the kernels: as it is, through a sigmoid, or through a softmax
/// over the channels.
enum class Activation { none, sigmoid, softmax };

/// prepare_seg for an overlap loss. `generated` says whether the pair runs on the kernels; then
/// the kernels apply a requested sigmoid (`x` still holds logits: a sigmoid commutes with one-hot
/// encoding and dropping the background) or softmax (`x` holds all C channels of logits, `y`
/// the untouched target, a (B, 1, *spatial) label map with to_onehot_y, and the loss keeps
/// classes `first`.. C - 1: 1 without the background). Otherwise `x` is activated.
struct OverlapInputs {
  at::Tensor x, y;
  bool generated = false;
  Activation activation = Activation::none;
  int64_t first = 0;
};
OverlapInputs prepare_overlap(const std::string &owner, SegPrep prep, const at::Tensor &input,
                              const at::Tensor &target);

/// formula(sums of x and y) as one torch::autograd::Function: med.dice_sums (or
/// med.softmax_dice_sums) gives the sums, which become leaves of the formula's small ATen graph;
/// backward differentiates that graph with respect to the sums and hands each (item, class)'s
/// two derivatives to med.dice_grad (med.softmax_dice_grad). `squared` sums p p and t t. A
/// backward with create_graph (double backward) differentiates the same loss formed in ATen from
/// the saved input instead, so `formula` is kept with the graph: it must capture by value.
at::Tensor overlap_sums_loss(const OverlapInputs &in, bool squared, const SumsFormula &formula,
                             const std::string &owner);

/// A whole overlap loss: prepare_overlap, then `formula` over the sums from the kernels, or from
/// ATen reductions where the kernels do not apply.
///
///   return detail::overlap_loss("TverskyLoss", prep, input, target, false, formula);
at::Tensor overlap_loss(const std::string &owner, const SegPrep &prep, const at::Tensor &input,
                        const at::Tensor &target, bool squared, const SumsFormula &formula);

/// The same sums by ATen reductions over (B, C, *spatial) x and y, for the eager paths.
struct OverlapSums {
  at::Tensor inter, pred, ground;
};
OverlapSums overlap_sums_eager(const at::Tensor &x, const at::Tensor &y, bool squared);

} // namespace med::losses::detail
