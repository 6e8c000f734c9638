// The cumulative Hausdorff, average-surface-distance and surface-Dice metrics.
#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/metrics/surface_distance.h"
#include "surface_internal.h"

namespace med::metrics {

namespace {
void checkPolicy(const std::string &policy, const std::string &owner) {
  if (policy != "monai" && policy != "diagonal" && policy != "value")
    throw Error(owner + ".empty_policy",
                "expected 'monai', 'diagonal' or 'value', got '" + policy + "'");
}
void checkMetric(const std::string &m, const std::string &owner) {
  if (m != "euclidean" && m != "chessboard" && m != "taxicab")
    throw Error(owner + ".distance_metric",
                "expected 'euclidean', 'chessboard' or 'taxicab', got '" + m + "'");
}
} // namespace

std::vector<at::Tensor> SurfaceMetricBase::compute(const at::Tensor &y_pred, const at::Tensor &y) {
  return {compute_spaced(y_pred, y, {})};
}

at::Tensor SurfaceMetricBase::operator()(const at::Tensor &y_pred, const at::Tensor &y,
                                         std::vector<double> spacing) {
  SpacingPerItem s;
  if (!spacing.empty())
    s.push_back(std::move(spacing));
  return append({compute_spaced(y_pred, y, s)});
}

at::Tensor SurfaceMetricBase::operator()(const at::Tensor &y_pred, const at::Tensor &y,
                                         SpacingPerItem spacing) {
  if (y_pred.defined() && y_pred.dim() > 0 && spacing.size() > 1 &&
      int64_t(spacing.size()) != y_pred.size(0))
    throw Error(name_ + ".spacing", "expected one spacing per batch item (" +
                                        std::to_string(y_pred.size(0)) + "), got " +
                                        std::to_string(spacing.size()));
  return append({compute_spaced(y_pred, y, spacing)});
}

HausdorffDistanceMetric::HausdorffDistanceMetric(HausdorffDistanceMetricOptions options_)
    : SurfaceMetricBase("HausdorffDistanceMetric", options_.reduction()), options(options_) {
  checkMetric(options.distance_metric(), name_);
  checkPolicy(options.empty_policy(), name_);
  if (options.percentile() && !(*options.percentile() >= 0 && *options.percentile() <= 100))
    throw Error(name_ + ".percentile", "expected a value in [0, 100] or none, got " +
                                           std::to_string(*options.percentile()));
}

at::Tensor HausdorffDistanceMetric::compute_spaced(const at::Tensor &y_pred, const at::Tensor &y,
                                                   const SpacingPerItem &spacing) {
  return detail::hausdorff(y_pred, y, options.include_background(), options.distance_metric(),
                           options.percentile(), options.directed(), spacing,
                           EmptyPolicy{options.empty_policy(), options.empty_value()}, name_);
}

SurfaceDistanceMetric::SurfaceDistanceMetric(SurfaceDistanceMetricOptions options_)
    : SurfaceMetricBase("SurfaceDistanceMetric", options_.reduction()), options(options_) {
  checkMetric(options.distance_metric(), name_);
  checkPolicy(options.empty_policy(), name_);
}

at::Tensor SurfaceDistanceMetric::compute_spaced(const at::Tensor &y_pred, const at::Tensor &y,
                                                 const SpacingPerItem &spacing) {
  return detail::average_surface_distance(
      y_pred, y, options.include_background(), options.symmetric(), options.distance_metric(),
      spacing, EmptyPolicy{options.empty_policy(), options.empty_value()}, name_);
}

SurfaceDiceMetric::SurfaceDiceMetric(SurfaceDiceMetricOptions options_)
    : SurfaceMetricBase("SurfaceDiceMetric", options_.reduction()), options(std::move(options_)) {
  checkMetric(options.distance_metric(), name_);
  if (options.class_thresholds().empty())
    throw Error(name_ + ".class_thresholds", "expected one tolerance per class, got none");
}

at::Tensor SurfaceDiceMetric::compute_spaced(const at::Tensor &y_pred, const at::Tensor &y,
                                             const SpacingPerItem &spacing) {
  return detail::surface_dice(y_pred, y, options.class_thresholds(), options.include_background(),
                              options.distance_metric(), spacing, options.use_subvoxels(), name_);
}

} // namespace med::metrics
