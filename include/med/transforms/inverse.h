// Undoing transforms from their records alone (MONAI's InvertibleTransform.inverse): each
// invertible transform appends an rt::OpRecord to meta.applied_operations; these functions pop
// records and undo them, restoring the shape, the affine and (for pure voxel moves and pads)
// the values. Records and what each inverse does: docs/transforms-spatial.md.
#pragma once

#include <string>

#include "med/core/dict.h"
#include "med/core/meta_tensor.h"

namespace med::transforms {

/// Undoes the most recent record of `img` (removing it), without the transform object that
/// wrote it. A crop is undone by zero padding (as MONAI), so cropped-away voxels come back as 0.
/// Throws med::Error("inverse", ...) when there is no record, the record's name has no inverse,
/// or the image's shape no longer fits the record.
///
///   auto out = Flip(FlipOptions({0})).eager(img);
///   auto back = inverse(out);   // back.data == img.data, back.meta.affine == img.meta.affine
MetaTensor inverse(const MetaTensor &img);

/// Undoes every record, last first, until none is left.
///
///   auto back = inverseAll(Compose({Orientation("RAS"), SpatialPad({96, 96, 96})}).eager(img));
MetaTensor inverseAll(const MetaTensor &img);

/// inverseAll for each key of a dictionary (what MONAI's Compose.inverse does for transforms
/// applied per key).
///
///   Data back = inverseAll(Compose({Flipd({"image", "label"}, FlipOptions())}).eager(data));
Data inverseAll(const Data &data);

/// Whether inverse() can undo records named `name` (a MONAI class name such as "SpatialPad").
bool isInvertible(const std::string &name);

} // namespace med::transforms
