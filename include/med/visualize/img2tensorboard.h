// Images of a batch into TensorBoard (MONAI's plot_2d_or_3d_image): 2-D images as they are,
// 3-D volumes as a grid of their frames.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

#include "med/visualize/summary_writer.h"

namespace med::visualize {

/// Writes item `index` of `data` (B, [C,] spatial...) to `writer` at `step`, as MONAI's
/// plot_2d_or_3d_image:
///  - item (H, W): scaled to [0, 1], tag "<tag>_HW";
///  - item (C, H, W): RGB as is when C == 3 and max_channels == 3 (tag "<tag>_CHW"), else the
///    first max_channels channels, each scaled to [0, 1], tags "<tag>_HW_<j>";
///  - item (..., H, W, D): leading axes flattened into channels; for each of the first
///    max_channels channels, the frames along `frame_dim` (counted on the batch's axes as MONAI:
///    -3 = first spatial axis; a positive value counts the batch and channel axes) laid out in a
///    matshow3d grid (at most `max_frames` frames, evenly subsampled, no margin), scaled to
///    [0, 1], tag "<tag>_HWD_<j>". MONAI writes an animated GIF here; TensorBoard's image tab
///    shows this grid instead.
///
///   plot_2d_or_3d_image(pred, epoch, writer, 0, 1, -3, 64, "output");
void plot_2d_or_3d_image(const at::Tensor &data, int64_t step, SummaryWriter &writer,
                         int64_t index = 0, int64_t max_channels = 1, int64_t frame_dim = -3,
                         int64_t max_frames = 24, const std::string &tag = "output");

} // namespace med::visualize
