// Random intensity transforms (MONAI names, parameters and defaults). Parameters are drawn per
// call on the host and passed to the fused kernel; RandGaussianNoise draws its per-voxel noise
// inside the kernel from the same counter-based generator the reference uses.
#pragma once

#include <utility>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// A (low, high) interval to draw a parameter from.
using Range = std::pair<double, double>;

/// Options of RandShiftIntensity: offset ~ U(offsets); a single value v means (-v, v).
struct RandShiftIntensityOptions {
  explicit RandShiftIntensityOptions(double v) : offsets_(-std::abs(v), std::abs(v)) {}
  RandShiftIntensityOptions(double lo, double hi) : offsets_(lo, hi) {}
  TORCH_ARG(Range, offsets);
  TORCH_ARG(double, prob) = 0.1;
};

/// MONAI RandShiftIntensity (channel_wise=false). Keeps the dtype.
///
///   RandShiftIntensity(RandShiftIntensityOptions(0.1).prob(1.0))
class RandShiftIntensity : public RandomTransform {
public:
  using Options = RandShiftIntensityOptions;
  explicit RandShiftIntensity(Options o);
  std::string name() const override { return "RandShiftIntensity"; }
  int numParams() const override { return 2; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of RandScaleIntensity: factor ~ U(factors), out = x * (1 + factor); a single value v
/// means (-v, v).
struct RandScaleIntensityOptions {
  explicit RandScaleIntensityOptions(double v) : factors_(-std::abs(v), std::abs(v)) {}
  RandScaleIntensityOptions(double lo, double hi) : factors_(lo, hi) {}
  TORCH_ARG(Range, factors);
  TORCH_ARG(double, prob) = 0.1;
};

/// MONAI RandScaleIntensity (channel_wise=false). Output float32, as MONAI's default dtype.
///
///   RandScaleIntensity(RandScaleIntensityOptions(0.1).prob(1.0))
class RandScaleIntensity : public RandomTransform {
public:
  using Options = RandScaleIntensityOptions;
  explicit RandScaleIntensity(Options o);
  std::string name() const override { return "RandScaleIntensity"; }
  int numParams() const override { return 2; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of RandAdjustContrast: gamma ~ U(gamma) (MONAI default (0.5, 4.5)).
struct RandAdjustContrastOptions {
  RandAdjustContrastOptions() = default;
  TORCH_ARG(Range, gamma) = {0.5, 4.5};
  TORCH_ARG(double, prob) = 0.1;
};

/// MONAI RandAdjustContrast (invert_image=false, retain_stats=false):
/// out = ((x - min) / (range + 1e-7))^gamma * range + min. Integer images become float32 whether
/// or not the transform fires, so the output type never depends on a draw (MONAI returns the
/// integer image unchanged when it does not fire).
///
///   RandAdjustContrast(RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(1.0))
class RandAdjustContrast : public RandomTransform {
public:
  using Options = RandAdjustContrastOptions;
  explicit RandAdjustContrast(Options o = {});
  std::string name() const override { return "RandAdjustContrast"; }
  int numParams() const override { return 4; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  /// The image's min and max: the kernel gets them as operands, so it stays elementwise.
  bool needsInputStats() const override { return true; }
  void inputStats(const at::Tensor &input, std::vector<double> &params) const override;
  bool inputStatsAreExtrema() const override { return true; }
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of RandGaussianNoise: noise ~ N(mean, s) per voxel with s ~ U(0, std) when
/// sample_std (MONAI's default), else s = std.
struct RandGaussianNoiseOptions {
  RandGaussianNoiseOptions() = default;
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(double, mean) = 0.0;
  TORCH_ARG(double, std) = 0.1;
  TORCH_ARG(bool, sample_std) = true;
};

/// MONAI RandGaussianNoise. Output float32 (MONAI's default dtype). The noise of voxel i is a
/// pure function of (stream, i): the same for any thread count, chunking or schedule; it does
/// not reproduce numpy's stream.
///
///   RandGaussianNoise(RandGaussianNoiseOptions().std(0.1).prob(1.0))
class RandGaussianNoise : public RandomTransform {
public:
  using Options = RandGaussianNoiseOptions;
  explicit RandGaussianNoise(Options o = {});
  std::string name() const override { return "RandGaussianNoise"; }
  int numParams() const override { return 5; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

using RandShiftIntensityd = Dictionary<RandShiftIntensity>;
using RandScaleIntensityd = Dictionary<RandScaleIntensity>;
using RandAdjustContrastd = Dictionary<RandAdjustContrast>;
using RandGaussianNoised = Dictionary<RandGaussianNoise>;

} // namespace med::transforms
