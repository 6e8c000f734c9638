// ResampleToMatch (MONAI 1.4 semantics), as a SpatialResample onto the destination's grid.
#include "med/transforms/resample_match.h"

#include <vector>

#include "med/core/error.h"
#include "med/transforms/spatial.h"

namespace med::transforms {

ResampleToMatch::ResampleToMatch(Options o) : o_(std::move(o)) {
  // Validates mode and padding_mode now, under SpatialResample's parameter names.
  SpatialResample(SpatialResampleOptions()
                      .mode(o_.mode())
                      .padding_mode(o_.padding_mode())
                      .align_corners(o_.align_corners()));
}

MetaTensor ResampleToMatch::operator()(const MetaTensor &img, const MetaTensor &img_dst) const {
  if (!img.data.defined())
    throw Error(name() + ".img", "the image tensor is undefined");
  if (!img_dst.data.defined())
    throw Error(name() + ".img_dst", "the destination image tensor is undefined");
  const int64_t n = detail::spatialRank(img.data, name() + ".img");
  if (detail::spatialRank(img_dst.data, name() + ".img_dst") != n)
    throw Error(name() + ".img_dst", "expected " + std::to_string(n) +
                                         " spatial axes like img, got " +
                                         std::to_string(img_dst.data.dim() - 1));
  const rt::Affine &a = img_dst.meta.affine;
  std::vector<int64_t> size(img_dst.data.sizes().begin() + 1, img_dst.data.sizes().end());
  SpatialResample resample(SpatialResampleOptions()
                               .dst_affine(std::vector<double>(a.begin(), a.end()))
                               .spatial_size(size)
                               .mode(o_.mode())
                               .padding_mode(o_.padding_mode())
                               .align_corners(o_.align_corners()));
  MetaTensor out = resample.eager(img);
  // MONAI replaces the metadata with the destination's but keeps the source's file name; the
  // applied operations (img's plus the resample record) are not part of that metadata.
  Meta meta = img_dst.meta;
  meta.filename_or_obj = img.meta.filename_or_obj;
  meta.applied_operations = std::move(out.meta.applied_operations);
  meta.affine = a;
  out.meta = std::move(meta);
  return out;
}

} // namespace med::transforms
