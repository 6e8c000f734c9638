// SSIMLoss on the generated window passes (med.ssim_pass forward; med.ssim_pass with
// coefficients and med.ssim_adjoint backward) against MONAI's ATen formulation
// (forward_eager, autograd) and float64 central differences of the kernels themselves: 2D and
// 3D, Gaussian and uniform windows, every reduction, batch and channels > 1, asymmetric windows
// (so a missing reversal in the adjoint shows), thread counts, a target that needs a gradient,
// double backward, that the kernels were used, and the gradient launcher's checks.

#include <cmath>
#include <string>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/kernels/ssim.h"
#include "med/losses/ssim.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

int64_t kernelRequests() {
  compiler::JitStats s = compiler::JitSession::global().stats();
  return s.hits + s.misses + s.diskHits;
}

/// A prediction near its target, both in [0, 1] (float64).
std::pair<at::Tensor, at::Tensor> pair(const std::vector<int64_t> &shape, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor t = at::rand(shape, at::kDouble);
  at::Tensor p = (t + 0.3 * at::rand(shape, at::kDouble) - 0.15).clamp(0, 1);
  return {p, t};
}

TEST(SsimLossGenerated, MatchesTheAtenFormulationValuesAndGradients) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 2, 17, 13}, {2, 1, 12, 9, 10}};
  for (const auto &shape : shapes)
    for (const char *kernel : {"gaussian", "uniform"})
      for (const char *reduction : {"mean", "sum", "none"})
        for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
          const int64_t n = int64_t(shape.size()) - 2;
          SCOPED_TRACE(::testing::Message()
                       << n << "-d " << kernel << " " << reduction << " " << at::toString(dtype));
          SSIMLoss loss(
              SSIMLossOptions(n).kernel_type(kernel).win_size(n == 2 ? 7 : 5).reduction(reduction));
          auto [p64, t64] = pair(shape, 21);
          at::Tensor pe = p64.to(dtype).requires_grad_(true), t = t64.to(dtype);
          at::Tensor ref = loss->forward_eager(pe, t);
          at::Tensor w = at::rand(ref.sizes(), at::kDouble).to(ref.scalar_type()) + 0.5;
          at::Tensor refGrad = torch::autograd::grad({(ref * w).sum()}, {pe})[0];
          at::Tensor p = p64.to(dtype).requires_grad_(true);
          const int64_t before = kernelRequests();
          at::Tensor ours = loss(p, t);
          at::Tensor grad = torch::autograd::grad({(ours * w).sum()}, {p})[0];
          EXPECT_GE(kernelRequests() - before, 2 * n) << "the kernels were not used";
          ASSERT_EQ(ours.sizes(), ref.sizes());
          EXPECT_EQ(ours.scalar_type(), ref.scalar_type());
          EXPECT_EQ(grad.scalar_type(), dtype);
          // Both compute in float32 (as MONAI), in different orders of summation.
          expectClose(ours, ref, 2e-6);
          const double scale = refGrad.abs().max().item<double>();
          expectClose(grad, refGrad, 2e-4 * scale);
        }
}

/// sum_o g(o) ssim(o) on the kernels (float64).
double weightedSsim(const at::Tensor &x, const at::Tensor &y,
                    const std::vector<std::vector<double>> &w, const at::Tensor &g) {
  return (kernels::ssim_maps(x, y, w, 1e-4, 9e-4, 1, "test").first * g).sum().item<double>();
}

