// Boundary-based segmentation metrics (MONAI 1.4.0): HausdorffDistanceMetric,
// SurfaceDistanceMetric, SurfaceDiceMetric and the free functions they are built on. Surfaces
// are mask XOR erosion(mask) with the face-connected cross, background outside the image.
// SPACING DEFAULTS TO 1 VOXEL PER AXIS, AS IN MONAI: pass the voxel size to get millimetres.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/metrics/metric.h"

namespace med::metrics {

/// Voxel sizes per batch item, as MONAI's `spacing` call argument resolves: empty = 1 voxel;
/// one inner vector per item (each one value or one per spatial axis).
using SpacingPerItem = std::vector<std::vector<double>>;

/// The surface voxels of two masks: mask XOR binary_erosion(mask) (cross structuring element,
/// outside = background). Masks that are not bool are compared with `label_idx`. With `crop`,
/// both results are cut to the bounding box of (pred | gt) grown by one voxel (zero padded where
/// it leaves the image), as MONAI does; all-false full-size masks when both are empty.
std::pair<at::Tensor, at::Tensor> get_mask_edges(const at::Tensor &seg_pred,
                                                 const at::Tensor &seg_gt, double label_idx = 1,
                                                 bool crop = true);

/// Distances (float64, 1-D) from every true voxel of `seg_pred` to the nearest true voxel of
/// `seg_gt`: "euclidean" (scaled by `spacing`), "chessboard" or "taxicab" (voxel steps). As in
/// MONAI: inf for each pred voxel when seg_gt is empty; inf for each seg_gt voxel when only
/// seg_pred is empty.
at::Tensor get_surface_distance(const at::Tensor &seg_pred, const at::Tensor &seg_gt,
                                const std::string &distance_metric = "euclidean",
                                std::vector<double> spacing = {});

/// The surface area (3 spacing values: 256 entries) or contour length (2 values: 16 entries),
/// float64, of the marching-cubes (marching-squares) piece in one 2x2x2 (2x2) cell, per
/// neighbourhood code: bit 2^(n-1-i) is set when corner i of the cell (raster order) is inside.
/// MONAI's get_code_to_measure_table without the encoding kernel; the areas behind
/// `use_subvoxels`. Example: get_code_to_measure_table({1, 1, 1})[1] is sqrt(3) / 8.
at::Tensor get_code_to_measure_table(const std::vector<double> &spacing);

/// How a (b, c) entry is filled when exactly one of prediction and ground truth is empty
/// (a structure missed or hallucinated). "monai" (default): MONAI 1.4's result (inf, or nan for
/// a percentile Hausdorff), which makes a mean aggregate inf. "diagonal": the largest distance
/// possible in the image (its diagonal in spacing units, in the chosen grid metric), the usual
/// challenge convention. "value": the number given as `empty_value`.
struct EmptyPolicy {
  std::string policy = "monai";
  double value = 0.0;
};

/// (B, C) float32 Hausdorff distance (max, or `percentile` of the surface distances), both
/// directions unless `directed`. `y_pred`, `y`: binarized (B, C, *spatial).
at::Tensor compute_hausdorff_distance(const at::Tensor &y_pred, const at::Tensor &y,
                                      bool include_background = false,
                                      const std::string &distance_metric = "euclidean",
                                      std::optional<double> percentile = std::nullopt,
                                      bool directed = false, const SpacingPerItem &spacing = {},
                                      const EmptyPolicy &empty = {});

/// (B, C) float32 mean surface distance, pred -> gt, or over both directions' distances
/// together when `symmetric`.
at::Tensor compute_average_surface_distance(const at::Tensor &y_pred, const at::Tensor &y,
                                            bool include_background = false, bool symmetric = false,
                                            const std::string &distance_metric = "euclidean",
                                            const SpacingPerItem &spacing = {},
                                            const EmptyPolicy &empty = {});

/// (B, C) float32 normalized surface Dice: the fraction of both surfaces within
/// class_thresholds[c] of the other surface (one threshold per kept class). With
/// `use_subvoxels` the fraction is of surface area (see SurfaceDiceMetricOptions).
at::Tensor compute_surface_dice(const at::Tensor &y_pred, const at::Tensor &y,
                                const std::vector<double> &class_thresholds,
                                bool include_background = false,
                                const std::string &distance_metric = "euclidean",
                                const SpacingPerItem &spacing = {}, bool use_subvoxels = false);

/// The base of the three surface metrics: adds the `spacing` call argument.
class SurfaceMetricBase : public ReducedMetric {
public:
  using CumulativeIterationMetric::operator();
  /// One spacing for every item (one value, or one per spatial axis).
  at::Tensor operator()(const at::Tensor &y_pred, const at::Tensor &y, std::vector<double> spacing);
  /// One spacing per batch item.
  at::Tensor operator()(const at::Tensor &y_pred, const at::Tensor &y, SpacingPerItem spacing);

protected:
  using ReducedMetric::ReducedMetric;
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
  virtual at::Tensor compute_spaced(const at::Tensor &y_pred, const at::Tensor &y,
                                    const SpacingPerItem &spacing) = 0;
};

struct HausdorffDistanceMetricOptions {
  TORCH_ARG(bool, include_background) = false;
  TORCH_ARG(std::string, distance_metric) = "euclidean";
  /// None = the maximum; e.g. 95 for HD95 (linear interpolation, like np.percentile).
  TORCH_ARG(std::optional<double>, percentile) = std::nullopt;
  TORCH_ARG(bool, directed) = false;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
  /// Medulla extension, see EmptyPolicy: "monai" | "diagonal" | "value".
  TORCH_ARG(std::string, empty_policy) = "monai";
  TORCH_ARG(double, empty_value) = 0.0;
};

/// Hausdorff distance per (item, class), accumulated over batches.
///
///   med::metrics::HausdorffDistanceMetric hd95(
///       med::metrics::HausdorffDistanceMetricOptions().percentile(95));
///   hd95(pred_onehot, label_onehot, {1.5, 0.8, 2.0});   // spacing in mm
///   at::Tensor mean_hd95 = hd95.aggregate();
class HausdorffDistanceMetric : public SurfaceMetricBase {
public:
  explicit HausdorffDistanceMetric(HausdorffDistanceMetricOptions options = {});
  HausdorffDistanceMetricOptions options;

protected:
  at::Tensor compute_spaced(const at::Tensor &y_pred, const at::Tensor &y,
                            const SpacingPerItem &spacing) override;
};

struct SurfaceDistanceMetricOptions {
  TORCH_ARG(bool, include_background) = false;
  TORCH_ARG(bool, symmetric) = false;
  TORCH_ARG(std::string, distance_metric) = "euclidean";
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
  /// Medulla extension, see EmptyPolicy.
  TORCH_ARG(std::string, empty_policy) = "monai";
  TORCH_ARG(double, empty_value) = 0.0;
};

/// Average surface distance per (item, class).
///
///   med::metrics::SurfaceDistanceMetric asd(
///       med::metrics::SurfaceDistanceMetricOptions().symmetric(true));
class SurfaceDistanceMetric : public SurfaceMetricBase {
public:
  explicit SurfaceDistanceMetric(SurfaceDistanceMetricOptions options = {});
  SurfaceDistanceMetricOptions options;

protected:
  at::Tensor compute_spaced(const at::Tensor &y_pred, const at::Tensor &y,
                            const SpacingPerItem &spacing) override;
};

/// `class_thresholds` (one tolerance per kept class, in spacing units) is required, as in MONAI.
struct SurfaceDiceMetricOptions {
  explicit SurfaceDiceMetricOptions(std::vector<double> class_thresholds)
      : class_thresholds_(std::move(class_thresholds)) {}
  TORCH_ARG(std::vector<double>, class_thresholds);
  TORCH_ARG(bool, include_background) = false;
  TORCH_ARG(std::string, distance_metric) = "euclidean";
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
  /// Weigh each surface element by its area instead of counting surface voxels: the surface
  /// becomes the marching-cubes surface through the 2x2x2 cells of the crop box (contour
  /// pieces of 2x2 cells in 2D), with MONAI's area per cell pattern; 2D and 3D only.
  TORCH_ARG(bool, use_subvoxels) = false;
};

/// Normalized surface Dice (NSD) per (item, class).
///
///   med::metrics::SurfaceDiceMetric nsd(med::metrics::SurfaceDiceMetricOptions({1.0, 2.0}));
class SurfaceDiceMetric : public SurfaceMetricBase {
public:
  explicit SurfaceDiceMetric(SurfaceDiceMetricOptions options);
  SurfaceDiceMetricOptions options;

protected:
  at::Tensor compute_spaced(const at::Tensor &y_pred, const at::Tensor &y,
                            const SpacingPerItem &spacing) override;
};

} // namespace med::metrics
