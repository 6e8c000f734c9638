// Random spatial transforms that move voxels without interpolation: RandFlip, RandAxisFlip,
// RandRotate90 and RandSpatialCrop (MONAI 1.4 names, parameters and defaults). Inside compiled
// pipelines they are copies (a nearest med.resample) fused with their neighbours, with
// parameters drawn in sample() from the (seed, epoch, sample, transform) stream, so a key
// reproduces every result. Each applies the deterministic transform (Flip, Rotate90,
// SpatialCrop, CenterSpatialCrop) and records its OpRecord, so inverse() undoes it; a call that
// does not fire records the identity (as MONAI always pushes a record). Deviations from MONAI:
// docs/transforms-utility.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/spatial.h"
#include "med/transforms/transform.h"

namespace med::transforms {

class CropPadTransform; // med/transforms/croppad.h

/// Options of RandFlip: flip `spatial_axis` (unset = every spatial axis) with probability `prob`.
struct RandFlipOptions {
  RandFlipOptions() = default;
  RandFlipOptions(int64_t spatial_axis) : spatial_axis_(std::vector<int64_t>{spatial_axis}) {}
  RandFlipOptions(std::vector<int64_t> spatial_axis) : spatial_axis_(std::move(spatial_axis)) {}
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::optional<std::vector<int64_t>>, spatial_axis);
};

/// MONAI RandFlip: Flip(spatial_axis) with probability prob. Records "Flip".
///
///   RandFlip(RandFlipOptions(0).prob(0.5))
class RandFlip : public RandomTransform, public Resampling {
public:
  using Options = RandFlipOptions;
  explicit RandFlip(Options o = {});
  std::string name() const override { return "RandFlip"; }
  int numParams() const override { return 1; }
  /// Compiled as a copy (nearest med.resample); a call that does not fire copies unchanged.
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  FlipOptions flipOptions() const;
  Options o_;
};

/// Options of RandAxisFlip: with probability `prob`, flip one spatial axis drawn uniformly.
struct RandAxisFlipOptions {
  RandAxisFlipOptions(double prob = 0.1) : prob_(prob) {}
  TORCH_ARG(double, prob);
};

/// MONAI RandAxisFlip. Records "Flip".
///
///   RandAxisFlip(RandAxisFlipOptions(0.5))
class RandAxisFlip : public RandomTransform, public Resampling {
public:
  using Options = RandAxisFlipOptions;
  explicit RandAxisFlip(Options o = {});
  std::string name() const override { return "RandAxisFlip"; }
  /// Compiled as a copy (nearest med.resample).
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  /// (fires, u): the axis is floor(u * number of spatial axes), known once the image is.
  int numParams() const override { return 2; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  Options o_;
};

/// Options of RandRotate90: with probability `prob`, rotate k quarter turns, k uniform in
/// 1..max_k, in the plane of `spatial_axes` (MONAI defaults 0.1, 3, (0, 1)).
struct RandRotate90Options {
  RandRotate90Options() = default;
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(int64_t, max_k) = 3;
  TORCH_ARG(std::vector<int64_t>, spatial_axes) = {0, 1};
};

/// MONAI RandRotate90. Records "Rotate90" (k = 0 when it does not fire).
///
///   RandRotate90(RandRotate90Options().prob(0.5).max_k(3).spatial_axes({0, 2}))
class RandRotate90 : public RandomTransform, public Resampling {
public:
  using Options = RandRotate90Options;
  explicit RandRotate90(Options o = {});
  std::string name() const override { return "RandRotate90"; }
  /// Compiled as a copy (nearest med.resample); the shape changes with k.
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  int numParams() const override { return 2; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  Options o_;
};

/// Options of RandSpatialCrop (MONAI 1.4 defaults): `roi_size` (one value or one per axis;
/// <= 0 takes the image size), with `random_size` the size is drawn per axis in
/// [roi_size, max_roi_size] (unset = the image size); with `random_center` the box is placed
/// uniformly, else centred (CenterSpatialCrop).
struct RandSpatialCropOptions {
  RandSpatialCropOptions(std::vector<int64_t> roi_size) : roi_size_(std::move(roi_size)) {}
  TORCH_ARG(std::vector<int64_t>, roi_size);
  TORCH_ARG(std::vector<int64_t>, max_roi_size);
  TORCH_ARG(bool, random_center) = true;
  TORCH_ARG(bool, random_size) = false;
};

/// MONAI RandSpatialCrop: always fires. Records "SpatialCrop" (random centre) or
/// "CenterSpatialCrop".
///
///   RandSpatialCrop(RandSpatialCropOptions({64, 64, 32}))
///   RandSpatialCrop(RandSpatialCropOptions({32}).max_roi_size({64}).random_size(true))
class RandSpatialCrop : public RandomTransform, public Resampling {
public:
  using Options = RandSpatialCropOptions;
  explicit RandSpatialCrop(Options o);
  std::string name() const override { return "RandSpatialCrop"; }
  /// (1, size draws x3, position draws x3): uniforms mapped to integers once the shape is known.
  int numParams() const override { return 7; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  /// Compiled as a copy (nearest med.resample by an integer shift); the shape changes with the
  /// drawn size.
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  /// The crop this call makes on an image of spatial shape `shape`.
  std::unique_ptr<CropPadTransform> cropFor(const std::vector<int64_t> &shape,
                                            const double *params) const;
  Options o_;
};

using RandFlipd = Dictionary<RandFlip>;
using RandAxisFlipd = Dictionary<RandAxisFlip>;
using RandRotate90d = Dictionary<RandRotate90>;
using RandSpatialCropd = Dictionary<RandSpatialCrop>;

} // namespace med::transforms
