// Resampling transforms (MONAI names, parameters and defaults): Spacing, Affine and Rotate
// sample through torch's grid_sample; Zoom and Resize through torch's interpolate. These are
// the eager ATen references a compiled resample kernel will be tested against. Each updates
// meta.affine as MONAI does and appends an rt::OpRecord that med::transforms::inverse() undoes.
// Semantics, records and deviations: docs/transforms-resample.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// Options of Spacing: the target voxel size per spatial axis (`pixdim`; fewer values repeat
/// the last, a value <= 0 keeps that axis' spacing). `mode` "bilinear" | "nearest" | "bicubic",
/// `padding_mode` "zeros" | "border" | "reflection" (torch grid_sample names).
struct SpacingOptions {
  SpacingOptions(std::vector<double> pixdim) : pixdim_(std::move(pixdim)) {}
  TORCH_ARG(std::vector<double>, pixdim);
  TORCH_ARG(bool, diagonal) = false;
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "border";
  TORCH_ARG(bool, align_corners) = false;
  TORCH_ARG(bool, scale_extent) = false;
  TORCH_ARG(bool, recompute_affine) = false;
};

/// MONAI Spacing: new affine = zoom_affine(affine, pixdim, diagonal) with the origin and size
/// of compute_shape_offset, then SpatialResample in float64 (float64 images stay float64, others
/// become float32). Recorded as "Spacing" (a grid record, see docs).
///
///   Spacing(SpacingOptions({1.5, 1.5, 1.5}).mode("nearest"))
class Spacing : public Transform, public Resampling {
public:
  using Options = SpacingOptions;
  explicit Spacing(Options o);
  std::string name() const override { return "Spacing"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a med.resample (interpolating in the image's type, float32 or float64) for
  /// bilinear with zeros/border/reflection padding; other modes run eagerly between kernels.
  /// Nearest stays eager: where a position is a tie (x.5 in exact arithmetic) the last bit of the
  /// grid arithmetic picks the voxel, and the kernel's direct voxel map breaks such ties otherwise
  /// than MONAI's normalised grid does (docs/transforms-resample.md).
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  Options o_;
};

/// Options of Affine: the matrix is rotate @ shear @ translate @ scale built from the params
/// (radians; shear coefficients as MONAI's create_shear; translation in voxels) in centred voxel
/// coordinates, mapping output voxels to input voxels; or an explicit `affine` ((n+1)^2 values,
/// row major) that replaces them. `spatial_size` empty or <= 0 entries keep the input size.
/// `mode` "bilinear" | "nearest" | "bicubic" (grid_sample; bicubic 2-D only) or a B-spline order
/// "0" to "3" (MONAI's integer modes: scipy.ndimage.map_coordinates with its prefilter, the
/// tricubic B-spline for "3"); `padding_mode` grid_sample's "zeros" | "border" | "reflection",
/// or with a spline order also ndimage's "constant" | "grid-constant" | "nearest" | "mirror" |
/// "reflect" | "grid-mirror" | "wrap" | "grid-wrap" (docs/transforms-resample.md).
struct AffineOptions {
  AffineOptions() = default;
  TORCH_ARG(std::vector<double>, rotate_params);
  TORCH_ARG(std::vector<double>, shear_params);
  TORCH_ARG(std::vector<double>, translate_params);
  TORCH_ARG(std::vector<double>, scale_params);
  TORCH_ARG(std::vector<double>, affine);
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "reflection";
  TORCH_ARG(bool, align_corners) = false;
};

/// MONAI Affine (normalized=False): AffineGrid + Resample in float32. matrix() is what MONAI
/// returns with image_only=False. Recorded as "Affine" (a grid record).
///
///   Affine(AffineOptions().rotate_params({0.1, 0, 0}).padding_mode("zeros"))
///   Affine(AffineOptions().scale_params({1.2, 1.2, 1.2}).mode("3"))  // tricubic B-spline
class Affine : public Transform, public Resampling {
public:
  using Options = AffineOptions;
  explicit Affine(Options o);
  std::string name() const override { return "Affine"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a med.resample for nearest/bilinear with zeros/border/reflection padding; other
  /// modes run eagerly between kernels.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;
  /// The (nsp+1)x(nsp+1) float64 matrix built from the params (centred voxel coordinates).
  at::Tensor matrix(int64_t nsp) const;

private:
  Options o_;
};

/// Options of Rotate: `angle` in radians (2D: one value; 3D: about axes 0, 1, 2 as MONAI's
/// create_rotate), `keep_size` false grows the output to hold the rotated box.
struct RotateOptions {
  RotateOptions(std::vector<double> angle) : angle_(std::move(angle)) {}
  TORCH_ARG(std::vector<double>, angle);
  TORCH_ARG(bool, keep_size) = true;
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "border";
  TORCH_ARG(bool, align_corners) = false;
};

/// MONAI Rotate: rotation about the volume centre, resampled in float32. Recorded as "Rotate"
/// (a grid record).
///
///   Rotate(RotateOptions({0.0, 0.0, 0.3}).keep_size(false).padding_mode("zeros"))
class Rotate : public Transform, public Resampling {
public:
  using Options = RotateOptions;
  explicit Rotate(Options o);
  std::string name() const override { return "Rotate"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a med.resample for nearest/bilinear with zeros/border/reflection padding.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  Options o_;
};

/// Options of Zoom: factor per axis (one value for all), interpolate `mode` "nearest" |
/// "nearest-exact" | "linear" | "bilinear" | "bicubic" | "trilinear" | "area",
/// `align_corners` only for the linear/cubic modes, `padding_mode` a numpy pad mode used when
/// `keep_size` pads or crops back to the input size.
struct ZoomOptions {
  ZoomOptions(std::vector<double> zoom) : zoom_(std::move(zoom)) {}
  TORCH_ARG(std::vector<double>, zoom);
  TORCH_ARG(std::string, mode) = "area";
  TORCH_ARG(std::string, padding_mode) = "edge";
  TORCH_ARG(std::optional<bool>, align_corners);
  TORCH_ARG(bool, keep_size) = true;
};

/// MONAI Zoom: interpolate to floor(size * zoom), then (keep_size) ResizeWithPadOrCrop back.
/// Recorded as "Zoom" with the interpolation and the pad/crop widths.
///
///   Zoom(ZoomOptions({0.7}).mode("nearest").padding_mode("constant"))
class Zoom : public Transform, public Resampling {
public:
  using Options = ZoomOptions;
  explicit Zoom(Options o);
  std::string name() const override { return "Zoom"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a med.resample in the linear, nearest and area modes: the zoomed grid's map,
  /// with keep_size's crop as a shift and its edge or constant padding as a bounded resample
  /// (see padsBack). Bicubic and other pad modes run eagerly.
  bool traceable() const override;
  /// Whether keep_size pads an axis back to its size (a factor < 1): the compiled form is then a
  /// bounded resample, the zoomed box as its bounds.
  bool padsBack() const;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  /// The factors for `n` spatial axes (one given value applies to all); throws med::Error.
  std::vector<double> factors(int64_t n) const;
  Options o_;
};

/// Options of Resize: `spatial_size` per axis (-1 keeps an axis) for size_mode "all", or one
/// value = the longest side for "longest". Modes as Zoom. `anti_aliasing` smooths downsampled
/// axes with a Gaussian (sigma (in/out - 1)/2 unless `anti_aliasing_sigma`) first.
struct ResizeOptions {
  ResizeOptions(std::vector<int64_t> spatial_size) : spatial_size_(std::move(spatial_size)) {}
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::string, size_mode) = "all";
  TORCH_ARG(std::string, mode) = "area";
  TORCH_ARG(std::optional<bool>, align_corners);
  TORCH_ARG(bool, anti_aliasing) = false;
  TORCH_ARG(std::vector<double>, anti_aliasing_sigma);
};

/// MONAI Resize (torch.nn.functional.interpolate). Recorded as "Resize".
///
///   Resize(ResizeOptions({40}).size_mode("longest").mode("trilinear").align_corners(false))
class Resize : public Transform, public Resampling {
public:
  using Options = ResizeOptions;
  explicit Resize(Options o);
  std::string name() const override { return "Resize"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a med.resample with border padding for the linear modes ("bilinear" in 2D,
  /// "trilinear" in 3D) without anti-aliasing: interpolate's source index, scale (o + 0.5) -
  /// 0.5 clamped at 0 (or o (in - 1) / (out - 1) with align_corners), is an affine map whose
  /// clamping is border padding; integer images are interpolated in float32 and cast back
  /// (med.cast), float64 ones in float64 (eager: float32). The nearest modes read interpolate's
  /// voxel (med.resample "floor"), area averages each output voxel's box ("area"), both through
  /// float32 as eager. Cubic modes and anti-aliasing run eagerly between kernels.
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  Options o_;
};

/// Options of SpatialResample: the target voxel-to-world `dst_affine` (16 values, row-major 4x4;
/// unset = the input's), and `spatial_size` (unset = the size covering the input, MONAI's None;
/// {-1} or entries <= 0 keep the input size).
struct SpatialResampleOptions {
  SpatialResampleOptions() = default;
  TORCH_ARG(std::optional<std::vector<double>>, dst_affine);
  TORCH_ARG(std::optional<std::vector<int64_t>>, spatial_size);
  TORCH_ARG(std::string, mode) = "bilinear";
  TORCH_ARG(std::string, padding_mode) = "border";
  TORCH_ARG(bool, align_corners) = false;
};

/// MONAI SpatialResample with dst_affine fixed at construction: resamples (float64) onto the grid
/// of dst_affine; the output affine is dst_affine. Recorded as "SpatialResample" (a grid record).
///
///   SpatialResample(SpatialResampleOptions().dst_affine(std::vector<double>(a.begin(), a.end())))
class SpatialResample : public Transform, public Resampling {
public:
  using Options = SpatialResampleOptions;
  explicit SpatialResample(Options o = {});
  std::string name() const override { return "SpatialResample"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as Spacing is (bilinear only; a med.resample in the image's type).
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  Options o_;
};

using Spacingd = Dictionary<Spacing>;
using SpatialResampled = Dictionary<SpatialResample>;
using Affined = Dictionary<Affine>;
using Rotated = Dictionary<Rotate>;
using Zoomd = Dictionary<Zoom>;
using Resized = Dictionary<Resize>;

namespace detail {

/// MONAI's AffineTransform(normalized=False, reverse_indexing=True): samples `src` (C, sp...) at
/// input voxel xform @ (output voxel) with grid_sample, in xform's dtype; `xform` is
/// (nsp+1)x(nsp+1) and maps output voxel indices to input voxel indices.
at::Tensor affineTransform(const at::Tensor &src, const at::Tensor &xform,
                           const std::vector<int64_t> &dstSize, const std::string &mode,
                           const std::string &padding, bool alignCorners);
/// torch.nn.functional.interpolate of `x` (C, sp...) to `size` (float32 in, float32 out).
at::Tensor interpolate(const at::Tensor &x, const std::vector<int64_t> &size,
                       const std::string &mode, std::optional<bool> alignCorners,
                       const std::string &where);
/// Whether `name` is a record written by the transforms of this header, and its inverse.
bool isResampleRecord(const std::string &name);
MetaTensor invertResample(const rt::OpRecord &rec, const MetaTensor &cur);

} // namespace detail

} // namespace med::transforms
