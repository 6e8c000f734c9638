// MONAI's multi-sample random crops (1.4 names, parameters and defaults): RandSpatialCropSamples,
// RandCropByPosNegLabel, RandCropByLabelClasses and RandWeightedCrop, with their dictionary
// forms. Each call returns `num_samples` crops, so they are not Compose steps: they are called
// after a Compose, as MONAI users do. Every draw comes from rt::Rng(key) (sample i uses the
// sub-stream child(i)), so a key reproduces every sample. Each crop is a SpatialCrop (or, for
// RandSpatialCropSamples, what RandSpatialCrop records), so inverse() of a sample pads it back.
// Semantics and deviations from MONAI: docs/transforms-spatial.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "med/core/dict.h"
#include "med/runtime/rng.h"
#include "med/transforms/spatial_random.h"

namespace med::transforms {

/// A crop centre: one voxel index per spatial axis.
using CropCenter = std::vector<int64_t>;

/// Options of RandSpatialCropSamples: RandSpatialCropOptions plus `num_samples` (>= 1).
struct RandSpatialCropSamplesOptions {
  RandSpatialCropSamplesOptions(std::vector<int64_t> roi_size, int64_t num_samples)
      : roi_size_(std::move(roi_size)), num_samples_(num_samples) {}
  TORCH_ARG(std::vector<int64_t>, roi_size);
  TORCH_ARG(int64_t, num_samples);
  TORCH_ARG(std::vector<int64_t>, max_roi_size);
  TORCH_ARG(bool, random_center) = true;
  TORCH_ARG(bool, random_size) = false;
};

/// MONAI RandSpatialCropSamples: `num_samples` independent RandSpatialCrop draws of one image.
///
///   auto crops = RandSpatialCropSamples(RandSpatialCropSamplesOptions({64, 64, 32}, 4))(
///       img, rt::RandomKey{seed, epoch, index});
class RandSpatialCropSamples {
public:
  using Options = RandSpatialCropSamplesOptions;
  explicit RandSpatialCropSamples(Options o);
  /// Takes the image only (no label).
  std::vector<MetaTensor> operator()(const MetaTensor &img, const rt::RandomKey &key) const;
  /// RandSpatialCrop's parameters of sample `i` (what every key of the dictionary form shares).
  std::vector<double> draw(const rt::Rng &rng, int64_t i) const;
  const RandSpatialCrop &cropper() const { return crop_; }
  const Options &options() const { return o_; }

private:
  Options o_;
  RandSpatialCrop crop_;
};

/// Options of RandCropByPosNegLabel (MONAI defaults). A centre is a foreground voxel (label > 0
/// in any channel) with probability pos / (pos + neg), else a background voxel (label == 0, and
/// image > image_threshold in any channel when an image is given). `fg_indices`/`bg_indices`
/// (flat indices into the spatial shape; both needed) skip that search. `spatial_size`: one value
/// or one per axis, <= 0 takes the label's size.
struct RandCropByPosNegLabelOptions {
  RandCropByPosNegLabelOptions(std::vector<int64_t> spatial_size)
      : spatial_size_(std::move(spatial_size)) {}
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(double, pos) = 1.0;
  TORCH_ARG(double, neg) = 1.0;
  TORCH_ARG(int64_t, num_samples) = 1;
  TORCH_ARG(double, image_threshold) = 0.0;
  TORCH_ARG(std::optional<std::vector<int64_t>>, fg_indices);
  TORCH_ARG(std::optional<std::vector<int64_t>>, bg_indices);
  TORCH_ARG(bool, allow_smaller) = false;
};

/// MONAI RandCropByPosNegLabel: class-balanced patches around label voxels; centres are moved
/// inwards so each crop fits (correct_crop_centers).
///
///   RandCropByPosNegLabel t(RandCropByPosNegLabelOptions({96, 96, 96}).pos(1).neg(1)
///                               .num_samples(4));
///   std::vector<MetaTensor> crops = t(img, label, rt::RandomKey{0, epoch, index});
class RandCropByPosNegLabel {
public:
  using Options = RandCropByPosNegLabelOptions;
  explicit RandCropByPosNegLabel(Options o);
  /// Crops `img` around centres drawn from `label` (same spatial shape). `image`, when given,
  /// restricts background voxels to image > image_threshold (MONAI's `image` argument).
  std::vector<MetaTensor> operator()(const MetaTensor &img, const MetaTensor &label,
                                     const rt::RandomKey &key) const;
  std::vector<MetaTensor> operator()(const MetaTensor &img, const MetaTensor &label,
                                     const MetaTensor &image, const rt::RandomKey &key) const;
  /// The corrected centres a call with this key crops around (image may be null).
  std::vector<CropCenter> centers(const MetaTensor &label, const MetaTensor *image,
                                  const rt::RandomKey &key) const;
  const Options &options() const { return o_; }

private:
  Options o_;
};

/// Options of RandCropByLabelClasses (MONAI defaults). `ratios` (one per class, >= 0; unset =
/// equal) weight the classes; a class without voxels gets ratio 0. The label is one-hot
/// (C > 1 channels: class c = channel c != 0) or an index map (one channel: class c = label == c,
/// needs `num_classes`). With an image, only voxels where image > image_threshold (any channel)
/// count. `indices` (one list of flat spatial indices per class) skip that search. `warn` prints
/// to stderr when a class has no voxels.
struct RandCropByLabelClassesOptions {
  RandCropByLabelClassesOptions(std::vector<int64_t> spatial_size)
      : spatial_size_(std::move(spatial_size)) {}
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::optional<std::vector<double>>, ratios);
  TORCH_ARG(std::optional<int64_t>, num_classes);
  TORCH_ARG(int64_t, num_samples) = 1;
  TORCH_ARG(double, image_threshold) = 0.0;
  TORCH_ARG(std::optional<std::vector<std::vector<int64_t>>>, indices);
  TORCH_ARG(bool, allow_smaller) = false;
  TORCH_ARG(bool, warn) = true;
};

