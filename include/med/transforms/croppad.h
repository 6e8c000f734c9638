// Crops and pads (MONAI names, parameters and defaults): SpatialCrop, CenterSpatialCrop,
// SpatialPad, BorderPad, DivisiblePad, ResizeWithPadOrCrop and CropForeground. Each translates
// meta.affine as MONAI does and appends an rt::OpRecord holding the widths cropped and padded
// per side, which med::transforms::inverse() undoes (a crop's inverse pads with zeros, as MONAI).
// All but CropForeground (whose box depends on the voxels) compile to copies fused with their
// neighbours. Semantics and records: docs/transforms-spatial.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

namespace detail {
/// (before, after) voxel counts per spatial axis.
using Widths = std::vector<std::array<int64_t, 2>>;
} // namespace detail

/// One call's widths: voxels removed per side of each axis, then voxels added.
struct CropPadBox {
  detail::Widths crop, pad;
  bool crops = false, pads = false;
};

/// Base of the crops and pads whose box follows from the image's shape alone. `eager` crops and
/// pads with ATen; the compiled form is a copy, a nearest med.resample whose map is an integer
/// shift (output voxel o reads input voxel o + cropped before - padded before), so it fuses with
/// the intensity ops around it instead of ending the fused region. Padding compiles as "zeros"
/// (mode constant with value 0, or empty), "border" (mode edge = replicate) or "wrap" (wrap =
/// circular); other modes and constants run `eager` as a host step. Like every resample, the
/// compiled form needs 2 or 3 spatial axes.
class CropPadTransform : public Transform, public Resampling {
public:
  MetaTensor eager(const MetaTensor &img) const final;
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const final;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const final;

protected:
  /// The widths for an image of spatial shape `shape`; throws med::Error naming the parameter.
  virtual CropPadBox box(const std::vector<int64_t> &shape) const = 0;
  /// The pad's mode as given (numpy or torch name) and its constant; crops never pad.
  virtual std::string padMode() const { return "constant"; }
  virtual double padValue() const { return 0.0; }
};

/// Options of SpatialCrop: either `roi_center` + `roi_size` or `roi_start` + `roi_end` (voxel
/// indices, end exclusive; center/size win when both pairs are given, as MONAI). Fewer values
/// than spatial axes crop the leading axes only; one value applies to every axis given by the
/// other vector of the pair (MONAI's broadcasting).
struct SpatialCropOptions {
  SpatialCropOptions() = default;
  TORCH_ARG(std::vector<int64_t>, roi_center);
  TORCH_ARG(std::vector<int64_t>, roi_size);
  TORCH_ARG(std::vector<int64_t>, roi_start);
  TORCH_ARG(std::vector<int64_t>, roi_end);
};

/// MONAI SpatialCrop. As MONAI, the box is clipped to the image silently: a start below 0
/// becomes 0 (with roi_center/roi_size the box keeps its size and shifts inwards), an end past
/// the image stops at the border, and an end before the start gives an empty axis.
///
///   SpatialCrop(SpatialCropOptions().roi_center({16, 14, 12}).roi_size({10, 12, 8}))
///   SpatialCrop(SpatialCropOptions().roi_start({2, 3, 4}).roi_end({20, 40, 18}))
class SpatialCrop : public CropPadTransform {
public:
  using Options = SpatialCropOptions;
  explicit SpatialCrop(Options o);
  std::string name() const override { return "SpatialCrop"; }

private:
  CropPadBox box(const std::vector<int64_t> &shape) const override;
  Options o_;
};

/// Options of CenterSpatialCrop: the size to keep around the centre; a value <= 0 keeps that
/// axis, a value larger than the image keeps the whole axis, one value applies to every axis.
struct CenterSpatialCropOptions {
  CenterSpatialCropOptions(std::vector<int64_t> roi_size) : roi_size_(std::move(roi_size)) {}
  TORCH_ARG(std::vector<int64_t>, roi_size);
};

/// MONAI CenterSpatialCrop: the box starts at size // 2 - roi // 2 (clipped at 0).
///
///   CenterSpatialCrop(CenterSpatialCropOptions({20, 15, -1}))
class CenterSpatialCrop : public CropPadTransform {
public:
  using Options = CenterSpatialCropOptions;
  explicit CenterSpatialCrop(Options o);
  std::string name() const override { return "CenterSpatialCrop"; }

private:
  CropPadBox box(const std::vector<int64_t> &shape) const override;
  Options o_;
};

