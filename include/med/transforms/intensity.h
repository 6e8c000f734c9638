// Intensity transforms (MONAI names, parameters and defaults). Each has an `XxxOptions` with
// chained setters, an array class and a dictionary alias `Xxxd`.
#pragma once

#include <optional>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// Options of ScaleIntensityRange: map [a_min, a_max] onto [b_min, b_max], optionally clipping.
/// Output dtype is float32 (MONAI's default `dtype`).
struct ScaleIntensityRangeOptions {
  ScaleIntensityRangeOptions(double a_min, double a_max) : a_min_(a_min), a_max_(a_max) {}
  ScaleIntensityRangeOptions(double a_min, double a_max, double b_min, double b_max)
      : a_min_(a_min), a_max_(a_max), b_min_(b_min), b_max_(b_max) {}
  TORCH_ARG(double, a_min);
  TORCH_ARG(double, a_max);
  TORCH_ARG(std::optional<double>, b_min);
  TORCH_ARG(std::optional<double>, b_max);
  TORCH_ARG(bool, clip) = false;
};

/// MONAI ScaleIntensityRange.
///
///   ScaleIntensityRange(ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true))
class ScaleIntensityRange : public Transform {
public:
  using Options = ScaleIntensityRangeOptions;
  explicit ScaleIntensityRange(Options o);
  std::string name() const override { return "ScaleIntensityRange"; }
  MetaTensor eager(const MetaTensor &img) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of ShiftIntensity: add `offset`. The dtype is kept, as in MONAI.
struct ShiftIntensityOptions {
  explicit ShiftIntensityOptions(double offset) : offset_(offset) {}
  TORCH_ARG(double, offset);
};

/// MONAI ShiftIntensity.
///
///   ShiftIntensity(ShiftIntensityOptions(10.0))
class ShiftIntensity : public Transform {
public:
  using Options = ShiftIntensityOptions;
  explicit ShiftIntensity(Options o);
  std::string name() const override { return "ShiftIntensity"; }
  MetaTensor eager(const MetaTensor &img) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of ScaleIntensity: rescale to [minv, maxv] (defaults 0 and 1, as MONAI) or, when
/// `factor` is set and minv/maxv are cleared, multiply by (1 + factor). Output dtype float32.
struct ScaleIntensityOptions {
  ScaleIntensityOptions() = default;
  TORCH_ARG(std::optional<double>, minv) = 0.0;
  TORCH_ARG(std::optional<double>, maxv) = 1.0;
  TORCH_ARG(std::optional<double>, factor);
};

/// MONAI ScaleIntensity (channel_wise=false). With `minv` and `maxv` (the default) it rescales
/// by the image's extrema: compiled, a generated reduction kernel (med.extrema) takes them in
/// parallel and the map that follows stays elementwise and fuses with the next ops.
///
///   ScaleIntensity()                                                      // to [0, 1]
///   ScaleIntensity(ScaleIntensityOptions().minv({}).maxv({}).factor(0.1)) // x * 1.1
class ScaleIntensity : public StatsTransform {
public:
  using Options = ScaleIntensityOptions;
  explicit ScaleIntensity(Options o = {});
  std::string name() const override { return "ScaleIntensity"; }
  MetaTensor eager(const MetaTensor &img) const override;
  void trace(frontend::ChainSpec &chain) const override;
  int numParams() const override { return rescales() ? 2 : 0; }
  bool needsStats() const override { return rescales(); }
  bool statsAreExtrema() const override { return true; }
  /// The extrema of the image in its float type (float32 for integer images).
  void stats(const at::Tensor &input, int64_t channel, std::vector<double> &params) const override;
  /// MONAI's rescale_array with the given extrema, or `x * (1 + factor)`; float32 result.
  at::Tensor apply(const at::Tensor &input, const double *params) const override;

private:
  bool rescales() const { return o_.minv() && o_.maxv(); }
  Options o_;
};

/// Options of ThresholdIntensity: keep values above (or below) `threshold`, others become
/// `cval` (default 0). The dtype is kept, as in MONAI.
struct ThresholdIntensityOptions {
  explicit ThresholdIntensityOptions(double threshold) : threshold_(threshold) {}
  TORCH_ARG(double, threshold);
  TORCH_ARG(bool, above) = true;
  TORCH_ARG(double, cval) = 0.0;
};

/// MONAI ThresholdIntensity.
///
///   ThresholdIntensity(ThresholdIntensityOptions(0.2).above(true).cval(0))
class ThresholdIntensity : public Transform {
public:
  using Options = ThresholdIntensityOptions;
  explicit ThresholdIntensity(Options o);
  std::string name() const override { return "ThresholdIntensity"; }
  MetaTensor eager(const MetaTensor &img) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of ClipIntensity: clamp to [min, max]; either bound may be absent. MONAI has no
/// class of this name; it is `torch.clamp` as MONAI's `clip` helper applies it. Keeps the dtype.
struct ClipIntensityOptions {
  ClipIntensityOptions(std::optional<double> min, std::optional<double> max)
      : min_(min), max_(max) {}
  TORCH_ARG(std::optional<double>, min);
  TORCH_ARG(std::optional<double>, max);
};

/// Clamps intensities (Medulla's name for torch.clamp as a transform).
///
///   ClipIntensity(ClipIntensityOptions(0.0, 1.0))
class ClipIntensity : public Transform {
public:
  using Options = ClipIntensityOptions;
  explicit ClipIntensity(Options o);
  std::string name() const override { return "ClipIntensity"; }
  MetaTensor eager(const MetaTensor &img) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

using ScaleIntensityRanged = Dictionary<ScaleIntensityRange>;
using ShiftIntensityd = Dictionary<ShiftIntensity>;
using ScaleIntensityd = Dictionary<ScaleIntensity>;
using ThresholdIntensityd = Dictionary<ThresholdIntensity>;
using ClipIntensityd = Dictionary<ClipIntensity>;

} // namespace med::transforms