/// MONAI RandCropByLabelClasses: picks a class per sample by `ratios`, then a voxel of it.
///
///   RandCropByLabelClasses t(RandCropByLabelClassesOptions({64, 64, 64}).ratios({{0, 1, 2}})
///                                .num_classes(3).num_samples(4));
///   auto crops = t(img, label, rt::RandomKey{0, epoch, index});
class RandCropByLabelClasses {
public:
  using Options = RandCropByLabelClassesOptions;
  explicit RandCropByLabelClasses(Options o);
  /// Crops `img` around centres drawn from `label`; `image` as RandCropByPosNegLabel's.
  std::vector<MetaTensor> operator()(const MetaTensor &img, const MetaTensor &label,
                                     const rt::RandomKey &key) const;
  std::vector<MetaTensor> operator()(const MetaTensor &img, const MetaTensor &label,
                                     const MetaTensor &image, const rt::RandomKey &key) const;
  std::vector<CropCenter> centers(const MetaTensor &label, const MetaTensor *image,
                                  const rt::RandomKey &key) const;
  const Options &options() const { return o_; }

private:
  Options o_;
};

/// Options of RandWeightedCrop: `spatial_size` (<= 0 takes the image size) and `num_samples`.
struct RandWeightedCropOptions {
  RandWeightedCropOptions(std::vector<int64_t> spatial_size, int64_t num_samples = 1)
      : spatial_size_(std::move(spatial_size)), num_samples_(num_samples) {}
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(int64_t, num_samples);
};

/// MONAI RandWeightedCrop: centres drawn with probability proportional to channel 0 of a weight
/// map, among the centres whose crop fits (MONAI's weighted_patch_samples).
///
///   auto crops = RandWeightedCrop(RandWeightedCropOptions({64, 64, 64}, 4))(
///       img, weight, rt::RandomKey{0, epoch, index});
class RandWeightedCrop {
public:
  using Options = RandWeightedCropOptions;
  explicit RandWeightedCrop(Options o);
  /// Crops `img` around centres drawn from `weight_map` (same spatial shape).
  std::vector<MetaTensor> operator()(const MetaTensor &img, const MetaTensor &weight_map,
                                     const rt::RandomKey &key) const;
  std::vector<CropCenter> centers(const MetaTensor &weight_map, const rt::RandomKey &key) const;
  const Options &options() const { return o_; }

private:
  Options o_;
};

// --- dictionary forms: every key of a sample is cropped with the same box; entries not in
// `keys` are copied into every sample (sharing storage). A missing key throws med::Error unless
// allow_missing_keys; every key must have the spatial shape of the source key.

