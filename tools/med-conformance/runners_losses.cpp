// Runners for the loss cases: MONAI kwargs -> med::losses options, then the stored call
// `loss = Loss(**params)(x, ...); (loss.sum() if loss.ndim else loss).backward()` in float32 and
// again on the inputs cast to float64 (outputs loss, grad, loss_float64, grad_float64 and the
// scalars value / value_float64).
#include <functional>
#include <optional>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "med/core/error.h"
#include "med/losses/combined.h"
#include "med/losses/dice.h"
#include "med/losses/focal.h"
#include "med/losses/registration.h"
#include "med/losses/tversky.h"
#include "registry.h"

namespace med::conformance {
namespace L = med::losses;
using nlohmann::json;

namespace {

using LossFn = std::function<at::Tensor(const std::vector<at::Tensor> &)>;
using LossFactory = std::function<LossFn(Kwargs &)>;

/// A tensor as nested JSON lists (a 0-d tensor as a number), for `scalars.value`.
json toJson(const at::Tensor &t) {
  at::Tensor d = t.detach().to(at::kDouble).contiguous();
  if (d.dim() == 0)
    return d.item<double>();
  json out = json::array();
  for (int64_t i = 0; i < d.size(0); ++i)
    out.push_back(toJson(d[i]));
  return out;
}

/// MONAI's `weight` kwarg: None, a number or a list of numbers.
std::vector<double> weights(Kwargs &kw, const std::string &key) { return kw.numbers(key); }

/// Runs the loss on `names` inputs (the first one gets the gradient) in `dtype`.
void runOnce(const Case &c, const LossFn &fn, const std::vector<std::string> &names,
             at::ScalarType dtype, const std::string &suffix, Outputs &out) {
  std::vector<at::Tensor> xs;
  for (const std::string &n : names)
    xs.push_back(c.input(n).data.to(dtype).detach().clone());
  xs[0].set_requires_grad(true);
  at::Tensor loss = fn(xs);
  at::Tensor total = loss.dim() ? loss.sum() : loss;
  at::Tensor grad = torch::autograd::grad({total}, {xs[0]})[0];
  out.arrays["loss" + suffix] = MetaTensor(loss.detach());
  out.arrays["grad" + suffix] = MetaTensor(grad.detach());
  out.scalars["value" + suffix] = toJson(loss);
}

Runner lossRunner(const std::string &name, std::vector<std::string> inputs, LossFactory make) {
  return [name, inputs, make](const Case &c) {
    Kwargs kw(name, c.params);
    LossFn fn = make(kw);
    kw.finish();
    Outputs out;
    runOnce(c, fn, inputs, at::kFloat, "", out);
    runOnce(c, fn, inputs, at::kDouble, "_float64", out);
    return out;
  };
}

/// The kwargs every segmentation loss reads for its preprocessing.
template <typename O> void segKwargs(Kwargs &kw, O &o) {
  o.include_background(kw.boolean("include_background", true));
  o.to_onehot_y(kw.boolean("to_onehot_y", false));
  o.sigmoid(kw.boolean("sigmoid", false));
  o.softmax(kw.boolean("softmax", false));
  kw.only("other_act", {nullptr}, "other_act (a Python callable) cannot be read from JSON");
  o.reduction(kw.string("reduction", "mean"));
  o.smooth_nr(kw.number("smooth_nr", 1e-5));
  o.smooth_dr(kw.number("smooth_dr", 1e-5));
  o.batch(kw.boolean("batch", false));
}

template <typename M> LossFn binary(M m) {
  return [m](const std::vector<at::Tensor> &x) mutable { return m->forward(x[0], x[1]); };
}

LossFn diceLoss(Kwargs &kw) {
  L::DiceLossOptions o;
  segKwargs(kw, o);
  o.squared_pred(kw.boolean("squared_pred", false)).jaccard(kw.boolean("jaccard", false));
  o.weight(weights(kw, "weight"));
  return binary(L::DiceLoss(o));
}

LossFn generalizedDice(Kwargs &kw) {
  L::GeneralizedDiceLossOptions o;
  segKwargs(kw, o);
  o.w_type(kw.string("w_type", "square"));
  return binary(L::GeneralizedDiceLoss(o));
}

LossFn tversky(Kwargs &kw) {
  L::TverskyLossOptions o;
  segKwargs(kw, o);
  o.alpha(kw.number("alpha", 0.5)).beta(kw.number("beta", 0.5));
  return binary(L::TverskyLoss(o));
}

LossFn focal(Kwargs &kw) {
  L::FocalLossOptions o;
  o.include_background(kw.boolean("include_background", true));
  o.to_onehot_y(kw.boolean("to_onehot_y", false));
  o.gamma(kw.number("gamma", 2.0)).alpha(kw.optNumber("alpha"));
  o.weight(weights(kw, "weight")).reduction(kw.string("reduction", "mean"));
  o.use_softmax(kw.boolean("use_softmax", false));
  return binary(L::FocalLoss(o));
}

LossFn diceCE(Kwargs &kw) {
  L::DiceCELossOptions o;
  segKwargs(kw, o);
  o.squared_pred(kw.boolean("squared_pred", false)).jaccard(kw.boolean("jaccard", false));
  o.weight(weights(kw, "weight"));
  o.lambda_dice(kw.number("lambda_dice", 1.0)).lambda_ce(kw.number("lambda_ce", 1.0));
  o.label_smoothing(kw.number("label_smoothing", 0.0));
  return binary(L::DiceCELoss(o));
}

LossFn diceFocal(Kwargs &kw) {
  L::DiceFocalLossOptions o;
  segKwargs(kw, o);
  o.squared_pred(kw.boolean("squared_pred", false)).jaccard(kw.boolean("jaccard", false));
  o.weight(weights(kw, "weight")).focal_weight(weights(kw, "focal_weight"));
  o.gamma(kw.number("gamma", 2.0)).alpha(kw.optNumber("alpha"));
  o.lambda_dice(kw.number("lambda_dice", 1.0)).lambda_focal(kw.number("lambda_focal", 1.0));
  return binary(L::DiceFocalLoss(o));
}

LossFn bendingEnergy(Kwargs &kw) {
  L::BendingEnergyLoss m(L::BendingEnergyLossOptions()
                             .normalize(kw.boolean("normalize", false))
                             .reduction(kw.string("reduction", "mean")));
  return [m](const std::vector<at::Tensor> &x) mutable { return m->forward(x[0]); };
}

LossFn lncc(Kwargs &kw) {
  L::LocalNormalizedCrossCorrelationLossOptions o;
  o.spatial_dims(kw.integer("spatial_dims", 3)).kernel_size(kw.integer("kernel_size", 3));
  o.kernel_type(kw.string("kernel_type", "rectangular"));
  o.reduction(kw.string("reduction", "mean"));
  o.smooth_nr(kw.number("smooth_nr", 0.0)).smooth_dr(kw.number("smooth_dr", 1e-5));
  return binary(L::LocalNormalizedCrossCorrelationLoss(o));
}

LossFn gmi(Kwargs &kw) {
  L::GlobalMutualInformationLossOptions o;
  o.kernel_type(kw.string("kernel_type", "gaussian")).num_bins(kw.integer("num_bins", 23));
  o.sigma_ratio(kw.number("sigma_ratio", 0.5)).reduction(kw.string("reduction", "mean"));
  o.smooth_nr(kw.number("smooth_nr", 1e-7)).smooth_dr(kw.number("smooth_dr", 1e-7));
  return binary(L::GlobalMutualInformationLoss(o));
}

} // namespace

void registerLossRunners(Registry &r) {
  const std::vector<std::string> seg = {"input", "target"}, reg = {"pred", "target"};
  r.add("DiceLoss", lossRunner("DiceLoss", seg, diceLoss));
  r.add("GeneralizedDiceLoss", lossRunner("GeneralizedDiceLoss", seg, generalizedDice));
  r.add("TverskyLoss", lossRunner("TverskyLoss", seg, tversky));
  r.add("FocalLoss", lossRunner("FocalLoss", seg, focal));
  r.add("DiceCELoss", lossRunner("DiceCELoss", seg, diceCE));
  r.add("DiceFocalLoss", lossRunner("DiceFocalLoss", seg, diceFocal));
  r.add("BendingEnergyLoss", lossRunner("BendingEnergyLoss", {"ddf"}, bendingEnergy));
  r.add("LocalNormalizedCrossCorrelationLoss",
        lossRunner("LocalNormalizedCrossCorrelationLoss", reg, lncc));
  r.add("GlobalMutualInformationLoss", lossRunner("GlobalMutualInformationLoss", reg, gmi));
}

} // namespace med::conformance
