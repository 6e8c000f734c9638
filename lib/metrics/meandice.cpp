// Dice, IoU and generalized Dice on binarized segmentations.
#include "med/metrics/meandice.h"

#include <ATen/ATen.h>

#include <limits>

#include "med/core/error.h"

namespace med::metrics {

namespace {

/// One-hot bool (B, K, *spatial) view of an input that is one-hot (C channels) or a label map
/// (1 channel, compared with each class index in `classes`).
at::Tensor asOneHot(const at::Tensor &t, const std::vector<int64_t> &classes, bool labelMap) {
  std::vector<at::Tensor> parts;
  for (int64_t c : classes)
    parts.push_back(labelMap ? (t.select(1, 0) == c) : (t.select(1, c) != 0));
  return at::stack(parts, 1);
}

at::Tensor resultType(const at::Tensor &y) {
  return at::empty({0}, y.scalar_type() == at::kDouble ? at::kDouble : at::kFloat);
}

} // namespace

at::Tensor compute_dice(const at::Tensor &y_pred, const at::Tensor &y, bool include_background,
                        bool ignore_empty, std::optional<int64_t> num_classes) {
  const std::string owner = "DiceMetric";
  if (!y_pred.defined() || !y.defined())
    throw Error(owner + ".y_pred", "expected defined tensors");
  if (y_pred.dim() < 3)
    throw Error(owner + ".y_pred",
                "expected at least 3 dimensions (batch, channel, spatial), got " +
                    std::to_string(y_pred.dim()));
  if (y.dim() != y_pred.dim() || y.size(0) != y_pred.size(0) ||
      !y.sizes().slice(2).equals(y_pred.sizes().slice(2)))
    throw Error(owner + ".y", "expected the batch and spatial shape of y_pred " +
                                  std::string(c10::str(y_pred.sizes())) + ", got " +
                                  std::string(c10::str(y.sizes())));
  if (num_classes && *num_classes < 1)
    throw Error(owner + ".num_classes", "expected a positive number of classes");
  const bool predLabels = y_pred.size(1) == 1 && num_classes && *num_classes > 1;
  const int64_t nCh = num_classes ? *num_classes : y_pred.size(1);
  if (!predLabels && y_pred.size(1) != nCh)
    throw Error(owner + ".num_classes", "y_pred has " + std::to_string(y_pred.size(1)) +
                                            " channels but num_classes is " + std::to_string(nCh));
  const bool yLabels = y.size(1) == 1 && nCh > 1;
  if (!yLabels && y.size(1) != y_pred.size(1) && !predLabels)
    throw Error(owner + ".y", "expected " + std::to_string(y_pred.size(1)) +
                                  " channels (one-hot) or 1 (label map), got " +
                                  std::to_string(y.size(1)));
  const auto outType = resultType(y).scalar_type();
  auto fromCounts = [&](const at::Tensor &inter, const at::Tensor &po, const at::Tensor &yo) {
    at::Tensor dice = 2.0 * inter / (yo + po);
    at::Tensor emptyVal = ignore_empty
                              ? at::full_like(dice, std::numeric_limits<double>::quiet_NaN())
                              : at::where(po <= 0, at::ones_like(dice), at::zeros_like(dice));
    return at::where(yo > 0, dice, emptyVal).to(outType);
  };
  if (!predLabels && !yLabels) {
    // Both one-hot: one fused counting pass, background dropped from the counts afterwards.
    at::Tensor k = detail::overlap_counts(y_pred, y, owner, true);
    if (nCh > 1 && !include_background)
      k = k.slice(1, 1);
    return fromCounts(k.select(2, 0), k.select(2, 1), k.select(2, 2));
  }
  detail::check_finite_input(y_pred, owner, "y_pred");
  detail::check_finite_input(y, owner, "y");
  if (!predLabels)
    detail::check_binary(y_pred, owner, "y_pred");
  if (!yLabels)
    detail::check_binary(y, owner, "y");
  std::vector<int64_t> classes;
  for (int64_t c = include_background ? 0 : 1; c < nCh; ++c)
    classes.push_back(c);
  // A single channel is the foreground mask itself (MONAI compares a one-channel map with 1).
  at::Tensor P = nCh > 1 ? asOneHot(y_pred, classes, predLabels) : (y_pred != 0);
  at::Tensor Y = nCh > 1 ? asOneHot(y, classes, yLabels) : (y != 0);
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < P.dim(); ++d)
    spatial.push_back(d);
  at::Tensor yo = Y.sum(spatial).to(at::kDouble);
  at::Tensor po = P.sum(spatial).to(at::kDouble);
  at::Tensor inter = P.logical_and(Y).sum(spatial).to(at::kDouble);
  return fromCounts(inter, po, yo);
}

