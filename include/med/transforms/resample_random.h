// Random resampling transforms: RandAffine, RandRotate and RandZoom (MONAI 1.4 names, parameters
// and defaults). They run on the host inside compiled pipelines (fusion barriers) with parameters
// drawn in sample() from the (seed, epoch, sample, transform) stream, so a key reproduces every
// result. A call that fires applies the deterministic Affine / Rotate / Zoom and keeps its record,
// so inverse() undoes it unchanged; a call that does not fire returns the image as float32 and
// records an identity ("Affine"/"Rotate" identity xform, "Zoom" without pad/crop), so inverse()
// pops one record per call as MONAI. Deviations: docs/transforms-resample.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/resample.h"
#include "med/transforms/transform.h"

namespace med::transforms {

/// One random range with MONAI's convention: a scalar r draws U(-r, r), a pair (a, b) draws
/// U(a, b). Implicit, so option lists read as in Python: `.rotate_range({0.3, {0.0, 0.1}})`.
struct RandRange {
  RandRange(double r) : lo(-r), hi(r) {}
  RandRange(double a, double b) : lo(a), hi(b) {}
  double lo, hi;
};

/// Options of RandAffine: one range per parameter entry (an empty list leaves that part of the
/// matrix out, as MONAI's None). rotate_range: radians, up to 3 (2D uses the first); shear_range:
/// create_shear coefficients, up to 6 (2D: 2); translate_range: voxels, up to 3; scale_range: up
/// to 3, 1 is added to each draw. The rest as AffineOptions (MONAI 1.4: padding "reflection";
/// the B-spline orders "0" to "3" run on the host).
struct RandAffineOptions {
  RandAffineOptions() = default;
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::vector<RandRange>, rotate_range);
  TORCH_ARG(std::vector<RandRange>, shear_range);
  TORCH_ARG(std::vector<RandRange>, translate_range);
  TORCH_ARG(std::vector<RandRange>, scale_range);
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "reflection";
};

