// The geometry of sliding-window inference: where the windows go (scan interval, window starts,
// padding of images smaller than the window) and how their predictions are weighted when they
// are blended (the importance map). Split from the loop itself so the layout can be inspected and
// tested on its own (MONAI 1.4.0 semantics; see docs/inference.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

namespace med::inferers {

/// MONAI's roi_size fallback: an entry <= 0 means "the whole image along that axis". A single
/// entry is repeated for every axis. Throws med::Error (`where`.roi_size) when the count of
/// entries is neither 1 nor the number of spatial axes.
std::vector<int64_t> fallback_roi_size(c10::IntArrayRef roi_size, c10::IntArrayRef image_size,
                                       const std::string &where = "sliding_window_inference");

/// Step between window starts per axis: int(roi * (1 - overlap)), at least 1, and the whole roi
/// when the roi covers the image along that axis (one window, no step). `image_size` is the
/// (padded) size the windows tile; it must be >= roi_size on every axis.
std::vector<int64_t> get_scan_interval(c10::IntArrayRef image_size, c10::IntArrayRef roi_size,
                                       double overlap);

/// Window starts (one row per window, one entry per spatial axis) tiling `image_size` with
/// windows of `patch_size` every `scan_interval`; the last window of each axis is moved back so
/// it ends at the border. Rows are in C order: the first axis varies slowest (MONAI's order).
std::vector<std::vector<int64_t>> dense_patch_slices(c10::IntArrayRef image_size,
                                                     c10::IntArrayRef patch_size,
                                                     c10::IntArrayRef scan_interval);

/// Everything sliding_window_inference decides before calling the predictor, for one input
/// shape. Exposed so callers (and conformance checks) can see the window layout.
///
///   auto l = sliding_window_layout({40, 12, 30}, {16, 16, 16}, 0.25);
///   // l.padded_size == {40, 16, 30}, l.scan_interval == {12, 16, 12}, 9 windows
struct SlidingWindowLayout {
  std::vector<int64_t> image_size;    ///< spatial size of the input
  std::vector<int64_t> roi_size;      ///< window size after the <= 0 fallback
  std::vector<int64_t> pad_before;    ///< symmetric padding up to roi_size: floor(diff / 2)
  std::vector<int64_t> pad_after;     ///< ... and the rest
  std::vector<int64_t> padded_size;   ///< max(image_size, roi_size)
  std::vector<int64_t> scan_interval; ///< see get_scan_interval
  std::vector<std::vector<int64_t>> window_starts; ///< in padded coordinates
};

/// The layout for a spatial `image_size`, window `roi_size` (entries <= 0: whole axis) and
/// `overlap` in [0, 1). Throws med::Error (`where`.parameter) for bad arguments.
SlidingWindowLayout sliding_window_layout(c10::IntArrayRef image_size, c10::IntArrayRef roi_size,
                                          double overlap,
                                          const std::string &where = "sliding_window_inference");

/// Weight of each voxel of a window when overlapping windows are blended. "constant": all ones;
/// "gaussian": product over axes of exp(-x^2 / (2 sigma^2)) with x measured from the window
/// centre and sigma = sigma_scale * patch size (one sigma_scale, or one per axis). Values below
/// max(min(map), 1e-3) are raised to it so that no voxel gets zero weight. Float32 unless
/// `dtype` says otherwise.
///
///   at::Tensor w = compute_importance_map({16, 16, 16}, "gaussian", {0.125});
at::Tensor compute_importance_map(c10::IntArrayRef patch_size, const std::string &mode = "constant",
                                  const std::vector<double> &sigma_scale = {0.125},
                                  c10::ScalarType dtype = c10::kFloat,
                                  const std::string &where = "compute_importance_map");

} // namespace med::inferers
