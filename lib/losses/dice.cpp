// DiceLoss, MaskedDiceLoss and GeneralizedDiceLoss (MONAI 1.4.0 semantics).
#include "med/losses/dice.h"

#include <ATen/ATen.h>

#include "dice_generated.h"
#include "med/core/error.h"

namespace med::losses {

namespace {

std::vector<int64_t> reduceAxes(int64_t ndim, bool batch) {
  std::vector<int64_t> axes;
  if (batch)
    axes.push_back(0);
  for (int64_t d = 2; d < ndim; ++d)
    axes.push_back(d);
  return axes;
}

void checkSmooth(const std::string &owner, double nr, double dr) {
  if (nr < 0 || dr < 0)
    throw Error(owner + ".smooth_nr/smooth_dr", "expected values >= 0");
}

} // namespace

at::Tensor broadcast_none(const at::Tensor &f, int64_t spatial_dims) {
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < std::min<int64_t>(2, f.dim()); ++d)
    shape.push_back(f.size(d));
  for (int64_t i = 0; i < spatial_dims; ++i)
    shape.push_back(1);
  return f.view(shape);
}

DiceLossImpl::DiceLossImpl(DiceLossOptions o) : options(std::move(o)) {
  check_reduction(owner_, options.reduction());
  check_activation(owner_, SegPrep{options.include_background(), options.to_onehot_y(),
                                   options.sigmoid(), options.softmax(), options.other_act()});
  checkSmooth(owner_, options.smooth_nr(), options.smooth_dr());
  for (double w : options.weight())
    if (w < 0)
      throw Error(owner_ + ".weight", "class weights must be >= 0");
}

namespace {
// Dice (or Jaccard) terms from the overlap sums under `o`.
at::Tensor termsFromSums(const DiceLossOptions &o, const at::Tensor &inter,
                         const at::Tensor &ground, const at::Tensor &pred) {
  at::Tensor denom = ground + pred;
  if (o.jaccard())
    denom = 2.0 * (denom - inter);
  return 1.0 - (2.0 * inter + o.smooth_nr()) / (denom + o.smooth_dr());
}
} // namespace

at::Tensor DiceLossImpl::terms_from_sums(const at::Tensor &inter, const at::Tensor &ground,
                                         const at::Tensor &pred) const {
  return termsFromSums(options, inter, ground, pred);
}

at::Tensor DiceLossImpl::dice_terms(const at::Tensor &x, const at::Tensor &y) const {
  if (detail::generated_overlap_applies(x, y))
    return generated_terms({x, y, true});
  return dice_terms_eager(x, y);
}

at::Tensor DiceLossImpl::generated_terms(const detail::OverlapInputs &in) const {
  // The formula captures by value: a backward with create_graph evaluates it again later.
  return detail::overlap_sums_loss(
      in, options.squared_pred(),
      [o = options](const at::Tensor &inter, const at::Tensor &pred, const at::Tensor &ground) {
        if (o.batch())
          return termsFromSums(o, inter.sum(0), ground.sum(0), pred.sum(0));
        return termsFromSums(o, inter, ground, pred);
      },
      owner_);
}

at::Tensor DiceLossImpl::dice_terms_eager(const at::Tensor &x, const at::Tensor &y) const {
  std::vector<int64_t> axes = reduceAxes(x.dim(), options.batch());
  at::Tensor inter = (y * x).sum(axes);
  at::Tensor ground = options.squared_pred() ? (y * y).sum(axes) : y.sum(axes);
  at::Tensor pred = options.squared_pred() ? (x * x).sum(axes) : x.sum(axes);
  return terms_from_sums(inter, ground, pred);
}

at::Tensor DiceLossImpl::finish(at::Tensor f, int64_t spatial_dims) const {
  const std::vector<double> &w = options.weight();
  int64_t classes = f.size(-1);
  if (!w.empty() && classes != 1) {
    std::vector<double> cw = w.size() == 1 ? std::vector<double>(classes, w[0]) : w;
    if (int64_t(cw.size()) != classes)
      throw Error(owner_ + ".weight", "expected " + std::to_string(classes) +
                                          " class weights (one per class), got " +
                                          std::to_string(w.size()));
    at::Tensor wt = at::tensor(cw, at::kDouble).to(f.options());
    f = f * wt;
  }
  if (options.reduction() == "none")
    return broadcast_none(f, spatial_dims);
  return reduce(f, options.reduction());
}