/// MONAI RandAffine (cache_grid=False): with probability prob, Affine with drawn params. A call
/// that does not fire but has a spatial_size different from the image resamples with the
/// identity matrix to that size (as MONAI). Records "Affine".
///
///   RandAffine(RandAffineOptions().prob(0.5).rotate_range({0.3}).scale_range({{-0.1, 0.2}}))
class RandAffine : public RandomTransform, public Resampling {
public:
  using Options = RandAffineOptions;
  explicit RandAffine(Options o = {});
  std::string name() const override { return "RandAffine"; }
  /// Compiled as a med.resample (nearest/bilinear, zeros/border/reflection); otherwise run
  /// eagerly.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  /// (fires, rotate[3], shear[6], translate[3], scale[3]): entries past a range list's length
  /// stay 0 and are not drawn; scale entries already include the + 1.
  int numParams() const override { return 16; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  /// The deterministic Affine options a call with `params` applies.
  AffineOptions affineOptions(const double *params) const;

private:
  Options o_;
};

/// Options of RandRotate: angle ranges (radians) about each axis (2D uses range_x only), each a
/// scalar r = U(-|r|, |r|) or a pair; the rest as RotateOptions.
struct RandRotateOptions {
  RandRotateOptions() = default;
  TORCH_ARG(RandRange, range_x) = 0.0;
  TORCH_ARG(RandRange, range_y) = 0.0;
  TORCH_ARG(RandRange, range_z) = 0.0;
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(bool, keep_size) = true;
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "border";
  TORCH_ARG(bool, align_corners) = false;
};

/// MONAI RandRotate: with probability prob, Rotate by (x) in 2D or (x, y, z) in 3D. Records
/// "Rotate".
///
///   RandRotate(RandRotateOptions().range_x(0.4).range_z({-0.1, 0.2}).prob(0.5))
class RandRotate : public RandomTransform, public Resampling {
public:
  using Options = RandRotateOptions;
  explicit RandRotate(Options o = {});
  std::string name() const override { return "RandRotate"; }
  /// Compiled as a med.resample (nearest/bilinear, zeros/border/reflection); otherwise run
  /// eagerly.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  /// (fires, x, y, z).
  int numParams() const override { return 4; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  Options o_;
};

/// Options of RandZoom: factors drawn uniformly in [min_zoom, max_zoom] per entry (one entry:
/// the same factor for every axis; two entries on a 3D image: the first for axes 0 and 1, the
/// second for axis 2, as MONAI); the rest as ZoomOptions.
struct RandZoomOptions {
  RandZoomOptions() = default;
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::vector<double>, min_zoom) = {0.9};
  TORCH_ARG(std::vector<double>, max_zoom) = {1.1};
  TORCH_ARG(std::string, mode) = "area";
  TORCH_ARG(std::string, padding_mode) = "edge";
  TORCH_ARG(std::optional<bool>, align_corners);
  TORCH_ARG(bool, keep_size) = true;
};

/// MONAI RandZoom. Records "Zoom".
///
///   RandZoom(RandZoomOptions().prob(0.5).min_zoom({0.8}).max_zoom({1.2}).mode("trilinear"))
class RandZoom : public RandomTransform, public Resampling {
public:
  using Options = RandZoomOptions;
  explicit RandZoom(Options o = {});
  std::string name() const override { return "RandZoom"; }
  /// Compiled as Zoom is (linear, nearest and area modes; with keep_size and a min_zoom below 1
  /// only for edge or constant padding) when prob is 1: a call that does not fire returns float32,
  /// as MONAI, while one that fires keeps the image's type, which one kernel cannot do per call.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  /// (fires, z0, z1, z2): one draw per min_zoom entry, the rest 0.
  int numParams() const override { return 4; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  /// The zoom factors (one per spatial axis) a call with `params` applies to a `nsp`-D image.
  std::vector<double> factors(const double *params, int64_t nsp) const;

private:
  // The Zoom a call with factors `z` applies.
  Zoom zoom(std::vector<double> z) const;
  Options o_;
};

/// Options of Rand2DElastic: control points every `spacing` pixels (one value for both axes),
/// displaced by N(0, 1) * U(magnitude_range); the RandAffine ranges and modes as RandAffine.
struct Rand2DElasticOptions {
  Rand2DElasticOptions(std::vector<double> spacing, std::vector<double> magnitude_range)
      : spacing_(std::move(spacing)), magnitude_range_(std::move(magnitude_range)) {}
  TORCH_ARG(std::vector<double>, spacing);
  TORCH_ARG(std::vector<double>, magnitude_range);
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::vector<RandRange>, rotate_range);
  TORCH_ARG(std::vector<RandRange>, shear_range);
  TORCH_ARG(std::vector<RandRange>, translate_range);
  TORCH_ARG(std::vector<RandRange>, scale_range);
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "reflection";
};

/// MONAI Rand2DElastic: a coarse random control grid, the random affine applied to it, bicubic
/// upsampling to the pixel grid, one grid_sample. Not invertible (MONAI records nothing); the
/// affine is unchanged. Compiled, the upsampled grid is the kernel's displacement: the host
/// builds the grid, the kernel samples it with the fused intensity ops around it.
///
///   Rand2DElastic(Rand2DElasticOptions({20, 20}, {1, 2}).prob(0.5).rotate_range({0.2}))
class Rand2DElastic : public RandomTransform, public Resampling {
public:
  using Options = Rand2DElasticOptions;
  explicit Rand2DElastic(Options o);
  std::string name() const override { return "Rand2DElastic"; }
  /// Compiled (a displaced med.resample) in the modes and paddings med.resample has.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  /// The deformation as ResamplePlan::field and the rest of the grid's map as the matrix;
  /// the metadata is kept, as eager keeps it.
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  /// (fires, key0, key1, magnitude, 0, RandAffine's 16): key = the Philox key of the
  /// per-control-point normals (their number depends on the image size).
  int numParams() const override { return 21; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  // The sampling grid for output shape `sp` (3, *sp): centred input coordinates, float32.
  at::Tensor grid(const std::vector<int64_t> &sp, const double *params) const;
  Options o_;
  RandAffine affine_;
};

/// Options of Rand3DElastic: per-voxel U(-1, 1) offsets smoothed by a Gaussian of sigma
/// U(sigma_range), times U(magnitude_range); the rest as RandAffine.
struct Rand3DElasticOptions {
  Rand3DElasticOptions(std::vector<double> sigma_range, std::vector<double> magnitude_range)
      : sigma_range_(std::move(sigma_range)), magnitude_range_(std::move(magnitude_range)) {}
  TORCH_ARG(std::vector<double>, sigma_range);
  TORCH_ARG(std::vector<double>, magnitude_range);
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::vector<RandRange>, rotate_range);
  TORCH_ARG(std::vector<RandRange>, shear_range);
  TORCH_ARG(std::vector<RandRange>, translate_range);
  TORCH_ARG(std::vector<RandRange>, scale_range);
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "reflection";
};

/// MONAI Rand3DElastic: identity grid + smoothed random displacement, then the random affine,
/// one grid_sample. Not invertible; the affine is unchanged. Compiled, the host smooths the
/// displacement and the kernel applies it and the affine per voxel (one sampling, with the
/// fused intensity ops around it).
///
///   Rand3DElastic(Rand3DElasticOptions({5, 8}, {100, 200}).prob(0.5).scale_range({0.1}))
class Rand3DElastic : public RandomTransform, public Resampling {
public:
  using Options = Rand3DElasticOptions;
  explicit Rand3DElastic(Options o);
  std::string name() const override { return "Rand3DElastic"; }
  /// Compiled (a displaced med.resample) in the modes and paddings med.resample has.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  /// The deformation as ResamplePlan::field and the rest of the grid's map as the matrix;
  /// the metadata is kept, as eager keeps it.
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  /// (fires, key0, key1, magnitude, sigma, RandAffine's 16); key: the per-voxel offsets' stream.
  int numParams() const override { return 21; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  // The smoothed displacement of a firing call for output shape `sp`: (3, *sp), voxels, f32.
  // Smoothed by conv3d as MONAI (eager), or `direct`ly by a separable loop (compiled plans):
  // the same values up to the order of float32 sums.
  at::Tensor displacement(const std::vector<int64_t> &sp, const double *params, bool direct) const;
  Options o_;
  RandAffine affine_;
};

namespace detail {
/// MONAI's Resample(norm_coords=True) of `img` (C, sp...) at `grid` ((nsp + 1, out...), centred
/// voxel coordinates, homogeneous last row): grid_sample in float32, align_corners false.
at::Tensor sampleGrid(const at::Tensor &img, const at::Tensor &grid, const std::string &mode,
                      const std::string &padding, const std::string &where);
} // namespace detail

using RandAffined = Dictionary<RandAffine>;
using RandRotated = Dictionary<RandRotate>;
using RandZoomd = Dictionary<RandZoom>;
using Rand2DElasticd = Dictionary<Rand2DElastic>;
using Rand3DElasticd = Dictionary<Rand3DElastic>;

} // namespace med::transforms
