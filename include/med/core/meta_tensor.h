// MetaTensor: an image tensor plus its metadata, MONAI's central data type.
#pragma once

#include <ATen/core/Tensor.h>

#include "med/runtime/meta.h"

namespace med {

using rt::Affine;
using rt::Meta;

/// An `at::Tensor` in MONAI's layout (channel first once EnsureChannelFirst ran, then the spatial
/// axes x, y, z = i, j, k of the file) and its `Meta` (RAS affine, source, applied operations).
///
///   med::MetaTensor img = med::io::LoadImage()("ch2.nii.gz");   // (181, 217, 181) uint8
///   img.meta.affine;                                             // voxel -> RAS, float64
struct MetaTensor {
  at::Tensor data;
  Meta meta;

  MetaTensor() = default;
  MetaTensor(at::Tensor t, Meta m = {}) : data(std::move(t)), meta(std::move(m)) {}
  /// Shares the metadata, swaps the data (what a transform that keeps geometry returns).
  MetaTensor withData(at::Tensor t) const { return MetaTensor(std::move(t), meta); }
};

} // namespace med
