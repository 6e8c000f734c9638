// ResampleToMatch: brings one image onto the voxel grid of another (MONAI's ResampleToMatch),
// e.g. a PET volume onto its CT, or a prediction back onto the original image's grid.
#pragma once

#include <string>

#include <torch/arg.h>

#include "med/transforms/resample.h"

namespace med::transforms {

/// Options of ResampleToMatch: interpolation as SpatialResample (`mode` "bilinear" | "nearest" |
/// "bicubic", `padding_mode` "zeros" | "border" | "reflection", `align_corners`).
struct ResampleToMatchOptions {
  ResampleToMatchOptions() = default;
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "border";
  TORCH_ARG(bool, align_corners) = false;
};

/// MONAI ResampleToMatch: SpatialResample of `img` with dst_affine = img_dst's affine and
/// spatial_size = img_dst's spatial shape (computed in float64). The result's metadata is
/// img_dst's (affine, original affine, spatial shape, channel dim) except the source file name
/// and the applied operations, which stay img's, plus a "SpatialResample" record so that
/// inverse() maps it back. Takes two images, so it is called directly rather than placed in a
/// Compose (run on the host, as MONAI does).
///
///   ResampleToMatch match(ResampleToMatchOptions().mode("nearest"));
///   MetaTensor label_on_ct = match(label, ct);
class ResampleToMatch {
public:
  using Options = ResampleToMatchOptions;
  explicit ResampleToMatch(Options o = {});
  std::string name() const { return "ResampleToMatch"; }
  MetaTensor operator()(const MetaTensor &img, const MetaTensor &img_dst) const;

private:
  Options o_;
};

} // namespace med::transforms