DiceMetric::DiceMetric(DiceMetricOptions options_)
    : ReducedMetric("DiceMetric", options_.reduction()), options(options_) {
  if (options.num_classes() && *options.num_classes() < 1)
    throw Error(name_ + ".num_classes", "expected a positive number of classes");
}

std::vector<at::Tensor> DiceMetric::compute(const at::Tensor &y_pred, const at::Tensor &y) {
  return {compute_dice(y_pred, y, options.include_background(), options.ignore_empty(),
                       options.num_classes())};
}

at::Tensor compute_iou(const at::Tensor &y_pred, const at::Tensor &y, bool include_background,
                       bool ignore_empty) {
  const std::string owner = "MeanIoU";
  if (!y_pred.defined() || !y.defined())
    throw Error(owner + ".y_pred", "expected defined tensors");
  detail::check_same_shape(y_pred, y, owner, 3);
  at::Tensor k = detail::overlap_counts(y_pred, y, owner, true);
  if (!include_background && k.size(1) > 1)
    k = k.slice(1, 1);
  at::Tensor inter = k.select(2, 0), yo = k.select(2, 2);
  at::Tensor uni = yo + k.select(2, 1) - inter;
  at::Tensor iou = inter / uni;
  at::Tensor out =
      ignore_empty
          ? at::where(yo > 0, iou, at::full_like(iou, std::numeric_limits<double>::quiet_NaN()))
          : at::where(uni > 0, iou, at::ones_like(iou));
  return out.to(resultType(y).scalar_type());
}

MeanIoU::MeanIoU(MeanIoUOptions options_)
    : ReducedMetric("MeanIoU", options_.reduction()), options(options_) {}

std::vector<at::Tensor> MeanIoU::compute(const at::Tensor &y_pred, const at::Tensor &y) {
  return {compute_iou(y_pred, y, options.include_background(), options.ignore_empty())};
}

at::Tensor compute_generalized_dice(const at::Tensor &y_pred, const at::Tensor &y,
                                    bool include_background, const std::string &weight_type) {
  const std::string owner = "GeneralizedDiceScore";
  if (weight_type != "square" && weight_type != "simple" && weight_type != "uniform")
    throw Error(owner + ".weight_type",
                "expected 'square', 'simple' or 'uniform', got '" + weight_type + "'");
  detail::check_finite_input(y_pred, owner, "y_pred");
  detail::check_finite_input(y, owner, "y");
  detail::check_same_shape(y_pred, y, owner, 3);
  detail::check_binary(y_pred, owner, "y_pred");
  detail::check_binary(y, owner, "y");
  at::Tensor P = detail::drop_background(y_pred, include_background).to(at::kDouble);
  at::Tensor Y = detail::drop_background(y, include_background).to(at::kDouble);
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < P.dim(); ++d)
    spatial.push_back(d);
  at::Tensor inter = (P * Y).sum(spatial), yo = Y.sum(spatial), po = P.sum(spatial);
  at::Tensor w = weight_type == "square"   ? (yo * yo).reciprocal()
                 : weight_type == "simple" ? yo.reciprocal()
                                           : at::ones_like(yo);
  at::Tensor infs = at::isinf(w);
  w = at::where(infs, at::zeros_like(w), w);
  at::Tensor maxW = std::get<0>(w.max(1, true));
  w = w + infs.to(at::kDouble) * maxW;
  at::Tensor numer = 2.0 * (inter * w).sum(1);
  at::Tensor denom = ((yo + po) * w).sum(1);
  at::Tensor score = numer / denom;
  at::Tensor predEmpty = (po.sum(1) == 0);
  at::Tensor emptyScore = at::where(predEmpty, at::ones_like(score), at::zeros_like(score));
  return at::where(denom == 0, emptyScore, score).to(resultType(y).scalar_type());
}

GeneralizedDiceScore::GeneralizedDiceScore(GeneralizedDiceScoreOptions options_)
    : ReducedMetric("GeneralizedDiceScore", options_.reduction()), options(options_) {
  const std::string &w = options.weight_type();
  if (w != "square" && w != "simple" && w != "uniform")
    throw Error(name_ + ".weight_type",
                "expected 'square', 'simple' or 'uniform', got '" + w + "'");
}

std::vector<at::Tensor> GeneralizedDiceScore::compute(const at::Tensor &y_pred,
                                                      const at::Tensor &y) {
  return {compute_generalized_dice(y_pred, y, options.include_background(), options.weight_type())
              .unsqueeze(1)};
}

} // namespace med::metrics
