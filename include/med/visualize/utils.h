// Looking at images and labels: MONAI's blend_images (a label overlay in RGB) and matshow3d (a
// volume laid out as a grid of 2-D frames), returning tensors that png.h writes as PNG files.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>
#include <torch/arg.h>

namespace med::visualize {

/// Overlays a label on an image, as MONAI's blend_images. `image` is channel first with 1 or 3
/// channels, `label` has 1 channel and the same spatial shape (2-D or 3-D). With
/// `rescale_arrays` both are first scaled to [0, 1] (a constant array becomes 0). The label is
/// coloured with `cmap` (see colormap.h) and mixed in with weight `alpha` (the label's weight; 1 -
/// alpha for the image); with `transparent_background`, voxels whose (rescaled) label is 0 keep
/// the image. Returns float32 RGB, shape (3, *spatial).
///
///   at::Tensor rgb = med::visualize::blend_images(img, seg, 0.5, "hsv");   // (3, H, W)
at::Tensor blend_images(const at::Tensor &image, const at::Tensor &label, double alpha = 0.5,
                        const std::string &cmap = "hsv", bool rescale_arrays = true,
                        bool transparent_background = true);

/// blend_images with a per-voxel label weight: `alpha` has the image's spatial shape (leading
/// channel axis of 1 optional).
at::Tensor blend_images(const at::Tensor &image, const at::Tensor &label, const at::Tensor &alpha,
                        const std::string &cmap = "hsv", bool rescale_arrays = true,
                        bool transparent_background = true);

/// Parameters of matshow3d (MONAI's names and defaults; the matplotlib figure arguments have no
/// meaning here). `frames_per_row` 0 means ceil(sqrt(number of frames)); `vmin`/`vmax` default
/// to the NaN-ignoring min/max of the volume; `channel_dim` (0 or 1, with 1, 3 or 4 channels)
/// makes the output keep a trailing colour axis.
struct Matshow3dOptions {
  TORCH_ARG(int64_t, frames_per_row) = 0;
  TORCH_ARG(int64_t, frame_dim) = -3;
  TORCH_ARG(c10::optional<int64_t>, channel_dim) = c10::nullopt;
  TORCH_ARG(c10::optional<double>, vmin) = c10::nullopt;
  TORCH_ARG(c10::optional<double>, vmax) = c10::nullopt;
  TORCH_ARG(int64_t, every_n) = 1;
  TORCH_ARG(double, fill_value) = std::numeric_limits<double>::quiet_NaN();
  TORCH_ARG(int64_t, margin) = 1;
  TORCH_ARG(c10::ScalarType, dtype) = c10::kFloat;
};

/// What matshow3d returns: the grid image (MONAI's `im`) and the display range it would be shown
/// with (pass both to colorize() to get a PNG-ready image).
struct Matshow3dResult {
  at::Tensor image; ///< (rows * (H + 2 margin), cols * (W + 2 margin)) [, channels]
  double vmin = 0;
  double vmax = 0;
};

/// Lays out the frames of `volume` in a grid, as MONAI's matshow3d: `frame_dim` is moved in front
/// of the last two axes and all leading axes are flattened into frames; every `every_n`-th frame
/// is kept; each frame gets `margin` voxels of `fill_value` on every side; frames fill
/// `frames_per_row` columns, row after row, and missing frames at the end are all fill_value.
/// Inputs with fewer than 3 axes get leading axes of 1. Bad arguments throw med::Error
/// ("matshow3d.<parameter>").
///
///   auto r = med::visualize::matshow3d(vol, med::visualize::Matshow3dOptions().every_n(2));
///   med::visualize::write_png("grid.png", med::visualize::colorize(r.image, r.vmin, r.vmax));
Matshow3dResult matshow3d(const at::Tensor &volume, const Matshow3dOptions &options = {});

/// Scales `array` linearly to [minv, maxv] (MONAI's rescale_array); a constant array becomes
/// minv everywhere. float32 result.
at::Tensor rescale_array(const at::Tensor &array, double minv = 0.0, double maxv = 1.0);

} // namespace med::visualize
