// Exact distance transforms of binary masks (scipy.ndimage's distance_transform_edt and
// distance_transform_cdt), used by the surface-distance metrics and by the boundary losses.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace med::metrics {

/// For every nonzero voxel of `mask` (any dtype, nonzero = foreground, any number of spatial
/// dimensions >= 1, no batch or channel dimension), the exact Euclidean distance to the nearest
/// zero voxel, with voxel size `spacing` (one value per dimension, or one value for all; empty
/// means 1). Zero voxels get 0. Returns float64 of mask's shape; all inf when mask has no zero.
/// Linear time: one lower envelope of parabolas per line and axis (Felzenszwalb-Huttenlocher),
/// lines in parallel.
///
///   at::Tensor d = med::metrics::distance_transform_edt(seg.logical_not(), {1.5, 0.8, 2.0});
at::Tensor distance_transform_edt(const at::Tensor &mask, std::vector<double> spacing = {});

/// Like distance_transform_edt but with a grid metric: "chessboard" (L-inf, 3^d neighbourhood)
/// or "taxicab" (L1, face neighbours), in voxel steps (scipy ignores spacing here, and so do
/// we). Exact by two raster passes. Returns float64; all inf when mask has no zero.
at::Tensor distance_transform_cdt(const at::Tensor &mask, const std::string &metric = "chessboard");

} // namespace med::metrics
