// Intensity augmentations that need the whole image or per-voxel host randomness: MaskIntensity,
// RandCoarseDropout, RandHistogramShift, RandBiasField, RandRicianNoise, RandKSpaceSpikeNoise
// (MONAI names, parameters and defaults). RandBiasField compiles to med.bias_field,
// RandHistogramShift to med.histogram_shift, RandRicianNoise (not channel_wise) to
// med.rician_noise and RandCoarseDropout to med.coarse_dropout; MaskIntensity and
// RandKSpaceSpikeNoise run their ATen implementation as host steps in compiled pipelines. The
// random ones draw (fires, k0, k1) in sample(): k0, k1 key a sub-stream from which eager() draws
// everything whose count depends on the image (holes, per-channel values, per-voxel noise), in
// MONAI's order. See docs/transforms-intensity-aug.md.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// A (low, high) interval (coefficients, log intensities).
using AugRange = std::pair<double, double>;
/// A (min, max) count.
using CountRange = std::pair<int64_t, int64_t>;
/// Boolean mask from mask data (MaskIntensity's select_fn).
using SelectFn = std::function<at::Tensor(const at::Tensor &)>;

namespace detail {
/// MONAI's is_positive: m > 0.
at::Tensor isPositive(const at::Tensor &m);
} // namespace detail

/// Options of MaskIntensity: `mask_data` (1 or C channels, the image's spatial shape) and
/// `select_fn` mapping it to a boolean mask (MONAI's default is_positive: mask > 0).
struct MaskIntensityOptions {
  MaskIntensityOptions(at::Tensor mask_data) : mask_data_(std::move(mask_data)) {}
  TORCH_ARG(at::Tensor, mask_data);
  TORCH_ARG(SelectFn, select_fn) = detail::isPositive;
};

