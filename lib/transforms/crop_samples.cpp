// RandCropByPosNegLabel, RandCropByLabelClasses and RandWeightedCrop: MONAI's centre sampling
// (map_binary_to_indices, map_classes_to_indices, generate_pos_neg_label_crop_centers,
// generate_label_classes_crop_centers, weighted_patch_samples, correct_crop_centers) with draws
// from rt::Rng, then SpatialCrop.
#include "med/transforms/crop_samples.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"

namespace med::transforms {
namespace {

std::string str(const std::vector<int64_t> &v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

void checkNumSamples(int64_t n, const std::string &where) {
  if (n < 1)
    throw Error(where, "expected at least 1 sample, got " + std::to_string(n));
}

void checkSizeCount(const std::vector<int64_t> &v, const std::string &where) {
  if (v.empty() || v.size() > 3)
    throw Error(where,
                "expected 1 to 3 values (one per spatial axis), got " + std::to_string(v.size()));
}

// An integer uniform in [0, n) from u in [0, 1).
int64_t pick(double u, int64_t n) {
  return std::min(n - 1, static_cast<int64_t>(std::floor(u * static_cast<double>(n))));
}

CropCenter unravel(int64_t idx, const std::vector<int64_t> &shape) {
  CropCenter c(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    c[d] = idx % shape[d];
    idx /= shape[d];
  }
  return c;
}

int64_t numel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  return n;
}

// Flat spatial indices (int64, CPU, contiguous) where `mask` (spatial shape) is true.
at::Tensor flatNonzero(const at::Tensor &mask) {
  return at::nonzero(mask.reshape({-1})).reshape({-1}).contiguous();
}

at::Tensor indicesTensor(const std::vector<int64_t> &v, int64_t n, const std::string &where) {
  for (int64_t i : v)
    if (i < 0 || i >= n)
      throw Error(where, "index " + std::to_string(i) + " is outside the image (" +
                             std::to_string(n) + " voxels)");
  return at::tensor(v, at::kLong);
}

// (image > threshold) in any channel, over the spatial shape.
at::Tensor imageMask(const MetaTensor *image, double threshold, const std::vector<int64_t> &shape,
                     const std::string &where) {
  if (detail::spatialShapeOf(*image, where) != shape)
    throw Error(where, "the image's spatial shape " + str(detail::spatialShapeOf(*image, where)) +
                           " differs from the label's " + str(shape));
  return (image->data.cpu() > threshold).any(0);
}

// correct_crop_centers, then the crop.
std::vector<MetaTensor> cropAll(const MetaTensor &img, const std::vector<CropCenter> &centers,
                                const std::vector<int64_t> &sourceShape,
                                const std::vector<int64_t> &userSize, const std::string &name) {
  auto shape = detail::spatialShapeOf(img, name);
  if (shape != sourceShape)
    throw Error(name, "the image's spatial shape " + str(shape) + " differs from the label's " +
                          str(sourceShape));
  auto size = detail::cropSize(userSize, shape, name + ".spatial_size");
  std::vector<MetaTensor> out;
  out.reserve(centers.size());
  for (const CropCenter &c : centers)
    out.push_back(detail::cropAround(img, c, size));
  return out;
}

} // namespace

namespace detail {

std::vector<int64_t> spatialShapeOf(const MetaTensor &img, const std::string &where) {
  spatialRank(img.data, where);
  return std::vector<int64_t>(img.data.sizes().begin() + 1, img.data.sizes().end());
}

std::vector<int64_t> cropSize(const std::vector<int64_t> &user, const std::vector<int64_t> &shape,
                              const std::string &where) {
  return fallBackTuple(user, shape, where);
}

CropCenter correctCropCenter(CropCenter center, const std::vector<int64_t> &size,
                             const std::vector<int64_t> &shape, bool allow_smaller,
                             const std::string &where) {
  for (size_t d = 0; d < shape.size(); ++d)
    if (size[d] > shape[d] && !allow_smaller)
      throw Error(where, "the crop size " + str(size) + " is larger than the image " + str(shape) +
                             " (set allow_smaller to crop less)");
  for (size_t d = 0; d < shape.size(); ++d) {
    const int64_t s = std::min(size[d], shape[d]);
    // MONAI: valid centres [s // 2, uint16(shape + 1 - s / 2)), at least one.
    const int64_t lo = s / 2;
    int64_t hi = static_cast<int64_t>(std::floor(static_cast<double>(shape[d]) + 1.0 - s / 2.0));
    if (hi == lo)
      hi += 1;
    center[d] = std::min(std::max(center[d], lo), hi - 1);
  }
  return center;
}

MetaTensor cropAround(const MetaTensor &img, const CropCenter &center,
                      const std::vector<int64_t> &size) {
  return SpatialCrop(SpatialCropOptions().roi_center(center).roi_size(size)).eager(img);
}

} // namespace detail

// --- RandCropByPosNegLabel -----------------------------------------------------------------------

RandCropByPosNegLabel::RandCropByPosNegLabel(Options o) : o_(std::move(o)) {
  const std::string n = "RandCropByPosNegLabel.";
  checkSizeCount(o_.spatial_size(), n + "spatial_size");
  checkNumSamples(o_.num_samples(), n + "num_samples");
  if (!(o_.pos() >= 0.0) || !std::isfinite(o_.pos()))
    throw Error(n + "pos", "expected a finite number >= 0, got " + std::to_string(o_.pos()));
  if (!(o_.neg() >= 0.0) || !std::isfinite(o_.neg()))
    throw Error(n + "neg", "expected a finite number >= 0, got " + std::to_string(o_.neg()));
  if (o_.pos() + o_.neg() == 0.0)
    throw Error(n + "pos", "pos and neg are both 0; at least one must be positive");
  if (o_.fg_indices().has_value() != o_.bg_indices().has_value())
    throw Error(n + (o_.fg_indices() ? "bg_indices" : "fg_indices"),
                "fg_indices and bg_indices are used together; give both or neither");
}

std::vector<CropCenter> RandCropByPosNegLabel::centers(const MetaTensor &label,
                                                       const MetaTensor *image,
                                                       const rt::RandomKey &key) const {
  const std::string n = "RandCropByPosNegLabel";
  auto shape = detail::spatialShapeOf(label, n + ".label");
  auto size = detail::cropSize(o_.spatial_size(), shape, n + ".spatial_size");
  at::Tensor fg, bg;
  if (o_.fg_indices()) {
    fg = indicesTensor(*o_.fg_indices(), numel(shape), n + ".fg_indices");
    bg = indicesTensor(*o_.bg_indices(), numel(shape), n + ".bg_indices");
  } else { // map_binary_to_indices
    at::Tensor lab = (label.data.cpu() != 0).any(0);
    fg = flatNonzero(lab);
    at::Tensor notLab = at::logical_not(lab);
    bg = flatNonzero(
        image ? at::logical_and(notLab, imageMask(image, o_.image_threshold(), shape, n + ".image"))
              : notLab);
  }
  if (fg.numel() == 0 && bg.numel() == 0)
    throw Error(n + ".label", "no sampling location available: no foreground voxel and no "
                              "background voxel (above image_threshold)");
  double ratio = o_.pos() / (o_.pos() + o_.neg());
  if (fg.numel() == 0 || bg.numel() == 0) // MONAI warns and samples the class that exists
    ratio = fg.numel() == 0 ? 0.0 : 1.0;
  const int64_t *fgp = fg.data_ptr<int64_t>(), *bgp = bg.data_ptr<int64_t>();
  rt::Rng rng(key);
  std::vector<CropCenter> out;
  for (int64_t i = 0; i < o_.num_samples(); ++i) {
    rt::Rng r = rng.child(static_cast<uint32_t>(i));
    const bool useFg = r.uniform() < ratio;
    const int64_t idx =
        useFg ? fgp[pick(r.uniform(), fg.numel())] : bgp[pick(r.uniform(), bg.numel())];
    out.push_back(detail::correctCropCenter(unravel(idx, shape), size, shape, o_.allow_smaller(),
                                            n + ".spatial_size"));
  }
  return out;
}

std::vector<MetaTensor> RandCropByPosNegLabel::operator()(const MetaTensor &img,
                                                          const MetaTensor &label,
                                                          const rt::RandomKey &key) const {
  return cropAll(img, centers(label, nullptr, key), detail::spatialShapeOf(label, "label"),
                 o_.spatial_size(), "RandCropByPosNegLabel");
}

std::vector<MetaTensor> RandCropByPosNegLabel::operator()(const MetaTensor &img,
                                                          const MetaTensor &label,
                                                          const MetaTensor &image,
                                                          const rt::RandomKey &key) const {
  return cropAll(img, centers(label, &image, key), detail::spatialShapeOf(label, "label"),
                 o_.spatial_size(), "RandCropByPosNegLabel");
}

// --- RandCropByLabelClasses ----------------------------------------------------------------------

RandCropByLabelClasses::RandCropByLabelClasses(Options o) : o_(std::move(o)) {
  const std::string n = "RandCropByLabelClasses.";
  checkSizeCount(o_.spatial_size(), n + "spatial_size");
  checkNumSamples(o_.num_samples(), n + "num_samples");
  if (o_.ratios())
    for (double r : *o_.ratios())
      if (!(r >= 0.0) || !std::isfinite(r))
        throw Error(n + "ratios", "expected finite ratios >= 0, got " + std::to_string(r));
  if (o_.num_classes() && *o_.num_classes() < 1)
    throw Error(n + "num_classes",
                "expected at least 1 class, got " + std::to_string(*o_.num_classes()));
}

std::vector<CropCenter> RandCropByLabelClasses::centers(const MetaTensor &label,
                                                        const MetaTensor *image,
                                                        const rt::RandomKey &key) const {
  const std::string n = "RandCropByLabelClasses";
  auto shape = detail::spatialShapeOf(label, n + ".label");
  auto size = detail::cropSize(o_.spatial_size(), shape, n + ".spatial_size");
  std::vector<at::Tensor> indices;
  if (o_.indices()) {
    for (const auto &v : *o_.indices())
      indices.push_back(indicesTensor(v, numel(shape), n + ".indices"));
  } else { // map_classes_to_indices
    at::Tensor lab = label.data.cpu();
    const int64_t channels = lab.size(0);
    if (channels == 1 && !o_.num_classes())
      throw Error(n + ".num_classes", "a one-channel label is an index map (not one-hot): "
                                      "num_classes is needed");
    const int64_t classes = channels == 1 ? *o_.num_classes() : channels;
    std::optional<at::Tensor> mask;
    if (image)
      mask = imageMask(image, o_.image_threshold(), shape, n + ".image");
    for (int64_t c = 0; c < classes; ++c) {
      at::Tensor m = channels == 1 ? (lab[0] == static_cast<double>(c)) : (lab[c] != 0);
      indices.push_back(flatNonzero(mask ? at::logical_and(m, *mask) : m));
    }
  }
  std::vector<double> ratios = o_.ratios() ? *o_.ratios() : std::vector<double>(indices.size(), 1);
  if (ratios.size() != indices.size())
    throw Error(n + ".ratios", "got " + std::to_string(ratios.size()) + " ratios for " +
                                   std::to_string(indices.size()) + " classes");
  double total = 0.0;
  for (size_t c = 0; c < ratios.size(); ++c) {
    if (indices[c].numel() == 0 && ratios[c] != 0.0) {
      ratios[c] = 0.0;
      if (o_.warn())
        std::cerr << "RandCropByLabelClasses: no available indices of class " << c
                  << " to crop, setting the crop ratio of this class to zero.\n";
    }
    total += ratios[c];
  }
  if (total == 0.0)
    throw Error(n + ".ratios", "no class with a non-zero ratio has any voxel to crop around");
  rt::Rng rng(key);
  std::vector<CropCenter> out;
  for (int64_t i = 0; i < o_.num_samples(); ++i) {
    rt::Rng r = rng.child(static_cast<uint32_t>(i));
    // the class: first whose cumulative ratio passes u * total (zero ratios are never chosen)
    const double u = r.uniform() * total;
    size_t c = 0;
    double acc = 0.0;
    for (size_t k = 0; k < ratios.size(); ++k) {
      if (ratios[k] == 0.0)
        continue;
      c = k;
      acc += ratios[k];
      if (u < acc)
        break;
    }
    const at::Tensor &ind = indices[c];
    const int64_t idx = ind.data_ptr<int64_t>()[pick(r.uniform(), ind.numel())];
    out.push_back(detail::correctCropCenter(unravel(idx, shape), size, shape, o_.allow_smaller(),
                                            n + ".spatial_size"));
  }
  return out;
}

std::vector<MetaTensor> RandCropByLabelClasses::operator()(const MetaTensor &img,
                                                           const MetaTensor &label,
                                                           const rt::RandomKey &key) const {
  return cropAll(img, centers(label, nullptr, key), detail::spatialShapeOf(label, "label"),
                 o_.spatial_size(), "RandCropByLabelClasses");
}

std::vector<MetaTensor> RandCropByLabelClasses::operator()(const MetaTensor &img,
                                                           const MetaTensor &label,
                                                           const MetaTensor &image,
                                                           const rt::RandomKey &key) const {
  return cropAll(img, centers(label, &image, key), detail::spatialShapeOf(label, "label"),
                 o_.spatial_size(), "RandCropByLabelClasses");
}

// --- RandWeightedCrop ----------------------------------------------------------------------------

RandWeightedCrop::RandWeightedCrop(Options o) : o_(std::move(o)) {
  checkSizeCount(o_.spatial_size(), "RandWeightedCrop.spatial_size");
  checkNumSamples(o_.num_samples(), "RandWeightedCrop.num_samples");
}

std::vector<CropCenter> RandWeightedCrop::centers(const MetaTensor &weight_map,
                                                  const rt::RandomKey &key) const {
  auto shape = detail::spatialShapeOf(weight_map, "RandWeightedCrop.weight_map");
  auto win = detail::cropSize(o_.spatial_size(), shape, "RandWeightedCrop.spatial_size");
  // weighted_patch_samples: centres in [w // 2, m - w + w // 2) (m // 2 alone when w >= m)
  at::Tensor v = weight_map.data.cpu().to(at::kDouble)[0];
  std::vector<int64_t> lo(shape.size()), region(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    lo[d] = shape[d] > win[d] ? win[d] / 2 : shape[d] / 2;
    region[d] = shape[d] > win[d] ? shape[d] - win[d] : 1;
    v = v.narrow(static_cast<int64_t>(d), lo[d], region[d]);
  }
  v = v.reshape({-1});
  v = v - std::min(v.min().item<double>(), 0.0); // shift to non-negative
  at::Tensor cum = at::cumsum(v, 0).contiguous();
  const double *cp = cum.data_ptr<double>();
  const int64_t count = cum.numel();
  const double total = cp[count - 1];
  rt::Rng rng(key);
  std::vector<CropCenter> out;
  for (int64_t i = 0; i < o_.num_samples(); ++i) {
    rt::Rng r = rng.child(static_cast<uint32_t>(i));
    const double u = r.uniform();
    int64_t idx;
    if (!(total > 0.0) || !std::isfinite(total)) // MONAI: uniform sampling then
      idx = pick(u, count);
    else // searchsorted(cum, u * total, right=True): voxels of weight 0 are never chosen
      idx = std::min<int64_t>(std::upper_bound(cp, cp + count, u * total) - cp, count - 1);
    CropCenter c = unravel(idx, region);
    for (size_t d = 0; d < c.size(); ++d)
      c[d] += lo[d];
    out.push_back(c);
  }
  return out;
}

std::vector<MetaTensor> RandWeightedCrop::operator()(const MetaTensor &img,
                                                     const MetaTensor &weight_map,
                                                     const rt::RandomKey &key) const {
  return cropAll(img, centers(weight_map, key), detail::spatialShapeOf(weight_map, "weight_map"),
                 o_.spatial_size(), "RandWeightedCrop");
}

} // namespace med::transforms