/// MONAI RandSpatialCropSamplesd: the box is drawn on the first key's shape.
///
///   auto samples = RandSpatialCropSamplesd({"image", "label"},
///                      RandSpatialCropSamplesOptions({64, 64, 64}, 4))(data, key);
class RandSpatialCropSamplesd {
public:
  RandSpatialCropSamplesd(std::vector<std::string> keys, RandSpatialCropSamplesOptions o,
                          bool allow_missing_keys = false);
  std::vector<Data> operator()(const Data &data, const rt::RandomKey &key) const;

private:
  std::vector<std::string> keys_;
  RandSpatialCropSamples t_;
  bool allowMissing_;
};

/// MONAI RandCropByPosNegLabeld: centres from data[label_key] (and data[image_key] for the
/// threshold when not empty); `fg_indices_key`/`bg_indices_key` name entries holding flat indices.
///
///   auto samples = RandCropByPosNegLabeld({"image", "label"}, "label",
///                      RandCropByPosNegLabelOptions({96, 96, 96}).num_samples(4), "image")(
///                      data, key);
class RandCropByPosNegLabeld {
public:
  RandCropByPosNegLabeld(std::vector<std::string> keys, std::string label_key,
                         RandCropByPosNegLabelOptions o, std::string image_key = "",
                         std::string fg_indices_key = "", std::string bg_indices_key = "",
                         bool allow_missing_keys = false);
  std::vector<Data> operator()(const Data &data, const rt::RandomKey &key) const;

private:
  std::vector<std::string> keys_;
  std::string labelKey_, imageKey_, fgKey_, bgKey_;
  RandCropByPosNegLabelOptions o_;
  bool allowMissing_;
};

/// MONAI RandCropByLabelClassesd (no indices_key: pass `indices` in the options).
///
///   auto samples = RandCropByLabelClassesd({"image", "label"}, "label",
///                      RandCropByLabelClassesOptions({64, 64, 64}).num_classes(3))(data, key);
class RandCropByLabelClassesd {
public:
  RandCropByLabelClassesd(std::vector<std::string> keys, std::string label_key,
                          RandCropByLabelClassesOptions o, std::string image_key = "",
                          bool allow_missing_keys = false);
  std::vector<Data> operator()(const Data &data, const rt::RandomKey &key) const;

private:
  std::vector<std::string> keys_;
  std::string labelKey_, imageKey_;
  RandCropByLabelClasses t_;
  bool allowMissing_;
};

/// MONAI RandWeightedCropd: centres from data[w_key].
///
///   auto samples = RandWeightedCropd({"image", "label"}, "weight",
///                      RandWeightedCropOptions({64, 64, 64}, 4))(data, key);
class RandWeightedCropd {
public:
  RandWeightedCropd(std::vector<std::string> keys, std::string w_key, RandWeightedCropOptions o,
                    bool allow_missing_keys = false);
  std::vector<Data> operator()(const Data &data, const rt::RandomKey &key) const;

private:
  std::vector<std::string> keys_;
  std::string wKey_;
  RandWeightedCrop t_;
  bool allowMissing_;
};

namespace detail {

/// MONAI's correct_crop_centers: moves `center` so a `size` box around it fits `shape` (sizes
/// already fallen back; with allow_smaller a size past the image counts as the image size,
/// otherwise that throws med::Error(where, ...)).
CropCenter correctCropCenter(CropCenter center, const std::vector<int64_t> &size,
                             const std::vector<int64_t> &shape, bool allow_smaller,
                             const std::string &where);

/// MONAI's fall_back_tuple for crop sizes: one value or one per spatial axis of `shape`, values
/// <= 0 take the image's size; throws med::Error(where, ...) for another count.
std::vector<int64_t> cropSize(const std::vector<int64_t> &user, const std::vector<int64_t> &shape,
                              const std::string &where);

/// SpatialCrop(roi_center = center, roi_size = size) of img (records "SpatialCrop").
MetaTensor cropAround(const MetaTensor &img, const CropCenter &center,
                      const std::vector<int64_t> &size);

/// The spatial shape of a channel-first image (throws med::Error(where, ...) unless 2D or 3D).
std::vector<int64_t> spatialShapeOf(const MetaTensor &img, const std::string &where);

} // namespace detail

} // namespace med::transforms