/// MONAI MaskIntensity: img * select_fn(mask), keeping the image's dtype.
///
///   MaskIntensity(MaskIntensityOptions(brainMask))
class MaskIntensity : public HostTransform {
public:
  using Options = MaskIntensityOptions;
  explicit MaskIntensity(Options o);
  std::string name() const override { return "MaskIntensity"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

/// A host random transform whose sample() draws (fires, k0, k1): eager() then draws the values
/// that depend on the image (holes, per-channel values) from the sub-stream keyed (k0, k1).
class SubStreamTransform : public RandomHostTransform {
public:
  int numParams() const override { return 3; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  /// The probability that the transform fires.
  virtual double prob() const = 0;
};

/// MONAI's fill_value of RandCoarseDropout: one value, or (low, high) for U(low, high) per voxel.
struct FillValue {
  FillValue(double v) : low(v), high(v) {}
  FillValue(double lo, double hi) : low(lo), high(hi), range(true) {}
  double low, high;
  bool range = false;
};

/// Options of RandCoarseDropout. `spatial_size` / `max_spatial_size`: one value for every axis
/// or one per axis; values <= 0 mean the image's size (MONAI's fall_back_tuple). fill_value
/// unset means U(img.min(), img.max()) per voxel.
struct RandCoarseDropoutOptions {
  RandCoarseDropoutOptions(int64_t holes, std::vector<int64_t> spatial_size)
      : holes_(holes), spatial_size_(std::move(spatial_size)) {}
  TORCH_ARG(int64_t, holes);
  TORCH_ARG(std::vector<int64_t>, spatial_size);
  TORCH_ARG(bool, dropout_holes) = true;
  TORCH_ARG(std::optional<FillValue>, fill_value);
  TORCH_ARG(std::optional<int64_t>, max_holes);
  TORCH_ARG(std::optional<std::vector<int64_t>>, max_spatial_size);
  TORCH_ARG(double, prob) = 0.1;
};

/// MONAI RandCoarseDropout: fills `holes` (or U{holes..max_holes}) random boxes with fill_value
/// (dropout_holes) or keeps only the boxes. Keeps the dtype. Compiled as med.coarse_dropout
/// (elementwise, in a kernel of its own; up to 64 boxes): the boxes depend on the image's shape, so
/// they are shape operands drawn per call from the sub-stream; a range fill takes each voxel's
/// uniform from the sub-stream's part 3 by the voxel's index (rt::voxelUniform).
///
///   RandCoarseDropout(RandCoarseDropoutOptions(4, {8, 8, 8}).fill_value(0.0).prob(1.0))
class RandCoarseDropout : public RandomTransform, public ShapeOperands {
public:
  using Options = RandCoarseDropoutOptions;
  explicit RandCoarseDropout(Options o);
  std::string name() const override { return "RandCoarseDropout"; }
  bool traceable() const override { return maxHoles() <= 64; }
  int numParams() const override { return 3; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  /// Without fill_value the fill range is the image's (min, max).
  bool needsInputStats() const override { return !o_.fill_value(); }
  void inputStats(const at::Tensor &input, std::vector<double> &params) const override;
  bool inputStatsAreExtrema() const override { return true; }
  void trace(frontend::ChainSpec &chain) const override;
  /// (low, high, the fill stream's key, the box count, the spatial shape, then max_holes boxes
  /// of (start, size) per axis, unused ones zero).
  void shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                     std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  /// The boxes a call with `params` fills, each as (start, size) per spatial axis.
  std::vector<std::vector<std::pair<int64_t, int64_t>>> holes(const at::Tensor &img,
                                                              const double *params) const;
  /// The same for an image of spatial shape `shape`.
  std::vector<std::vector<std::pair<int64_t, int64_t>>> holes(const std::vector<int64_t> &shape,
                                                              const double *params) const;

private:
  int64_t maxHoles() const { return o_.max_holes() ? *o_.max_holes() : o_.holes(); }
  Options o_;
};

/// Options of RandHistogramShift: the number of control points, one value or (min, max).
struct RandHistogramShiftOptions {
  RandHistogramShiftOptions(int64_t n = 10) : num_control_points_({n, n}) {}
  RandHistogramShiftOptions(int64_t lo, int64_t hi) : num_control_points_({lo, hi}) {}
  TORCH_ARG(CountRange, num_control_points);
  TORCH_ARG(double, prob) = 0.1;
};

/// MONAI RandHistogramShift: a monotone piecewise-linear map of intensities through control
/// points scaled to [min, max] of the image. Keeps the dtype. Compiled as med.histogram_shift
/// after a med.extrema split (it fuses with the pointwise ops after it); sample() draws (fires,
/// k0, k1) as a SubStreamTransform, then appends the control points' count and the floating
/// points drawn from that sub-stream, padded to the largest count.
///
///   RandHistogramShift(RandHistogramShiftOptions(5, 10).prob(1.0))
class RandHistogramShift : public RandomTransform {
public:
  using Options = RandHistogramShiftOptions;
  explicit RandHistogramShift(Options o = {});
  std::string name() const override { return "RandHistogramShift"; }
  /// Each control point is a kernel operand: more than 256 run eagerly instead.
  bool traceable() const override { return o_.num_control_points().second <= 256; }
  /// (fires, k0, k1, count, then max(num_control_points) floating points).
  int numParams() const override;
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  bool needsInputStats() const override { return true; }
  void inputStats(const at::Tensor &input, std::vector<double> &params) const override;
  bool inputStatsAreExtrema() const override { return true; }
  void trace(frontend::ChainSpec &chain) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  /// The (reference, floating) control points in [0, 1] a call with `params` uses.
  std::pair<std::vector<double>, std::vector<double>> controlPoints(const double *params) const;

private:
  Options o_;
};

/// Options of RandBiasField: Legendre degree and the interval of its coefficients.
struct RandBiasFieldOptions {
  RandBiasFieldOptions() = default;
  TORCH_ARG(int64_t, degree) = 3;
  TORCH_ARG(AugRange, coeff_range) = {0.0, 0.1};
  TORCH_ARG(double, prob) = 0.1;
};

/// MONAI RandBiasField: img * exp(field), field a Legendre polynomial of total degree <=
/// `degree` on [-1, 1]^d with coefficients ~ U(coeff_range). Output float32 (MONAI's dtype).
/// Draws (fires, k0, k1) as a SubStreamTransform; the coefficients come from the sub-stream.
///
///   RandBiasField(RandBiasFieldOptions().coeff_range({0.2, 0.3}).prob(1.0))
class RandBiasField : public RandomTransform, public ShapeOperands {
public:
  using Options = RandBiasFieldOptions;
  explicit RandBiasField(Options o = {});
  std::string name() const override { return "RandBiasField"; }
  /// Compiled as med.bias_field, elementwise (it fuses with its neighbours), the field in f64
  /// from the voxel's index; the shape and the call's coefficients are its operands. Degrees
  /// above 16 (the op's limit) run eagerly.
  bool traceable() const override { return o_.degree() <= 16; }
  void trace(frontend::ChainSpec &chain) const override;
  void shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                     std::vector<double> &params) const override;
  int numParams() const override { return 3; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;
  /// The field (float64, spatial shape) a call with `params` multiplies by exp() of.
  at::Tensor field(const std::vector<int64_t> &spatial, const double *params) const;
  /// The coefficients of that field, one per term in MONAI's order (see field()), for an image
  /// with `rank` (2 or 3) spatial axes.
  std::vector<double> coefficients(int64_t rank, const double *params) const;

private:
  Options o_;
};

/// Options of RandRicianNoise: mean and std are one value, or one per channel (channel_wise).
struct RandRicianNoiseOptions {
  RandRicianNoiseOptions() = default;
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::vector<double>, mean) = {0.0};
  TORCH_ARG(std::vector<double>, std) = {1.0};
  TORCH_ARG(bool, channel_wise) = false;
  TORCH_ARG(bool, relative) = false;
  TORCH_ARG(bool, sample_std) = true;
};

/// MONAI RandRicianNoise: sqrt((x + n1)^2 + n2^2), n1, n2 ~ N(mean, s) per voxel, s ~ U(0, std)
/// when sample_std (times the image's std when relative). Output float32. Compiled as
/// med.rician_noise (elementwise, fuses) unless channel_wise, which runs as a host step; a
/// relative call first takes the image's std on the host. sample() draws (fires, k0, k1) as a
/// SubStreamTransform and appends what the kernel needs from that sub-stream: mean, s (before
/// the relative scaling), the two noise keys, and 1 (the scale of a call that is not relative).
///
///   RandRicianNoise(RandRicianNoiseOptions().std({0.1}).prob(1.0))
class RandRicianNoise : public RandomTransform {
public:
  using Options = RandRicianNoiseOptions;
  explicit RandRicianNoise(Options o = {});
  std::string name() const override { return "RandRicianNoise"; }
  bool traceable() const override { return !o_.channel_wise(); }
  int numParams() const override { return 10; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  bool needsInputStats() const override { return o_.relative() && !o_.channel_wise(); }
  /// The float32 image's (unbiased) standard deviation, as the reference scales std by.
  void inputStats(const at::Tensor &input, std::vector<double> &params) const override;
  void trace(frontend::ChainSpec &chain) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  Options o_;
};

/// Options of RandKSpaceSpikeNoise: log-intensity interval of the spike, one for every channel
/// or one per channel; unset means MONAI's default (0.95 m, 1.1 m), m = 2.5 * mean log |k|.
struct RandKSpaceSpikeNoiseOptions {
  RandKSpaceSpikeNoiseOptions() = default;
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::optional<std::vector<AugRange>>, intensity_range);
  TORCH_ARG(bool, channel_wise) = true;
};

/// MONAI RandKSpaceSpikeNoise: sets one (centred) k-space location per channel to a random log
/// intensity, keeping its phase. channel_wise draws a location per channel, else one for all.
/// Keeps the dtype.
///
///   RandKSpaceSpikeNoise(RandKSpaceSpikeNoiseOptions().intensity_range({{10, 13}}).prob(1.0))
class RandKSpaceSpikeNoise : public SubStreamTransform {
public:
  using Options = RandKSpaceSpikeNoiseOptions;
  explicit RandKSpaceSpikeNoise(Options o = {});
  std::string name() const override { return "RandKSpaceSpikeNoise"; }
  double prob() const override { return o_.prob(); }
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  Options o_;
};

using MaskIntensityd = Dictionary<MaskIntensity>;
using RandCoarseDropoutd = Dictionary<RandCoarseDropout>;
using RandHistogramShiftd = Dictionary<RandHistogramShift>;
using RandBiasFieldd = Dictionary<RandBiasField>;
using RandRicianNoised = Dictionary<RandRicianNoise>;
using RandKSpaceSpikeNoised = Dictionary<RandKSpaceSpikeNoise>;

namespace detail {

/// The sub-stream keyed by a SubStreamTransform's params[1], params[2]; `part` separates
/// independent streams of one call (0: host draws; 1, 2: per-voxel noise keys).
rt::RandomKey subStream(const double *params, uint32_t part = 0);
/// SubStreamTransform's draws: (fires with probability `prob`, k0, k1).
void sampleSubStream(rt::Rng &rng, double prob, std::vector<double> &params);

} // namespace detail

} // namespace med::transforms
