// inverse / inverseAll: undo rt::OpRecords from their parameters alone.
#include "med/transforms/inverse.h"

#include <set>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/croppad.h"
#include "med/transforms/resample.h"
#include "med/transforms/spatial.h"

namespace med::transforms {
namespace {

using detail::recordParam;
using detail::Widths;

std::string str(const std::vector<int64_t> &v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

std::vector<int64_t> spatialShape(const at::Tensor &t) {
  return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

const std::set<std::string> &cropNames() {
  static const std::set<std::string> s = {"SpatialCrop", "CenterSpatialCrop"};
  return s;
}
const std::set<std::string> &padNames() {
  static const std::set<std::string> s = {"SpatialPad", "BorderPad", "DivisiblePad"};
  return s;
}
const std::set<std::string> &cropPadNames() {
  static const std::set<std::string> s = {"ResizeWithPadOrCrop", "CropForeground"};
  return s;
}

void shapeMismatch(const rt::OpRecord &r, const std::vector<int64_t> &expected,
                   const std::vector<int64_t> &got) {
  throw Error("inverse", "the image's spatial shape " + str(got) + " does not fit the record of '" +
                             r.name + "' (expected " + str(expected) +
                             "); was the image changed without a record after it?");
}

// The signed permutation that undoes (perm, flip): original axis perm[j] reads current axis j.
void invert(std::vector<int64_t> &perm, std::vector<bool> &flip) {
  std::vector<int64_t> p(perm.size());
  std::vector<bool> f(flip.size());
  for (size_t j = 0; j < perm.size(); ++j) {
    p[perm[j]] = static_cast<int64_t>(j);
    f[perm[j]] = flip[j];
  }
  perm = p;
  flip = f;
}

// The forward signed permutation a Flip / Rotate90 / Orientation record describes.
void forwardAxes(const rt::OpRecord &r, int64_t nsp, std::vector<int64_t> &perm,
                 std::vector<bool> &flip) {
  perm.assign(nsp, 0);
  flip.assign(nsp, false);
  if (r.name == "Flip") {
    for (int64_t d = 0; d < nsp; ++d) {
      perm[d] = d;
      flip[d] = recordParam(r, "axis" + std::to_string(d)) != 0.0;
    }
  } else if (r.name == "Rotate90") {
    auto k = static_cast<int64_t>(recordParam(r, "k"));
    auto a = static_cast<int64_t>(recordParam(r, "axis0"));
    auto b = static_cast<int64_t>(recordParam(r, "axis1"));
    if (k < 0 || k > 3 || a < 0 || b < 0 || a >= nsp || b >= nsp || a == b)
      throw Error("inverse", "the record of 'Rotate90' has invalid k or axes");
    detail::rotate90Axes(nsp, k, a, b, perm, flip);
  } else { // Orientation: input axis i went to output axis ornt<i>_axis
    std::vector<bool> seen(nsp, false);
    for (int64_t i = 0; i < nsp; ++i) {
      auto j = static_cast<int64_t>(recordParam(r, "ornt" + std::to_string(i) + "_axis"));
      if (j < 0 || j >= nsp || seen[j])
        throw Error("inverse", "the record of 'Orientation' is not a permutation");
      seen[j] = true;
      perm[j] = i;
      flip[j] = recordParam(r, "ornt" + std::to_string(i) + "_flip") < 0;
    }
  }
}

} // namespace

bool isInvertible(const std::string &name) {
  return name == "Flip" || name == "Rotate90" || name == "Orientation" || cropNames().count(name) ||
         padNames().count(name) || cropPadNames().count(name) || detail::isResampleRecord(name);
}

MetaTensor inverse(const MetaTensor &img) {
  if (img.meta.applied_operations.empty())
    throw Error("inverse", "the image has no applied operations to undo");
  const rt::OpRecord rec = img.meta.applied_operations.back();
  if (!isInvertible(rec.name))
    throw Error("inverse",
                "no inverse for applied operation '" + rec.name +
                    "' (invertible: Flip, Rotate90, Orientation, SpatialCrop, "
                    "CenterSpatialCrop, SpatialPad, BorderPad, DivisiblePad, "
                    "ResizeWithPadOrCrop, CropForeground, Spacing, SpatialResample, Affine, "
                    "Rotate, Zoom, Resize)");
  const int64_t nsp = detail::spatialRank(img.data, "inverse");
  if (static_cast<int64_t>(rec.orig_size.size()) != nsp)
    shapeMismatch(rec, rec.orig_size, spatialShape(img.data));
  MetaTensor cur = img;
  cur.meta.applied_operations.pop_back();

  MetaTensor out;
  if (detail::isResampleRecord(rec.name)) {
    out = detail::invertResample(rec, cur);
  } else if (rec.name == "Flip" || rec.name == "Rotate90" || rec.name == "Orientation") {
    std::vector<int64_t> perm;
    std::vector<bool> flip;
    forwardAxes(rec, nsp, perm, flip);
    std::vector<int64_t> expected(nsp);
    for (int64_t j = 0; j < nsp; ++j)
      expected[j] = rec.orig_size[perm[j]];
    if (expected != spatialShape(img.data))
      shapeMismatch(rec, expected, spatialShape(img.data));
    invert(perm, flip);
    out = detail::permuteFlip(cur, perm, flip);
  } else {
    // Crops are undone by zero padding (MONAI's BorderPad(cropped)), pads by cropping; a
    // combined record undoes its pad first, then its crop.
    const bool hasCrop = !padNames().count(rec.name), hasPad = !cropNames().count(rec.name);
    Widths crop = hasCrop ? detail::getWidths(rec, "cropped", nsp) : Widths(nsp, {0, 0});
    Widths pad = hasPad ? detail::getWidths(rec, "padded", nsp) : Widths(nsp, {0, 0});
    std::vector<int64_t> expected(nsp);
    for (int64_t d = 0; d < nsp; ++d)
      expected[d] = rec.orig_size[d] - crop[d][0] - crop[d][1] + pad[d][0] + pad[d][1];
    if (expected != spatialShape(img.data))
      shapeMismatch(rec, expected, spatialShape(img.data));
    out = detail::cropThenPad(cur, pad, crop, "constant", 0.0, "inverse");
  }
  if (spatialShape(out.data) != rec.orig_size)
    shapeMismatch(rec, rec.orig_size, spatialShape(out.data));
  return out;
}

MetaTensor inverseAll(const MetaTensor &img) {
  MetaTensor cur = img;
  while (!cur.meta.applied_operations.empty())
    cur = inverse(cur);
  return cur;
}

Data inverseAll(const Data &data) {
  Data out;
  for (const auto &[key, img] : data) {
    try {
      out[key] = inverseAll(img);
    } catch (const Error &e) {
      throw Error("inverse[" + key + "]", e.what());
    }
  }
  return out;
}

} // namespace med::transforms
