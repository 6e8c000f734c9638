// The surface metrics' implementations with the name used in error messages: the public
// compute_* functions pass their own name, the metric classes pass the MONAI class name.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "med/metrics/surface_distance.h"

namespace med::metrics::detail {

/// In place: `data` (contiguous, `shape`) holds 0 at feature voxels and +inf elsewhere; on return
/// each voxel holds its squared Euclidean distance (axis steps scaled by `spacing`) to the
/// nearest feature voxel, inf when there is none. The exact separable transform behind
/// distance_transform_edt; callers that need few distances take square roots themselves.
void squared_edt(double *data, const std::vector<int64_t> &shape,
                 const std::vector<double> &spacing);
/// squared_edt where only the voxels flagged in `wanted` (raster order, like `data`) are read
/// afterwards: those hold their squared distances on return, the others are left unspecified.
/// Planes and lines without a wanted voxel are skipped in the later passes, so a surface metric
/// pays for the lines its surface crosses rather than for the whole box.
void squared_edt_at(double *data, const std::vector<int64_t> &shape,
                    const std::vector<double> &spacing, const uint8_t *wanted);

/// Two masks cut to MONAI's crop box: the bounding box of pred | gt grown by one voxel on each
/// side, zero where it leaves the image. Buffers are raster order over `box` (the shape as three
/// extents with `fake` leading ones); `shape` is the box in the masks' rank. When both masks are
/// empty, `empty` is set, `shape` is the masks' shape and the buffers are left empty.
struct CroppedMasks {
  std::vector<int64_t> shape;
  std::array<int64_t, 3> box{1, 1, 1};
  int64_t fake = 0;
  bool empty = false;
  std::vector<uint8_t> pred, gt;
};

/// CroppedMasks of two masks of rank 1 to 3 and equal shape (one pass over each).
CroppedMasks cropped_masks(const at::Tensor &pred, const at::Tensor &gt);

/// The surface voxels (mask XOR cross erosion) of one prediction/ground-truth pair inside
/// MONAI's crop box: the bounding box of pred | gt grown by one voxel, zero outside the image.
/// When both masks are empty the box is the whole image and both flag arrays are all zero.
struct CroppedEdges {
  std::vector<int64_t> shape;    ///< the box's shape (the masks' rank)
  std::vector<uint8_t> pred, gt; ///< surface flags in raster order over the box
  int64_t predCount = 0, gtCount = 0;
};

/// CroppedEdges of two bool masks of rank 1 to 3 and equal shape, in one pass over each mask
/// plus one over the box (no intermediate tensors).
CroppedEdges cropped_edges(const at::Tensor &pred, const at::Tensor &gt);

/// Distances from each surface voxel of pred (`fromPred`) or gt to the nearest surface voxel of
/// the other, in raster order, with get_surface_distance's rules for empty sides.
/// MONAI's sub-voxel surfaces (use_subvoxels): each 2x2(x2) cell of the crop box, coded by
/// which of its corners are inside, is a surface cell when it is neither all in nor all out.
/// `edges` holds those cells (the box less one per axis); `predAreas` / `gtAreas` the surface
/// area (3D) or contour length (2D) of each flagged cell in raster order, for voxel `spacing`.
struct SubvoxelEdges {
  CroppedEdges edges;
  std::vector<double> predAreas, gtAreas;
};

/// SubvoxelEdges of two bool masks of rank 2 or 3 (`owner` names the caller in errors).
SubvoxelEdges subvoxel_edges(const at::Tensor &pred, const at::Tensor &gt,
                             const std::vector<double> &spacing, const std::string &owner);

/// Surface area (3D, 256 entries) or contour length (2D, 16 entries) per neighbourhood code for
/// `spacing`; code bit 2^(n-1-i) is corner i of the cell in raster order.
std::vector<double> subvoxel_measure_table(const std::vector<double> &spacing);

std::vector<double> edge_distances(const CroppedEdges &e, bool fromPred, const std::string &metric,
                                   const std::vector<double> &spacing);

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