/// Options of SpatialPad: pad up to `spatial_size` (a value <= 0 or below the image size keeps
/// that axis; one value applies to every axis). `method` "symmetric" (default; the odd voxel
/// goes after) or "end"; `mode` as numpy.pad / torch.nn.functional.pad: "constant" (default,
/// with `value`), "edge" = "replicate", "reflect", "symmetric", "wrap" = "circular",
/// "linear_ramp" (towards 0), "maximum", "minimum", "mean", "median", "empty" (zeros here).
struct SpatialPadOptions {
  SpatialPadOptions(std::vector<int64_t> spatial_size) : spatial_size_(std::move(spatial_size)) {}
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::string, method) = "symmetric";
  TORCH_ARG(std::string, mode) = "constant";
  TORCH_ARG(double, value) = 0.0;
};

/// MONAI SpatialPad.
///
///   SpatialPad(SpatialPadOptions({40, 40, 30}).mode("reflect"))
class SpatialPad : public CropPadTransform {
public:
  using Options = SpatialPadOptions;
  explicit SpatialPad(Options o);
  std::string name() const override { return "SpatialPad"; }

private:
  CropPadBox box(const std::vector<int64_t> &shape) const override;
  std::string padMode() const override { return o_.mode(); }
  double padValue() const override { return o_.value(); }
  Options o_;
};

/// Options of BorderPad: `spatial_border` in MONAI's three forms: one width for every side,
/// one width per axis (both sides), or (before, after) per axis: {x0, x1, y0, y1[, z0, z1]}.
/// Negative widths count as 0, as MONAI. `mode` and `value` as SpatialPadOptions.
struct BorderPadOptions {
  BorderPadOptions(std::vector<int64_t> spatial_border)
      : spatial_border_(std::move(spatial_border)) {}
  TORCH_ARG(std::vector<int64_t>, spatial_border);
  TORCH_ARG(std::string, mode) = "constant";
  TORCH_ARG(double, value) = 0.0;
};

/// MONAI BorderPad.
///
///   BorderPad(BorderPadOptions({2}))                 // 2 voxels on every side
///   BorderPad(BorderPadOptions({1, 0, 2, 3, 0, 0}))  // x: 1 before; y: 2 before, 3 after
class BorderPad : public CropPadTransform {
public:
  using Options = BorderPadOptions;
  explicit BorderPad(Options o);
  std::string name() const override { return "BorderPad"; }

private:
  CropPadBox box(const std::vector<int64_t> &shape) const override;
  std::string padMode() const override { return o_.mode(); }
  double padValue() const override { return o_.value(); }
  Options o_;
};

/// Options of DivisiblePad: pad each axis up to a multiple of `k` (one value for every axis, or
/// one per axis; k <= 0 keeps that axis, as MONAI documents). `method`, `mode`, `value` as
/// SpatialPadOptions.
struct DivisiblePadOptions {
  DivisiblePadOptions(std::vector<int64_t> k) : k_(std::move(k)) {}
  TORCH_ARG(std::vector<int64_t>, k);
  TORCH_ARG(std::string, method) = "symmetric";
  TORCH_ARG(std::string, mode) = "constant";
  TORCH_ARG(double, value) = 0.0;
};

/// MONAI DivisiblePad.
///
///   DivisiblePad(DivisiblePadOptions({16}))
class DivisiblePad : public CropPadTransform {
public:
  using Options = DivisiblePadOptions;
  explicit DivisiblePad(Options o);
  std::string name() const override { return "DivisiblePad"; }

private:
  CropPadBox box(const std::vector<int64_t> &shape) const override;
  std::string padMode() const override { return o_.mode(); }
  double padValue() const override { return o_.value(); }
  Options o_;
};

/// Options of ResizeWithPadOrCrop: the output `spatial_size` (<= 0 keeps the axis); larger axes
/// are centre-cropped (CenterSpatialCrop), smaller ones padded (SpatialPad with `method`,
/// `mode`, `value`).
struct ResizeWithPadOrCropOptions {
  ResizeWithPadOrCropOptions(std::vector<int64_t> spatial_size)
      : spatial_size_(std::move(spatial_size)) {}
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(std::string, method) = "symmetric";
  TORCH_ARG(std::string, mode) = "constant";
  TORCH_ARG(double, value) = 0.0;
};

/// MONAI ResizeWithPadOrCrop: crop first, then pad; one record with both widths.
///
///   ResizeWithPadOrCrop(ResizeWithPadOrCropOptions({96, 96, 64}))
class ResizeWithPadOrCrop : public CropPadTransform {
public:
  using Options = ResizeWithPadOrCropOptions;
  explicit ResizeWithPadOrCrop(Options o);
  std::string name() const override { return "ResizeWithPadOrCrop"; }

private:
  CropPadBox box(const std::vector<int64_t> &shape) const override;
  std::string padMode() const override { return o_.mode(); }
  double padValue() const override { return o_.value(); }
  Options o_;
};

