// Generated kernels of SSIM (med.ssim_pass, med.ssim_adjoint): the separable window applied one
// spatial axis at a time to the five fields of each (item, channel), the last pass ending with
// SSIM's formula, and its adjoint for the gradient; compiled through the JIT and its disk cache
// and launched over runs of rows. Used by compute_ssim_and_cs (lib/metrics/ssim.cpp) when no
// gradient is needed and by SSIMLoss (lib/losses/ssim.cpp) forward and backward.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace med::kernels {

/// SSIM's (ssim, cs) maps of `x` and `y` (B, C, *spatial), 2 or 3 spatial axes, contiguous CPU
/// float32/float64 of one dtype and shape: each (B, C, S_d - K_d + 1 ...) of that dtype, for the
/// window that is the product of the 1-D windows `windows[d]` (K_d weights along axis d) and the
/// constants c1, c2. Formed in the inputs' dtype, axis by axis (a valid window); results do not
/// depend on `threads`.
///
///   auto [ssim, cs] = med::kernels::ssim_maps(x, y, {g, g}, 1e-4, 9e-4, 1, "SSIMMetric");
std::pair<at::Tensor, at::Tensor> ssim_maps(const at::Tensor &x, const at::Tensor &y,
                                            const std::vector<std::vector<double>> &windows,
                                            double c1, double c2, int threads,
                                            const std::string &owner);

/// The gradient by `x` of sum_o g(o) ssim(o), ssim being ssim_maps' first map of the same
/// arguments and `g` a contiguous tensor of that map's shape and dtype (the incoming gradient):
/// a tensor like `x`. The five fields are formed again (nothing is kept from the forward
/// pass), their derivatives times g at the last pass, then taken back to the image one axis at
/// a time by the window's adjoint. Results do not depend on `threads`.
///
///   at::Tensor dx = med::kernels::ssim_grad(x, y, {g, g}, 1e-4, 9e-4, go, 1, "SSIMLoss");
at::Tensor ssim_grad(const at::Tensor &x, const at::Tensor &y,
                     const std::vector<std::vector<double>> &windows, double c1, double c2,
                     const at::Tensor &g, int threads, const std::string &owner);

} // namespace med::kernels
