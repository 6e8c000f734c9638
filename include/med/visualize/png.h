// PNG encoding for images made here (overlays, frame grids, activation maps) and for TensorBoard
// image summaries, which carry PNG bytes. Written directly with zlib: 8-bit grey, RGB or RGBA.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>

namespace med::visualize {

/// Encodes a (C, H, W) uint8 image, C = 1 (grey), 3 (RGB) or 4 (RGBA), H rows of W pixels, as
/// PNG bytes. A 2-D (H, W) uint8 tensor is taken as grey. Throws med::Error("encode_png.image")
/// for another dtype or shape.
///
///   std::string bytes = med::visualize::encode_png(rgb_u8);   // rgb_u8: (3, 64, 64) uint8
std::string encode_png(const at::Tensor &image);

/// encode_png, written to `path` atomically (a temporary file beside it, then renamed).
///
///   med::visualize::write_png("overlay.png", med::visualize::to_uint8(blend, 0, 1));
void write_png(const std::string &path, const at::Tensor &image);

/// Maps values linearly from [vmin, vmax] to [0, 255] (rounded, clipped) as uint8; NaN -> 0.
at::Tensor to_uint8(const at::Tensor &image, double vmin, double vmax);

/// Turns a display image into a (4, H, W) uint8 RGBA image as matplotlib's imshow would draw it:
/// an (H, W) image goes through colormap `cmap` after scaling [vmin, vmax] to [0, 1]; an
/// (H, W, C) image with C = 3 or 4 is scaled to [0, 255] channel by channel (C = 1 is taken as
/// grey). NaN voxels (matshow3d's default margins) become transparent (alpha 0).
///
///   auto r = med::visualize::matshow3d(vol);
///   med::visualize::write_png("grid.png", med::visualize::colorize(r.image, r.vmin, r.vmax));
at::Tensor colorize(const at::Tensor &image, double vmin, double vmax,
                    const std::string &cmap = "gray");

} // namespace med::visualize
