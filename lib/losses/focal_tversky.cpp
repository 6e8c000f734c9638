// FocalLoss and TverskyLoss (MONAI 1.4.0 semantics); FocalLoss's kernel path is in
// focal_generated.cpp.
#include "med/losses/focal.h"
#include "med/losses/tversky.h"

#include <ATen/ATen.h>

#include "dice_generated.h"
#include "focal_generated.h"
#include "med/core/error.h"

namespace med::losses {

FocalLossImpl::FocalLossImpl(FocalLossOptions o) : options(std::move(o)) {
  check_reduction("FocalLoss", options.reduction());
  for (double w : options.weight())
    if (w < 0)
      throw Error("FocalLoss.weight", "class weights must be >= 0");
}

at::Tensor FocalLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  std::optional<double> alpha = options.alpha();
  if (options.use_softmax() && !options.include_background() && alpha) {
    warn_once("FocalLoss: include_background=false, alpha ignored when using softmax.");
    alpha.reset();
  }
  at::Tensor loss = detail::focal_loss_generated(options, alpha, input, target);
  return loss.defined() ? loss : forward_eager(input, target);
}

at::Tensor FocalLossImpl::forward_eager(const at::Tensor &input, const at::Tensor &target) {
  SegInputs p = prepare_seg(
      "FocalLoss", {options.include_background(), options.to_onehot_y(), false, false, nullptr},
      input, target);
  // MONAI computes the focal loss in float32 whatever the input dtype.
  at::Tensor x = p.input.to(at::kFloat), t = p.target.to(at::kFloat);
  const double gamma = options.gamma();
  std::optional<double> alpha = options.alpha();
  at::Tensor loss;
  if (options.use_softmax()) {
    if (!options.include_background() && alpha) {
      warn_once("FocalLoss: include_background=false, alpha ignored when using softmax.");
      alpha.reset();
    }
    at::Tensor logp = at::log_softmax(x, 1);
    loss = -at::pow(1.0 - logp.exp(), gamma) * logp * t;
    if (alpha) {
      std::vector<float> fac(t.size(1), float(*alpha));
      fac[0] = float(1.0 - *alpha);
      std::vector<int64_t> shape(t.dim() - 1, 1);
      shape[0] = -1;
      loss = at::tensor(fac, loss.options()).view(shape) * loss;
    }
  } else {
    // Binary cross-entropy with logits, times (1 - p_t)^gamma computed in log space.
    at::Tensor bce = x - x * t - at::log_sigmoid(x);
    at::Tensor invprobs = at::log_sigmoid(-x * (t * 2 - 1));
    loss = (invprobs * gamma).exp() * bce;
    if (alpha)
      loss = (t * *alpha + (1 - t) * (1 - *alpha)) * loss;
  }
  std::vector<double> cw = detail::focal_class_weights(options.weight(), t.size(1));
  if (!cw.empty()) {
    std::vector<int64_t> shape(t.dim() - 1, 1);
    shape[0] = -1;
    loss = at::tensor(cw, at::kDouble).to(loss.options()).view(shape) * loss;
  }
  if (options.reduction() == "sum") {
    std::vector<int64_t> spatial;
    for (int64_t d = 2; d < t.dim(); ++d)
      spatial.push_back(d);
    return loss.mean(spatial).sum(); // MONAI: sum of the spatial means
  }
  return reduce(loss, options.reduction());
}

TverskyLossImpl::TverskyLossImpl(TverskyLossOptions o) : options(std::move(o)) {
  check_reduction("TverskyLoss", options.reduction());
  check_activation("TverskyLoss",
                   SegPrep{true, false, options.sigmoid(), options.softmax(), options.other_act()});
}

at::Tensor TverskyLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  const std::string owner = "TverskyLoss";
  const bool batch = options.batch();
  // sum p (1 - g) = |P| - |P.G| and sum (1 - p) g = |G| - |P.G|, so the overlap sums suffice.
  // By value: a backward with create_graph evaluates the formula again later.
  auto formula = [batch, options = options](const at::Tensor &inter, const at::Tensor &pred,
                                            const at::Tensor &ground) {
    at::Tensor tp = batch ? inter.sum(0) : inter;
    at::Tensor fp = options.alpha() * ((batch ? pred.sum(0) : pred) - tp);
    at::Tensor fn = options.beta() * ((batch ? ground.sum(0) : ground) - tp);
    at::Tensor score = 1.0 - (tp + options.smooth_nr()) / (tp + fp + fn + options.smooth_dr());
    return reduce(score, options.reduction());
  };
  return detail::overlap_loss(owner,
                              {options.include_background(), options.to_onehot_y(),
                               options.sigmoid(), options.softmax(), options.other_act()},
                              input, target, false, formula);
}

} // namespace med::losses