at::Tensor DiceLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  detail::OverlapInputs p =
      detail::prepare_overlap(owner_,
                              {options.include_background(), options.to_onehot_y(),
                               options.sigmoid(), options.softmax(), options.other_act()},
                              input, target);
  at::Tensor f = p.generated ? generated_terms(p) : dice_terms_eager(p.x, p.y);
  return finish(f, input.dim() - 2);
}

MaskedDiceLossImpl::MaskedDiceLossImpl(DiceLossOptions o) : DiceLossImpl(std::move(o)) {
  owner_ = "MaskedDiceLoss";
}

at::Tensor MaskedDiceLossImpl::forward(const at::Tensor &input, const at::Tensor &target,
                                       const at::Tensor &mask) {
  // The activation runs before masking (MONAI: masked input = act(input) * mask).
  SegPrep prep{true, false, options.sigmoid(), options.softmax(), options.other_act()};
  SegInputs act = prepare_seg(owner_, prep, input, target, false);
  at::Tensor x = act.input, y = target;
  if (!mask.defined()) {
    warn_once(owner_ + ": no mask given, the whole image counts.");
  } else {
    if (mask.dim() != input.dim() || mask.size(1) != 1 ||
        (mask.size(0) != input.size(0) && mask.size(0) != 1) ||
        !mask.sizes().slice(2).equals(input.sizes().slice(2)))
      throw Error(owner_ + ".mask", "expected a (B or 1, 1, *spatial) mask matching the input");
    x = x * mask;
    y = y * mask;
  }
  SegPrep rest{options.include_background(), options.to_onehot_y(), false, false, nullptr};
  SegInputs p = prepare_seg(owner_, rest, x, y);
  return finish(dice_terms(p.input, p.target), input.dim() - 2);
}

GeneralizedDiceLossImpl::GeneralizedDiceLossImpl(GeneralizedDiceLossOptions o)
    : options(std::move(o)) {
  const std::string owner = "GeneralizedDiceLoss";
  check_reduction(owner, options.reduction());
  check_activation(owner,
                   SegPrep{true, false, options.sigmoid(), options.softmax(), options.other_act()});
  checkSmooth(owner, options.smooth_nr(), options.smooth_dr());
  const std::string &w = options.w_type();
  if (w != "square" && w != "simple" && w != "uniform")
    throw Error(owner + ".w_type", "expected square, simple or uniform, got '" + w + "'");
}

at::Tensor GeneralizedDiceLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  const std::string owner = "GeneralizedDiceLoss";
  const bool batch = options.batch();
  // By value: a backward with create_graph evaluates the formula again later.
  auto formula = [batch, options = options, spatial = input.dim() - 2](
                     const at::Tensor &inter0, const at::Tensor &pred0, const at::Tensor &ground0) {
    at::Tensor inter = batch ? inter0.sum(0) : inter0, pred = batch ? pred0.sum(0) : pred0;
    at::Tensor ground = batch ? ground0.sum(0) : ground0;
    at::Tensor denom = ground + pred;
    // Class weights from the ground-truth volumes, in float32 as MONAI computes them.
    at::Tensor g = ground.detach().to(at::kFloat);
    at::Tensor w;
    if (options.w_type() == "simple")
      w = at::reciprocal(g);
    else if (options.w_type() == "square")
      w = at::reciprocal(g * g);
    else
      w = at::ones_like(g);
    at::Tensor infs = at::isinf(w);
    w = w.masked_fill(infs, 0.0);
    at::Tensor maxw = batch ? w.max() : std::get<0>(w.max(1, true));
    w = w + infs.to(w.scalar_type()) * maxw;
    int64_t dim = batch ? 0 : 1;
    at::Tensor numer = 2.0 * (inter * w).sum(dim, true) + options.smooth_nr();
    at::Tensor den = (denom * w).sum(dim, true) + options.smooth_dr();
    at::Tensor f = 1.0 - numer / den;
    if (options.reduction() == "none")
      return broadcast_none(f, spatial);
    return reduce(f, options.reduction());
  };
  return detail::overlap_loss(owner,
                              {options.include_background(), options.to_onehot_y(),
                               options.sigmoid(), options.softmax(), options.other_act()},
                              input, target, false, formula);
}

} // namespace med::losses
