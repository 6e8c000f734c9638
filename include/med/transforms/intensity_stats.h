// Intensity transforms that depend on whole-image (or per-channel) statistics (MONAI names,
// parameters and defaults). Compiled by splitting at the reduction: the statistics are computed on
// the host from the transform's actual input and passed to the next fused kernel as operands.
#pragma once

#include <optional>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// Options of NormalizeIntensity: out = (x - subtrahend) / divisor, both defaulting to the mean
/// and population std (std 0 -> 1) of the image, of its non-zero voxels when `nonzero`, per
/// channel when `channel_wise`. An explicit subtrahend/divisor is one value, or one per channel
/// when channel_wise.
struct NormalizeIntensityOptions {
  NormalizeIntensityOptions() = default;
  TORCH_ARG(std::vector<double>, subtrahend);
  TORCH_ARG(std::vector<double>, divisor);
  TORCH_ARG(bool, nonzero) = false;
  TORCH_ARG(bool, channel_wise) = false;
};

/// MONAI NormalizeIntensity (dtype float32): computed in float32; with `nonzero`, zeros stay.
///
///   NormalizeIntensity(NormalizeIntensityOptions().nonzero(true).channel_wise(true))
class NormalizeIntensity : public StatsTransform {
public:
  using Options = NormalizeIntensityOptions;
  explicit NormalizeIntensity(Options o = {});
  std::string name() const override { return "NormalizeIntensity"; }
  int numParams() const override { return 2; }
  bool channelWise() const override { return o_.channel_wise(); }
  void stats(const at::Tensor &input, int64_t channel, std::vector<double> &params) const override;
  /// Mean and population std come from the moments unless subtrahend and divisor are both given.
  bool statsAreMoments(bool *nonzeroOnly) const override;
  void statsFromMoments(const std::array<double, 3> &moments, int64_t channel,
                        std::vector<double> &params) const override;
  at::Tensor apply(const at::Tensor &input, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of ScaleIntensityRangePercentiles: ScaleIntensityRange with a_min/a_max the
/// `lower`/`upper` percentiles (in [0, 100], np.percentile's linear interpolation) of the image.
/// `relative` maps onto [b_min + (b_max - b_min) * lower / 100, b_min + (b_max - b_min) *
/// upper / 100] instead.
struct ScaleIntensityRangePercentilesOptions {
  ScaleIntensityRangePercentilesOptions(double lower, double upper, std::optional<double> b_min,
                                        std::optional<double> b_max)
      : lower_(lower), upper_(upper), b_min_(b_min), b_max_(b_max) {}
  TORCH_ARG(double, lower);
  TORCH_ARG(double, upper);
  TORCH_ARG(std::optional<double>, b_min);
  TORCH_ARG(std::optional<double>, b_max);
  TORCH_ARG(bool, clip) = false;
  TORCH_ARG(bool, relative) = false;
  TORCH_ARG(bool, channel_wise) = false;
};

/// MONAI ScaleIntensityRangePercentiles (dtype float32).
///
///   ScaleIntensityRangePercentiles(ScaleIntensityRangePercentilesOptions(5, 95, 0, 1).clip(true))
class ScaleIntensityRangePercentiles : public StatsTransform {
public:
  using Options = ScaleIntensityRangePercentilesOptions;
  explicit ScaleIntensityRangePercentiles(Options o);
  std::string name() const override { return "ScaleIntensityRangePercentiles"; }
  int numParams() const override { return 2; }
  bool channelWise() const override { return o_.channel_wise(); }
  void stats(const at::Tensor &input, int64_t channel, std::vector<double> &params) const override;
  at::Tensor apply(const at::Tensor &input, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
  std::optional<double> bMin_, bMax_; // after `relative`
};

/// Options of ClipIntensityPercentiles: clamp to the `lower`/`upper` percentiles (either may be
/// absent, not both). Hard clipping only (MONAI's sharpness_factor=None).
struct ClipIntensityPercentilesOptions {
  ClipIntensityPercentilesOptions(std::optional<double> lower, std::optional<double> upper)
      : lower_(lower), upper_(upper) {}
  TORCH_ARG(std::optional<double>, lower);
  TORCH_ARG(std::optional<double>, upper);
  TORCH_ARG(bool, channel_wise) = false;
};

/// MONAI ClipIntensityPercentiles. Keeps the dtype.
///
///   ClipIntensityPercentiles(ClipIntensityPercentilesOptions(1, 99))
class ClipIntensityPercentiles : public StatsTransform {
public:
  using Options = ClipIntensityPercentilesOptions;
  explicit ClipIntensityPercentiles(Options o);
  std::string name() const override { return "ClipIntensityPercentiles"; }
  int numParams() const override { return 2; }
  bool channelWise() const override { return o_.channel_wise(); }
  void stats(const at::Tensor &input, int64_t channel, std::vector<double> &params) const override;
  at::Tensor apply(const at::Tensor &input, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of StdShiftIntensity: add factor * std (population std, of the non-zero voxels when
/// `nonzero`, per channel when `channel_wise`).
struct StdShiftIntensityOptions {
  explicit StdShiftIntensityOptions(double factor) : factor_(factor) {}
  TORCH_ARG(double, factor);
  TORCH_ARG(bool, nonzero) = false;
  TORCH_ARG(bool, channel_wise) = false;
};

/// MONAI StdShiftIntensity (dtype float32): computed in float32, written in the input's dtype.
///
///   StdShiftIntensity(StdShiftIntensityOptions(0.5).nonzero(true))
class StdShiftIntensity : public StatsTransform {
public:
  using Options = StdShiftIntensityOptions;
  explicit StdShiftIntensity(Options o);
  std::string name() const override { return "StdShiftIntensity"; }
  int numParams() const override { return 2; }
  bool channelWise() const override { return o_.channel_wise(); }
  void stats(const at::Tensor &input, int64_t channel, std::vector<double> &params) const override;
  /// The std comes from the moments.
  bool statsAreMoments(bool *nonzeroOnly) const override;
  void statsFromMoments(const std::array<double, 3> &moments, int64_t channel,
                        std::vector<double> &params) const override;
  at::Tensor apply(const at::Tensor &input, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

using NormalizeIntensityd = Dictionary<NormalizeIntensity>;
using ScaleIntensityRangePercentilesd = Dictionary<ScaleIntensityRangePercentiles>;
using ClipIntensityPercentilesd = Dictionary<ClipIntensityPercentiles>;
using StdShiftIntensityd = Dictionary<StdShiftIntensity>;

} // namespace med::transforms
