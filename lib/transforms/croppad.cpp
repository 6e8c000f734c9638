// SpatialCrop, CenterSpatialCrop, SpatialPad, BorderPad, DivisiblePad, ResizeWithPadOrCrop and
// CropForeground: MONAI's box and width computations, applied by detail::cropThenPad.
#include "med/transforms/croppad.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/spatial.h"

namespace med::transforms {
namespace {

using detail::Widths;

std::vector<int64_t> spatialShape(const at::Tensor &t) {
  return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

std::string str(const std::vector<int64_t> &v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

void checkLength(const std::vector<int64_t> &v, const std::string &where) {
  if (v.empty() || v.size() > 3)
    throw Error(where,
                "expected 1 to 3 values (one per spatial axis), got " + std::to_string(v.size()));
}

// Python's slice(start, end).indices(n) for 0 <= start <= end: the widths cropped per side.
std::array<int64_t, 2> sliceWidths(int64_t start, int64_t end, int64_t n) {
  int64_t s = std::min(start, n), e = std::min(end, n);
  return {s, n - e};
}

// MONAI's Crop.compute_slices on a start/end box (start clipped at 0, end at least start) and
// crop_func's clipping to the image; axes past the box are kept whole.
Widths boxWidths(const std::vector<int64_t> &start, const std::vector<int64_t> &end,
                 const std::vector<int64_t> &shape, const std::string &where) {
  if (start.size() > shape.size())
    throw Error(where, "the box has " + std::to_string(start.size()) + " axes but the image has " +
                           std::to_string(shape.size()) + " spatial axes");
  Widths w(shape.size(), {0, 0});
  for (size_t d = 0; d < start.size(); ++d) {
    int64_t s = std::max<int64_t>(start[d], 0);
    int64_t e = std::max(end[d], s);
    w[d] = sliceWidths(s, e, shape[d]);
  }
  return w;
}

// SpatialPad.compute_pad_width for a target size (already fallen back).
Widths padWidths(const std::vector<int64_t> &size, const std::vector<int64_t> &shape,
                 const std::string &method) {
  Widths w(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t extra = std::max<int64_t>(size[d] - shape[d], 0);
    w[d] = method == "symmetric" ? std::array<int64_t, 2>{extra / 2, extra - extra / 2}
                                 : std::array<int64_t, 2>{0, extra};
  }
  return w;
}

// CenterSpatialCrop.compute_slices: centre = size // 2, start = max(centre - roi // 2, 0).
Widths centerCropWidths(const std::vector<int64_t> &roiUser, const std::vector<int64_t> &shape,
                        const std::string &where) {
  std::vector<int64_t> roi = detail::fallBackTuple(roiUser, shape, where), start(shape.size()),
                       end(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    start[d] = std::max<int64_t>(shape[d] / 2 - roi[d] / 2, 0);
    end[d] = start[d] + roi[d];
  }
  return boxWidths(start, end, shape, where);
}

Widths zeros(size_t n) { return Widths(n, {0, 0}); }

// Applies crop + pad and appends one record with both widths (only the non-empty kinds).
MetaTensor apply(const MetaTensor &img, const std::string &name, const Widths *crop,
                 const Widths *pad, const std::string &mode, double value) {
  const size_t nsp = img.data.dim() - 1;
  rt::OpRecord rec{name, {}, spatialShape(img.data)};
  if (crop)
    detail::putWidths(rec, "cropped", *crop);
  if (pad)
    detail::putWidths(rec, "padded", *pad);
  MetaTensor out = detail::cropThenPad(img, crop ? *crop : zeros(nsp), pad ? *pad : zeros(nsp),
                                       mode, value, name);
  out.meta.applied_operations.push_back(std::move(rec));
  return out;
}

} // namespace

// --- CropPadTransform ----------------------------------------------------------------------------

MetaTensor CropPadTransform::eager(const MetaTensor &img) const {
  detail::spatialRank(img.data, name());
  const CropPadBox b = box(spatialShape(img.data));
  return apply(img, name(), b.crops ? &b.crop : nullptr, b.pads ? &b.pad : nullptr, padMode(),
               padValue());
}

namespace {
// The med.resample padding that reproduces a pad mode on an integer shift, or "" for none.
std::string resamplePadding(const std::string &mode, double value, const std::string &where) {
  const std::string numpy = detail::checkPadMode(mode, where);
  if (numpy == "edge")
    return "border"; // clamping a position into the image reads the nearest edge voxel
  if ((numpy == "constant" && value == 0.0) || numpy == "empty")
    return "zeros";
  if (numpy == "wrap")
    return "wrap"; // periodic at any width, as numpy and torch's circular

  return "";
}
} // namespace

bool CropPadTransform::traceable() const {
  return !resamplePadding(padMode(), padValue(), name() + ".mode").empty();
}

void CropPadTransform::trace(frontend::ChainSpec &chain) const {
  traceResample(*this, chain, "nearest", resamplePadding(padMode(), padValue(), name() + ".mode"),
                chain.output());
}

ResamplePlan CropPadTransform::plan(const std::vector<int64_t> &shape, const Meta &meta,
                                    const double *) const {
  const CropPadBox b = box(shape);
  const int64_t n = static_cast<int64_t>(shape.size());
  const Widths none = zeros(shape.size()), &crop = b.crops ? b.crop : none,
               &pad = b.pads ? b.pad : none;
  ResamplePlan p;
  p.shape.resize(n);
  p.matrix.assign(n * (n + 1), 0.0);
  for (int64_t d = 0; d < n; ++d) {
    p.shape[d] = shape[d] - crop[d][0] - crop[d][1] + pad[d][0] + pad[d][1];
    p.matrix[d * (n + 1) + d] = 1.0;
    p.matrix[d * (n + 1) + n] = static_cast<double>(crop[d][0] - pad[d][0]);
  }
  // As cropThenPad: the crop's translate(start), then the pad's translate(-before).
  Affine cropShift = rt::identityAffine(), padShift = rt::identityAffine();
  for (int64_t d = 0; d < n; ++d) {
    cropShift[d * 4 + 3] = static_cast<double>(crop[d][0]);
    padShift[d * 4 + 3] = -static_cast<double>(pad[d][0]);
  }
  p.meta = meta;
  p.meta.affine = rt::matmul(rt::matmul(meta.affine, cropShift), padShift);
  rt::OpRecord rec{name(), {}, shape};
  if (b.crops)
    detail::putWidths(rec, "cropped", crop);
  if (b.pads)
    detail::putWidths(rec, "padded", pad);
  p.meta.applied_operations.push_back(std::move(rec));
  return p;
}

// --- SpatialCrop ---------------------------------------------------------------------------------

SpatialCrop::SpatialCrop(Options o) : o_(std::move(o)) {
  // MONAI's precedence: roi_center/roi_size win over roi_start/roi_end.
  const bool byCenter = !o_.roi_center().empty() && !o_.roi_size().empty();
  const bool byBox = !o_.roi_start().empty() && !o_.roi_end().empty();
  if (!byCenter && !byBox)
    throw Error(o_.roi_center().empty() && o_.roi_size().empty() ? "SpatialCrop.roi_start"
                                                                 : "SpatialCrop.roi_center",
                "please specify either roi_center and roi_size, or roi_start and roi_end");
  const std::string an = byCenter ? "roi_center" : "roi_start";
  const std::string bn = byCenter ? "roi_size" : "roi_end";
  const auto &a = byCenter ? o_.roi_center() : o_.roi_start();
  const auto &b = byCenter ? o_.roi_size() : o_.roi_end();
  checkLength(a, "SpatialCrop." + an);
  checkLength(b, "SpatialCrop." + bn);
  if (a.size() != b.size() && a.size() != 1 && b.size() != 1)
    throw Error("SpatialCrop." + bn, "has " + std::to_string(b.size()) + " values but " + an +
                                         " has " + std::to_string(a.size()) +
                                         "; expected the same number (or one)");
  if (byCenter)
    for (int64_t s : b)
      if (s < 0)
        throw Error("SpatialCrop.roi_size", "expected sizes >= 0, got " + str(b));
}

CropPadBox SpatialCrop::box(const std::vector<int64_t> &shape) const {
  const bool byCenter = !o_.roi_center().empty() && !o_.roi_size().empty();
  const auto &a = byCenter ? o_.roi_center() : o_.roi_start();
  const auto &b = byCenter ? o_.roi_size() : o_.roi_end();
  const size_t m = std::max(a.size(), b.size()); // MONAI broadcasts a single value
  std::vector<int64_t> start(m), end(m);
  for (size_t d = 0; d < m; ++d) {
    int64_t va = a.size() == 1 ? a[0] : a[d], vb = b.size() == 1 ? b[0] : b[d];
    if (byCenter) {
      // start = max(center - size // 2, 0); end = start + size: a box past the lower border
      // shifts inwards keeping its size, as MONAI.
      start[d] = std::max<int64_t>(va - vb / 2, 0);
      end[d] = start[d] + vb;
    } else {
      start[d] = va;
      end[d] = vb;
    }
  }
  return {boxWidths(start, end, shape, "SpatialCrop"), {}, true, false};
}

// --- CenterSpatialCrop ---------------------------------------------------------------------------

CenterSpatialCrop::CenterSpatialCrop(Options o) : o_(std::move(o)) {
  checkLength(o_.roi_size(), "CenterSpatialCrop.roi_size");
}

CropPadBox CenterSpatialCrop::box(const std::vector<int64_t> &shape) const {
  return {centerCropWidths(o_.roi_size(), shape, "CenterSpatialCrop.roi_size"), {}, true, false};
}

// --- SpatialPad ----------------------------------------------------------------------------------

SpatialPad::SpatialPad(Options o) : o_(std::move(o)) {
  checkLength(o_.spatial_size(), "SpatialPad.spatial_size");
  detail::checkPadMethod(o_.method(), "SpatialPad.method");
  detail::checkPadMode(o_.mode(), "SpatialPad.mode");
}

CropPadBox SpatialPad::box(const std::vector<int64_t> &shape) const {
  Widths pad = padWidths(detail::fallBackTuple(o_.spatial_size(), shape, "SpatialPad.spatial_size"),
                         shape, o_.method());
  return {{}, pad, false, true};
}

// --- BorderPad -----------------------------------------------------------------------------------

BorderPad::BorderPad(Options o) : o_(std::move(o)) {
  const size_t n = o_.spatial_border().size();
  if (n != 1 && n != 2 && n != 3 && n != 4 && n != 6)
    throw Error("BorderPad.spatial_border",
                "expected 1, ndim or 2*ndim values (1, 2, 3, 4 or 6), got " + std::to_string(n));
  detail::checkPadMode(o_.mode(), "BorderPad.mode");
}

CropPadBox BorderPad::box(const std::vector<int64_t> &shape) const {
  const size_t nsp = shape.size();
  std::vector<int64_t> b = o_.spatial_border();
  for (int64_t &v : b)
    v = std::max<int64_t>(v, 0); // MONAI counts negative borders as 0, silently
  Widths pad(nsp);
  if (b.size() == 1 || b.size() == nsp) {
    for (size_t d = 0; d < nsp; ++d)
      pad[d] = {b[b.size() == 1 ? 0 : d], b[b.size() == 1 ? 0 : d]};
  } else if (b.size() == 2 * nsp) {
    for (size_t d = 0; d < nsp; ++d)
      pad[d] = {b[2 * d], b[2 * d + 1]};
  } else {
    throw Error("BorderPad.spatial_border",
                "has " + std::to_string(b.size()) + " values; for an image with " +
                    std::to_string(nsp) + " spatial axes expected 1, " + std::to_string(nsp) +
                    " or " + std::to_string(2 * nsp));
  }
  return {{}, pad, false, true};
}

// --- DivisiblePad --------------------------------------------------------------------------------

DivisiblePad::DivisiblePad(Options o) : o_(std::move(o)) {
  checkLength(o_.k(), "DivisiblePad.k");
  detail::checkPadMethod(o_.method(), "DivisiblePad.method");
  detail::checkPadMode(o_.mode(), "DivisiblePad.mode");
}

CropPadBox DivisiblePad::box(const std::vector<int64_t> &shape) const {
  // compute_divisible_spatial_size: k <= 0 counts as 1 (MONAI's fall_back_tuple to 1).
  std::vector<int64_t> k =
      detail::fallBackTuple(o_.k(), std::vector<int64_t>(shape.size(), 1), "DivisiblePad.k");
  std::vector<int64_t> size(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    size[d] = (shape[d] + k[d] - 1) / k[d] * k[d];
  return {{}, padWidths(size, shape, o_.method()), false, true};
}

// --- ResizeWithPadOrCrop -------------------------------------------------------------------------

ResizeWithPadOrCrop::ResizeWithPadOrCrop(Options o) : o_(std::move(o)) {
  checkLength(o_.spatial_size(), "ResizeWithPadOrCrop.spatial_size");
  detail::checkPadMethod(o_.method(), "ResizeWithPadOrCrop.method");
  detail::checkPadMode(o_.mode(), "ResizeWithPadOrCrop.mode");
}

CropPadBox ResizeWithPadOrCrop::box(const std::vector<int64_t> &shape) const {
  const std::string where = "ResizeWithPadOrCrop.spatial_size";
  Widths crop = centerCropWidths(o_.spatial_size(), shape, where);
  std::vector<int64_t> cropped(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    cropped[d] = shape[d] - crop[d][0] - crop[d][1];
  Widths pad =
      padWidths(detail::fallBackTuple(o_.spatial_size(), cropped, where), cropped, o_.method());
  return {crop, pad, true, true};
}

// --- CropForeground ------------------------------------------------------------------------------

CropForeground::CropForeground(Options o) : o_(std::move(o)) {
  checkLength(o_.margin(), "CropForeground.margin");
  for (int64_t m : o_.margin())
    if (m < 0)
      throw Error("CropForeground.margin", "expected margins >= 0, got " + str(o_.margin()));
  checkLength(o_.k_divisible(), "CropForeground.k_divisible");
  detail::checkPadMode(o_.mode(), "CropForeground.mode");
}

std::pair<std::vector<int64_t>, std::vector<int64_t>>
CropForeground::computeBoundingBox(const at::Tensor &img) const {
  const int64_t nsp = detail::spatialRank(img, name());
  auto shape = spatialShape(img);
  at::Tensor data = img;
  if (!o_.channel_indices().empty()) {
    std::vector<int64_t> idx = o_.channel_indices();
    for (int64_t &c : idx) {
      if (c < -img.size(0) || c >= img.size(0))
        throw Error("CropForeground.channel_indices",
                    "channel " + std::to_string(c) + " is out of range for an image with " +
                        std::to_string(img.size(0)) + " channels");
      c = c < 0 ? c + img.size(0) : c;
    }
    data = img.index_select(0, at::tensor(idx, at::TensorOptions().dtype(at::kLong)));
  }
  at::Tensor mask = o_.select_fn() ? o_.select_fn()(data) : data > 0; // MONAI's is_positive
  if (mask.dim() != data.dim() || mask.size(0) != data.size(0) ||
      spatialShape(mask) != spatialShape(data))
    throw Error("CropForeground.select_fn", "expected a mask of the image's shape");
  mask = (mask.scalar_type() == at::kBool ? mask : mask != 0).any(0);
  // generate_spatial_bounding_box: per axis, the first and last foreground index, widened by
  // the margin and (allow_smaller) clipped to the image; no foreground gives an all-zero box.
  std::vector<int64_t> margin =
      detail::fallBackTuple(o_.margin(), std::vector<int64_t>(nsp, 0), "CropForeground.margin");
  std::vector<int64_t> start(nsp, 0), end(nsp, 0);
  for (int64_t d = 0; d < nsp; ++d) {
    at::Tensor line = mask.movedim(d, 0).reshape({shape[d], -1}).any(1);
    at::Tensor nz = line.nonzero().flatten();
    if (nz.numel() == 0)
      return {std::vector<int64_t>(nsp, 0), std::vector<int64_t>(nsp, 0)};
    int64_t lo = nz[0].item<int64_t>() - margin[d], hi = nz[-1].item<int64_t>() + margin[d] + 1;
    if (o_.allow_smaller()) {
      lo = std::max<int64_t>(lo, 0);
      hi = std::min(hi, shape[d]);
    }
    start[d] = lo;
    end[d] = hi;
  }
  // compute_divisible_spatial_size (k <= 0 counts as 1), grown symmetrically (floor before).
  std::vector<int64_t> k = detail::fallBackTuple(o_.k_divisible(), std::vector<int64_t>(nsp, 1),
                                                 "CropForeground.k_divisible");
  for (int64_t d = 0; d < nsp; ++d) {
    int64_t size = end[d] - start[d];
    int64_t grown = (size + k[d] - 1) / k[d] * k[d];
    int64_t extra = grown - size; // >= 0
    start[d] -= extra / 2;
    end[d] = start[d] + grown;
  }
  return {start, end};
}

MetaTensor CropForeground::eager(const MetaTensor &img) const {
  auto [start, end] = computeBoundingBox(img.data);
  auto shape = spatialShape(img.data);
  Widths crop = boxWidths(start, end, shape, name());
  Widths pad(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    pad[d] = {std::max<int64_t>(-start[d], 0), std::max<int64_t>(end[d] - shape[d], 0)};
  return apply(img, name(), &crop, &pad, o_.mode(), o_.value());
}

namespace detail {

std::vector<int64_t> fallBackTuple(const std::vector<int64_t> &user,
                                   const std::vector<int64_t> &dflt, const std::string &where) {
  if (user.size() != 1 && user.size() != dflt.size())
    throw Error(where, "expected 1 or " + std::to_string(dflt.size()) +
                           " values (one per spatial axis), got " + std::to_string(user.size()) +
                           " " + str(user));
  std::vector<int64_t> out(dflt.size());
  for (size_t d = 0; d < dflt.size(); ++d) {
    int64_t u = user.size() == 1 ? user[0] : user[d];
    out[d] = u > 0 ? u : dflt[d];
  }
  return out;
}

} // namespace detail

} // namespace med::transforms