TEST(SsimLossGenerated, KernelGradientMatchesCentralDifferencesInFloat64) {
  // Asymmetric windows of unequal sizes per axis: a forgotten reversal or a swapped axis in
  // the adjoint changes the gradient.
  struct Case {
    std::vector<int64_t> shape;
    std::vector<std::vector<double>> windows;
  };
  const std::vector<Case> cases = {
      {{2, 2, 9, 8}, {{0.1, 0.5, 0.4}, {0.7, 0.3}}},
      {{1, 2, 7, 6, 8}, {{0.2, 0.8}, {0.5, 0.2, 0.3}, {0.1, 0.2, 0.3, 0.4}}},
      {{1, 1, 5, 6}, {{1.0}, {0.25, 0.75}}}};
  for (const Case &c : cases) {
    SCOPED_TRACE(::testing::Message() << c.shape);
    auto [x, y] = pair(c.shape, 5);
    std::vector<int64_t> mapShape = {c.shape[0], c.shape[1]};
    for (size_t d = 0; d < c.windows.size(); ++d)
      mapShape.push_back(c.shape[2 + d] - int64_t(c.windows[d].size()) + 1);
    at::Tensor g = at::randn(mapShape, at::kDouble);
    at::Tensor grad = kernels::ssim_grad(x, y, c.windows, 1e-4, 9e-4, g, 1, "test");
    ASSERT_EQ(grad.sizes(), x.sizes());
    const double eps = 1e-6;
    auto central = [&](const at::Tensor &v) {
      return (weightedSsim(x + eps * v, y, c.windows, g) -
              weightedSsim(x - eps * v, y, c.windows, g)) /
             (2 * eps);
    };
    // Every voxel of the first item's first channel (corners and faces included) ...
    at::Tensor flat = grad.reshape(-1);
    const int64_t voxels = x[0][0].numel();
    for (int64_t i = 0; i < voxels; i += 3) {
      at::Tensor v = at::zeros_like(x);
      v.view(-1)[i] = 1.0;
      const double fd = central(v);
      EXPECT_NEAR(flat[i].item<double>(), fd, 1e-7 * std::max(1.0, std::abs(fd))) << "voxel " << i;
    }
    // ... and a random direction through every voxel.
    at::Tensor v = at::randn(x.sizes(), at::kDouble);
    const double fd = central(v);
    EXPECT_NEAR((grad * v).sum().item<double>(), fd, 1e-7 * std::max(1.0, std::abs(fd)));
  }
}

TEST(SsimLossGenerated, ThreadCountsGiveBitwiseEqualGradients) {
  auto [p64, t64] = pair({2, 2, 20, 18, 16}, 8);
  at::Tensor p = p64.to(at::kFloat), t = t64.to(at::kFloat);
  SSIMLoss loss(SSIMLossOptions(3).win_size(7));
  expectSameOnOneAndTwoThreads([&](const at::Tensor &x) { return loss(x, t); }, p);
}

TEST(SsimLossGenerated, TargetGradientAndDoubleBackwardUseTheAtenFormulation) {
  auto [p64, t64] = pair({2, 1, 11, 12}, 9);
  SSIMLoss loss(SSIMLossOptions(2).win_size(5));
  // A target that needs a gradient: both gradients, as MONAI's; double backward: the gradient
  // recomputed in ATen with a graph (Hessian-vector products).
  expectAtenPaths(
      [&](const at::Tensor &x, const at::Tensor &y) { return loss(x, y); },
      [&](const at::Tensor &x, const at::Tensor &y) { return loss->forward_eager(x, y); }, p64, t64,
      1e-12, 1e-9);
}

TEST(SsimLossGenerated, GradientLauncherChecksTheIncomingGradient) {
  at::Tensor x = at::rand({1, 1, 8, 8}), y = at::rand({1, 1, 8, 8});
  std::vector<std::vector<double>> w = {{0.5, 0.5}, {0.5, 0.5}};
  expectMedError(
      [&] {
        kernels::ssim_grad(x, y, w, 0, 0, at::rand({1, 1, 8, 8}), 1, "L");
      },
      "incoming gradient");
  expectMedError(
      [&] {
        kernels::ssim_grad(x, y, w, 0, 0, at::rand({1, 1, 7, 7}, at::kDouble), 1, "L");
      },
      "dtype");
  expectMedError([&] { kernels::ssim_grad(x, y, {{0.5, 0.5}}, 0, 0, x, 1, "L"); }, "L");
}

} // namespace
} // namespace med::losses::test
