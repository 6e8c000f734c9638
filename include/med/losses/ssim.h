// SSIMLoss: 1 - structural similarity (Wang et al. 2004), MONAI 1.4.0 semantics (valid,
// unpadded windows; mean of the SSIM map per sample; computed in float32 as MONAI does). On the
// CPU the map and its gradient come from generated kernels (med/kernels/ssim.h).
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace med::losses {

/// SSIMLoss's parameters (MONAI names and defaults); kernel_type "gaussian" or "uniform".
struct SSIMLossOptions {
  explicit SSIMLossOptions(int64_t spatial_dims) : spatial_dims_(spatial_dims) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(double, data_range) = 1.0;
  TORCH_ARG(std::string, kernel_type) = "gaussian";
  TORCH_ARG(int64_t, win_size) = 11;
  TORCH_ARG(double, kernel_sigma) = 1.5;
  TORCH_ARG(double, k1) = 0.01;
  TORCH_ARG(double, k2) = 0.03;
  TORCH_ARG(std::string, reduction) = "mean";
};

/// 1 - SSIM per sample ((B, 1) with reduction "none"), SSIM being the mean over the valid
/// windows and channels of luminance x contrast-structure terms. CPU inputs run the generated
/// window passes forward and backward (the gradient by the input; a target that needs a
/// gradient, other devices and double backward take the ATen formulation, forward_eager).
///
///   med::losses::SSIMLoss loss(med::losses::SSIMLossOptions(3).win_size(7));
///   at::Tensor l = loss(pred, target); // pred, target: (B, C, X, Y, Z) in [0, data_range]
class SSIMLossImpl : public torch::nn::Module {
public:
  explicit SSIMLossImpl(SSIMLossOptions options);
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  /// The same loss by MONAI's formulation, op by op in ATen with the whole n-D window and
  /// autograd: the reference the tests compare the kernels with.
  at::Tensor forward_eager(const at::Tensor &input, const at::Tensor &target);
  SSIMLossOptions options;

private:
  void check(const at::Tensor &input, const at::Tensor &target) const;
  at::Tensor taps_;   // (win,) float32, sums to 1: the window's factor along each axis
  at::Tensor window_; // (win,)*spatial_dims float32, sums to 1
};
TORCH_MODULE(SSIMLoss);

} // namespace med::losses
