// Registration losses: regularisers of a dense displacement field (BendingEnergyLoss,
// DiffusionLoss) and image similarities (LocalNormalizedCrossCorrelationLoss,
// GlobalMutualInformationLoss), MONAI 1.4.0 semantics.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace med::losses {

/// BendingEnergyLoss's parameters.
struct BendingEnergyLossOptions {
  TORCH_ARG(bool, normalize) = false;
  TORCH_ARG(std::string, reduction) = "mean";
};

/// Sum of squared second derivatives of a DDF (B, ndim, *spatial) by central differences on the
/// interior voxels; `normalize` makes it invariant to the image size. Every spatial size must
/// be > 4.
///
///   med::losses::BendingEnergyLoss be; at::Tensor l = be(ddf); // ddf: (2, 3, 32, 32, 32)
class BendingEnergyLossImpl : public torch::nn::Module {
public:
  explicit BendingEnergyLossImpl(BendingEnergyLossOptions options = {});
  at::Tensor forward(const at::Tensor &pred);
  BendingEnergyLossOptions options;
};
TORCH_MODULE(BendingEnergyLoss);

/// DiffusionLoss's parameters.
struct DiffusionLossOptions {
  TORCH_ARG(bool, normalize) = false;
  TORCH_ARG(std::string, reduction) = "mean";
};

/// Sum of squared first derivatives of a DDF (central differences, interior voxels); spatial
/// sizes must be > 2.
///
///   med::losses::DiffusionLoss d; at::Tensor l = d(ddf);
class DiffusionLossImpl : public torch::nn::Module {
public:
  explicit DiffusionLossImpl(DiffusionLossOptions options = {});
  at::Tensor forward(const at::Tensor &pred);
  DiffusionLossOptions options;
};
TORCH_MODULE(DiffusionLoss);

/// The central difference (x[i+1] - x[i-1]) / 2 along `dim`, cropped to the interior (one voxel
/// off each side) on every spatial axis; the building block of the DDF regularisers.
at::Tensor spatial_gradient(const at::Tensor &x, int64_t dim);

/// LocalNormalizedCrossCorrelationLoss's parameters. kernel_type: "rectangular", "triangular"
/// or "gaussian"; kernel_size must be odd.
struct LocalNormalizedCrossCorrelationLossOptions {
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, kernel_size) = 3;
  TORCH_ARG(std::string, kernel_type) = "rectangular";
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 0.0;
  TORCH_ARG(double, smooth_dr) = 1e-5;
};

/// Minus the squared local normalised cross-correlation of pred and target in a sliding window
/// (zero padding at the borders), the window weighted by a separable 1-D kernel; MONAI's kernels
/// are reproduced exactly, including the Gaussian one's off-centre window.
///
///   med::losses::LocalNormalizedCrossCorrelationLoss lncc(
///       med::losses::LocalNormalizedCrossCorrelationLossOptions().kernel_size(5));
class LocalNormalizedCrossCorrelationLossImpl : public torch::nn::Module {
public:
  explicit LocalNormalizedCrossCorrelationLossImpl(
      LocalNormalizedCrossCorrelationLossOptions options = {});
  at::Tensor forward(const at::Tensor &pred, const at::Tensor &target);
  LocalNormalizedCrossCorrelationLossOptions options;
  /// The 1-D window (float32), as MONAI builds it for kernel_type and kernel_size.
  at::Tensor kernel;
};
TORCH_MODULE(LocalNormalizedCrossCorrelationLoss);

/// Applies the 1-D `kernel` along every spatial axis of x (B, C, *spatial) as a cross-correlation
/// with zero padding of (size - 1) / 2, first axis first (MONAI's separable_filtering).
at::Tensor separable_filtering(const at::Tensor &x, const at::Tensor &kernel);

/// Windows of at most this many taps (kernel_size^spatial_dims) run LNCC (every reduction) on
/// the generated stencil kernels, which unroll the window; larger ones stay on ATen's separable
/// convolutions.
constexpr int64_t kLnccMaxKernelTaps = 125;

namespace detail {
/// MONAI's energy map (B, n, *interior) of DiffusionLoss (order 1) or BendingEnergyLoss (order
/// 2) in ATen (central differences by slicing, autograd): the reference of the generated
/// kernels and the path of the inputs they do not take.
at::Tensor ddf_energy_map_eager(const at::Tensor &pred, int64_t order, bool normalize);

/// MONAI's LNCC map (B, C, *spatial) in ATen (separable convolutions, autograd): the reference
/// of the generated kernels and the path of the inputs they do not take. `kernel` is the 1-D
/// window, `kvol` its volume.
at::Tensor lncc_map_eager(const at::Tensor &pred, const at::Tensor &target,
                          const at::Tensor &kernel, double kvol, double smoothNr, double smoothDr);
} // namespace detail

/// GlobalMutualInformationLoss's parameters. kernel_type: "gaussian" or "b-spline".
struct GlobalMutualInformationLossOptions {
  TORCH_ARG(std::string, kernel_type) = "gaussian";
  TORCH_ARG(int64_t, num_bins) = 23;
  TORCH_ARG(double, sigma_ratio) = 0.5;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-7;
  TORCH_ARG(double, smooth_dr) = 1e-7;
};

/// Minus the mutual information of pred and target, from Parzen-window histograms: Gaussian
/// windows on [0, 1] intensities, or (b-spline) a cubic B-spline for pred and a box for target
/// on bins spanning each image's range. Both windows on the CPU (up to 32 bins) run on
/// generated kernels, the joint histogram and its gradient by pred (docs/losses.md).
///
///   med::losses::GlobalMutualInformationLoss mi; at::Tensor l = mi(moved, fixed);
class GlobalMutualInformationLossImpl : public torch::nn::Module {
public:
  explicit GlobalMutualInformationLossImpl(GlobalMutualInformationLossOptions options = {});
  at::Tensor forward(const at::Tensor &pred, const at::Tensor &target);
  /// The same loss by MONAI's formulation, op by op in ATen with autograd: the (B, N, bins)
  /// weights, their batched product and the marginals as their means. The tests' reference.
  at::Tensor forward_eager(const at::Tensor &pred, const at::Tensor &target);
  GlobalMutualInformationLossOptions options;

private:
  void check(const at::Tensor &pred, const at::Tensor &target) const;
  /// (B, N, bins) window weights and (B, 1, bins) marginal probabilities.
  std::pair<at::Tensor, at::Tensor> gaussian_window(const at::Tensor &img) const;
  std::pair<at::Tensor, at::Tensor> bspline_window(const at::Tensor &img, int order) const;
  at::Tensor bin_centers_, preterm_; // float32, gaussian only
};
TORCH_MODULE(GlobalMutualInformationLoss);

} // namespace med::losses
