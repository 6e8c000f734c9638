// Neighbourhood intensity transforms: Gaussian smoothing and sharpening, fixed and random (MONAI
// names, parameters and defaults). The eager references are ATen (separable convolution with
// zero padding, kernels built exactly as MONAI's GaussianFilter); GaussianSmooth and
// RandGaussianSmooth compile to one med.filter_axis per axis, the sharpening transforms run as
// host steps inside compiled pipelines. See docs/transforms-intensity-aug.md.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// A (low, high) interval to draw a parameter from (as intensity_random.h).
using SigmaRange = std::pair<double, double>;

/// Options of GaussianSmooth: `sigma` is one value for every spatial axis or one per axis;
/// `approx` is MONAI's kernel construction: "erf" (default), "sampled" or "scalespace".
struct GaussianSmoothOptions {
  GaussianSmoothOptions(double sigma = 1.0) : sigma_({sigma}) {}
  GaussianSmoothOptions(std::vector<double> sigma) : sigma_(std::move(sigma)) {}
  TORCH_ARG(std::vector<double>, sigma);
  TORCH_ARG(std::string, approx) = "erf";
};

/// MONAI GaussianSmooth: separable Gaussian filter (kernel truncated at 4 sigma, zero padding),
/// axes filtered in order x, y, z. Output float32 (MONAI converts to torch.float).
///
///   GaussianSmooth(GaussianSmoothOptions({0.5, 1.0, 2.0}).approx("sampled"))
class GaussianSmooth : public Transform, public WindowPasses {
public:
  using Options = GaussianSmoothOptions;
  explicit GaussianSmooth(Options o = {});
  std::string name() const override { return "GaussianSmooth"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as one med.filter_axis per spatial axis (a kernel each; cheap intensity ops after
  /// the last pass join it), with eager's float32 taps.
  void trace(frontend::ChainSpec &chain) const override;
  int64_t passes(int64_t rank) const override { return rank; }
  void shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                     std::vector<double> &params) const override;

private:
  Options o_;
};

/// Options of GaussianSharpen (MONAI defaults sigma1 3, sigma2 1, alpha 30, approx "erf").
struct GaussianSharpenOptions {
  GaussianSharpenOptions() = default;
  TORCH_ARG(std::vector<double>, sigma1) = {3.0};
  TORCH_ARG(std::vector<double>, sigma2) = {1.0};
  TORCH_ARG(double, alpha) = 30.0;
  TORCH_ARG(std::string, approx) = "erf";
};

/// MONAI GaussianSharpen: b = G(sigma1) * x, out = b + alpha * (b - G(sigma2) * b). Float32.
///
///   GaussianSharpen(GaussianSharpenOptions().sigma1({2.0}).alpha(10))
class GaussianSharpen : public HostTransform {
public:
  using Options = GaussianSharpenOptions;
  explicit GaussianSharpen(Options o = {});
  std::string name() const override { return "GaussianSharpen"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

/// Options of RandGaussianSmooth: per-axis sigma ~ U(sigma_x), U(sigma_y), U(sigma_z).
struct RandGaussianSmoothOptions {
  RandGaussianSmoothOptions() = default;
  TORCH_ARG(SigmaRange, sigma_x) = {0.25, 1.5};
  TORCH_ARG(SigmaRange, sigma_y) = {0.25, 1.5};
  TORCH_ARG(SigmaRange, sigma_z) = {0.25, 1.5};
  TORCH_ARG(double, prob) = 0.1;
  TORCH_ARG(std::string, approx) = "erf";
};

/// MONAI RandGaussianSmooth. Parameters: (fires, sigma_x, sigma_y, sigma_z). Output float32
/// whether or not it fires.
///
///   RandGaussianSmooth(RandGaussianSmoothOptions().sigma_x({0.5, 1.0}).prob(0.5))
class RandGaussianSmooth : public RandomTransform, public WindowPasses {
public:
  using Options = RandGaussianSmoothOptions;
  explicit RandGaussianSmooth(Options o = {});
  std::string name() const override { return "RandGaussianSmooth"; }
  /// Compiled as GaussianSmooth is, each pass with the taps of the largest sigma its range
  /// allows; a call's kernel sits among zeros, and a call that does not fire has the unit
  /// kernel (its result is the input as float32, as eager's).
  void trace(frontend::ChainSpec &chain) const override;
  int64_t passes(int64_t rank) const override { return rank; }
  void shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                     std::vector<double> &params) const override;
  int numParams() const override { return 4; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  Options o_;
};

/// MONAI's sigma2_x / sigma2_y / sigma2_z of RandGaussianSharpen: a single value v means
/// U(v, drawn sigma1 of that axis); two values are a fixed (low, high) interval.
struct Sigma2Range {
  Sigma2Range(double v) : low(v) {}
  Sigma2Range(double lo, double hi) : low(lo), high(hi) {}
  double low;
  std::optional<double> high;
};

/// Options of RandGaussianSharpen (MONAI's ranges and defaults).
struct RandGaussianSharpenOptions {
  RandGaussianSharpenOptions() = default;
  TORCH_ARG(SigmaRange, sigma1_x) = {0.5, 1.0};
  TORCH_ARG(SigmaRange, sigma1_y) = {0.5, 1.0};
  TORCH_ARG(SigmaRange, sigma1_z) = {0.5, 1.0};
  TORCH_ARG(Sigma2Range, sigma2_x) = 0.5;
  TORCH_ARG(Sigma2Range, sigma2_y) = 0.5;
  TORCH_ARG(Sigma2Range, sigma2_z) = 0.5;
  TORCH_ARG(SigmaRange, alpha) = {10.0, 30.0};
  TORCH_ARG(std::string, approx) = "erf";
  TORCH_ARG(double, prob) = 0.1;
};

/// MONAI RandGaussianSharpen. Parameters: (fires, x1, y1, z1, x2, y2, z2, alpha), drawn in
/// MONAI's order. Host step; output float32 whether or not it fires.
///
///   RandGaussianSharpen(RandGaussianSharpenOptions().alpha({5, 10}).prob(1.0))
class RandGaussianSharpen : public RandomTransform {
public:
  using Options = RandGaussianSharpenOptions;
  explicit RandGaussianSharpen(Options o = {});
  std::string name() const override { return "RandGaussianSharpen"; }
  bool traceable() const override { return false; }
  void trace(frontend::ChainSpec &chain) const override;
  int numParams() const override { return 8; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  using RandomTransform::eager;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  Options o_;
};

using GaussianSmoothd = Dictionary<GaussianSmooth>;
using GaussianSharpend = Dictionary<GaussianSharpen>;
using RandGaussianSmoothd = Dictionary<RandGaussianSmooth>;
using RandGaussianSharpend = Dictionary<RandGaussianSharpen>;

namespace detail {

/// MONAI's gaussian_1d(sigma, truncated=4, approx, normalize=False) in float32: 2 * tail + 1
/// taps, tail = int(max(sigma * 4, 0.5) + 0.5).
at::Tensor gaussianKernel1d(double sigma, const std::string &approx);

/// MONAI's GaussianFilter on a channel-first float image: per-axis kernels (one sigma for all
/// axes, or one per spatial axis), zero padding, axes convolved in order. `where` names errors.
at::Tensor gaussianFilter(const at::Tensor &img, const std::vector<double> &sigma,
                          const std::string &approx, const std::string &where);

/// Throws med::Error(where, ...) unless approx is "erf", "sampled" or "scalespace" (any case)
/// and every sigma is finite and > 0.
void checkGaussian(const std::vector<double> &sigma, const std::string &approx,
                   const std::string &where);

} // namespace detail

} // namespace med::transforms
