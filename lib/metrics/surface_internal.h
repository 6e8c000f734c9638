// The surface metrics' implementations with the name used in error messages: the public
// compute_* functions pass their own name, the metric classes pass the MONAI class name.
#pragma once

#include "med/metrics/surface_distance.h"

namespace med::metrics::detail {

at::Tensor hausdorff(const at::Tensor &y_pred, const at::Tensor &y, bool include_background,
                     const std::string &distance_metric, std::optional<double> percentile,
                     bool directed, const SpacingPerItem &spacing, const EmptyPolicy &empty,
                     const std::string &owner);
at::Tensor average_surface_distance(const at::Tensor &y_pred, const at::Tensor &y,
                                    bool include_background, bool symmetric,
                                    const std::string &distance_metric,
                                    const SpacingPerItem &spacing, const EmptyPolicy &empty,
                                    const std::string &owner);
at::Tensor surface_dice(const at::Tensor &y_pred, const at::Tensor &y,
                        const std::vector<double> &class_thresholds, bool include_background,
                        const std::string &distance_metric, const SpacingPerItem &spacing,
                        bool use_subvoxels, const std::string &owner);

} // namespace med::metrics::detail
