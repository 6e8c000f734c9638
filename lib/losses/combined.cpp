// DiceCELoss, DiceFocalLoss and GeneralizedDiceFocalLoss (MONAI 1.4.0 semantics).
#include "med/losses/combined.h"

#include <ATen/ATen.h>
#include <ATen/core/Reduction.h>

#include "med/core/error.h"

namespace med::losses {

namespace {

void checkLambda(const std::string &where, double v) {
  if (v < 0)
    throw Error(where, "expected a value >= 0, got " + std::to_string(v));
}

void checkDims(const std::string &owner, const at::Tensor &input, const at::Tensor &target) {
  if (!input.defined() || !target.defined() || input.dim() != target.dim() || input.dim() < 3)
    throw Error(owner + ".target",
                "input and target must have the same number of dimensions (B, C, *spatial); "
                "a label map that is not one-hot encoded must have shape (B, 1, *spatial)");
}

/// One-hot encodes the target once for both terms of a combined loss (MONAI does this in the
/// combined forward and gives the parts to_onehot_y=false).
at::Tensor onehotTarget(const std::string &owner, bool to_onehot_y, const at::Tensor &input,
                        const at::Tensor &target) {
  if (!to_onehot_y)
    return target;
  if (input.size(1) == 1) {
    warn_once(owner + ": single channel prediction, to_onehot_y=true ignored.");
    return target;
  }
  return one_hot(target, input.size(1), owner);
}

} // namespace

DiceCELossImpl::DiceCELossImpl(DiceCELossOptions o) : options(std::move(o)) {
  check_reduction("DiceCELoss", options.reduction(), "mean,sum");
  checkLambda("DiceCELoss.lambda_dice", options.lambda_dice());
  checkLambda("DiceCELoss.lambda_ce", options.lambda_ce());
  std::vector<double> dw = options.weight();
  if (!dw.empty() && !options.include_background() && dw.size() > 1)
    dw.erase(dw.begin()); // Dice sees the classes without the background
  dice_ = register_module("dice", DiceLoss(DiceLossOptions()
                                               .include_background(options.include_background())
                                               .to_onehot_y(options.to_onehot_y())
                                               .sigmoid(options.sigmoid())
                                               .softmax(options.softmax())
                                               .other_act(options.other_act())
                                               .squared_pred(options.squared_pred())
                                               .jaccard(options.jaccard())
                                               .reduction(options.reduction())
                                               .smooth_nr(options.smooth_nr())
                                               .smooth_dr(options.smooth_dr())
                                               .batch(options.batch())
                                               .weight(dw)));
}

at::Tensor DiceCELossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  checkDims("DiceCELoss", input, target);
  if (target.size(1) != 1 && target.size(1) != input.size(1))
    throw Error("DiceCELoss.target", "expected 1 channel (labels) or as many channels as the "
                                     "input (" +
                                         std::to_string(input.size(1)) + "), got " +
                                         std::to_string(target.size(1)));
  at::Tensor dice = dice_->forward(input, target);
  int64_t red = options.reduction() == "sum" ? at::Reduction::Sum : at::Reduction::Mean;
  at::Tensor w;
  if (!options.weight().empty())
    w = at::tensor(options.weight(), at::kDouble).to(input.options().requires_grad(false));
  at::Tensor ce;
  if (input.size(1) == 1) {
    ce = at::binary_cross_entropy_with_logits(input, target.to(input.scalar_type()), {}, w, red);
  } else if (target.size(1) == 1 && input.size(1) != 1) {
    at::Tensor idx = target.squeeze(1).to(at::kLong);
    ce = at::cross_entropy_loss(input, idx, w, red, -100, options.label_smoothing());
  } else {
    at::Tensor t = target.is_floating_point() ? target : target.to(input.scalar_type());
    ce = at::cross_entropy_loss(input, t, w, red, -100, options.label_smoothing());
  }
  return options.lambda_dice() * dice + options.lambda_ce() * ce;
}

DiceFocalLossImpl::DiceFocalLossImpl(DiceFocalLossOptions o) : options(std::move(o)) {
  check_reduction("DiceFocalLoss", options.reduction());
  checkLambda("DiceFocalLoss.lambda_dice", options.lambda_dice());
  checkLambda("DiceFocalLoss.lambda_focal", options.lambda_focal());
  std::vector<double> w =
      options.focal_weight().empty() ? options.weight() : options.focal_weight();
  dice_ = register_module("dice", DiceLoss(DiceLossOptions()
                                               .include_background(options.include_background())
                                               .sigmoid(options.sigmoid())
                                               .softmax(options.softmax())
                                               .other_act(options.other_act())
                                               .squared_pred(options.squared_pred())
                                               .jaccard(options.jaccard())
                                               .reduction(options.reduction())
                                               .smooth_nr(options.smooth_nr())
                                               .smooth_dr(options.smooth_dr())
                                               .batch(options.batch())
                                               .weight(w)));
  focal_ = register_module("focal", FocalLoss(FocalLossOptions()
                                                  .include_background(options.include_background())
                                                  .gamma(options.gamma())
                                                  .alpha(options.alpha())
                                                  .weight(w)
                                                  .reduction(options.reduction())));
}

at::Tensor DiceFocalLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  checkDims("DiceFocalLoss", input, target);
  at::Tensor t = onehotTarget("DiceFocalLoss", options.to_onehot_y(), input, target);
  at::Tensor dice = dice_->forward(input, t);
  at::Tensor focal = focal_->forward(input, t);
  return options.lambda_dice() * dice + options.lambda_focal() * focal;
}

GeneralizedDiceFocalLossImpl::GeneralizedDiceFocalLossImpl(GeneralizedDiceFocalLossOptions o)
    : options(std::move(o)) {
  check_reduction("GeneralizedDiceFocalLoss", options.reduction());
  checkLambda("GeneralizedDiceFocalLoss.lambda_gdl", options.lambda_gdl());
  checkLambda("GeneralizedDiceFocalLoss.lambda_focal", options.lambda_focal());
  std::vector<double> w =
      options.focal_weight().empty() ? options.weight() : options.focal_weight();
  gdl_ = register_module("generalized_dice",
                         GeneralizedDiceLoss(GeneralizedDiceLossOptions()
                                                 .include_background(options.include_background())
                                                 .sigmoid(options.sigmoid())
                                                 .softmax(options.softmax())
                                                 .other_act(options.other_act())
                                                 .w_type(options.w_type())
                                                 .reduction(options.reduction())
                                                 .smooth_nr(options.smooth_nr())
                                                 .smooth_dr(options.smooth_dr())
                                                 .batch(options.batch())));
  focal_ = register_module("focal", FocalLoss(FocalLossOptions()
                                                  .include_background(options.include_background())
                                                  .gamma(options.gamma())
                                                  .weight(w)
                                                  .reduction(options.reduction())));
}

at::Tensor GeneralizedDiceFocalLossImpl::forward(const at::Tensor &input,
                                                 const at::Tensor &target) {
  checkDims("GeneralizedDiceFocalLoss", input, target);
  at::Tensor t = onehotTarget("GeneralizedDiceFocalLoss", options.to_onehot_y(), input, target);
  at::Tensor gdl = gdl_->forward(input, t);
  at::Tensor focal = focal_->forward(input, t);
  return options.lambda_gdl() * gdl + options.lambda_focal() * focal;
}

} // namespace med::losses