/// Options of CropForeground (MONAI 1.4 defaults). `select_fn` maps the image (selected
/// channels) to a boolean mask (default x > 0); `channel_indices` (empty = every channel)
/// restricts the channels it looks at; `margin` (one value or one per axis, >= 0) widens the
/// box; `allow_smaller` = true clips the widened box to the image, false lets it pass the border
/// and pads there with `mode`/`value`; `k_divisible` (one value or one per axis; <= 0 counts as 1)
/// grows the box symmetrically to a multiple of k.
struct CropForegroundOptions {
  CropForegroundOptions() = default;
  TORCH_ARG(std::function<at::Tensor(const at::Tensor &)>, select_fn);
  TORCH_ARG(std::vector<int64_t>, channel_indices);
  TORCH_ARG(std::vector<int64_t>, margin) = {0};
  TORCH_ARG(bool, allow_smaller) = true;
  TORCH_ARG(std::vector<int64_t>, k_divisible) = {1};
  TORCH_ARG(std::string, mode) = "constant";
  TORCH_ARG(double, value) = 0.0;
};

/// MONAI CropForeground: crops to the bounding box of the foreground (then pads where the box
/// passes the border). An image without foreground gives an empty box, as MONAI (every spatial
/// axis of the output has size 0). Recorded as one "CropForeground" with crop and pad widths.
///
///   CropForeground(CropForegroundOptions().margin({3}).k_divisible({16}))
class CropForeground : public HostTransform {
public:
  using Options = CropForegroundOptions;
  explicit CropForeground(Options o = {});
  std::string name() const override { return "CropForeground"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// MONAI's compute_bounding_box: the box (start, end; end exclusive, may pass the image when
  /// allow_smaller is false) that eager() crops to.
  std::pair<std::vector<int64_t>, std::vector<int64_t>>
  computeBoundingBox(const at::Tensor &img) const;

private:
  Options o_;
};

using SpatialCropd = Dictionary<SpatialCrop>;
using CenterSpatialCropd = Dictionary<CenterSpatialCrop>;
using SpatialPadd = Dictionary<SpatialPad>;
using BorderPadd = Dictionary<BorderPad>;
using DivisiblePadd = Dictionary<DivisiblePad>;
using ResizeWithPadOrCropd = Dictionary<ResizeWithPadOrCrop>;
// No CropForegroundd: MONAI's computes one box from `source_key` and crops every key with it,
// which a per-key Dictionary<T> step cannot express (it would crop each key to its own
// foreground). It needs a multi-key step in Compose.

namespace detail {

/// MONAI's fall_back_tuple: one value for every spatial axis or one per axis; values <= 0 take
/// `dflt`'s value (usually the image's size). Throws med::Error(where) for a wrong count.
std::vector<int64_t> fallBackTuple(const std::vector<int64_t> &user,
                                   const std::vector<int64_t> &dflt, const std::string &where);

/// Checks a pad mode and returns its numpy name ("replicate" -> "edge", "circular" -> "wrap");
/// throws med::Error(where, ...) listing the modes otherwise.
std::string checkPadMode(const std::string &mode, const std::string &where);
/// Checks a pad method ("symmetric" or "end").
void checkPadMethod(const std::string &method, const std::string &where);

/// MONAI's pad_nd on the spatial axes of a channel-first tensor, numpy.pad's semantics for
/// every mode (torch's where they differ: reflect padding as wide as the axis is refused for
/// the dtypes MONAI pads with torch).
at::Tensor padSpatial(const at::Tensor &data, const Widths &pad, const std::string &mode,
                      double value, const std::string &where);

/// Crops `crop` voxels per side, then pads `pad` per side (mode, value), and translates the
/// affine as MONAI's crop_func followed by pad_func. Records nothing.
MetaTensor cropThenPad(const MetaTensor &img, const Widths &crop, const Widths &pad,
                       const std::string &mode, double value, const std::string &where);

/// Stores `w` in a record as "<prefix><d>_lo" / "<prefix><d>_hi", and reads it back.
void putWidths(rt::OpRecord &r, const std::string &prefix, const Widths &w);
Widths getWidths(const rt::OpRecord &r, const std::string &prefix, size_t rank);

} // namespace detail

} // namespace med::transforms
