// GlobalMutualInformationLoss with Gaussian windows on the generated Parzen kernels
// (med.parzen_sums and med.parzen_window forward, med.parzen_window_grad backward) against
// MONAI's formulation in ATen (forward_eager, autograd) and float64 central differences of the
// kernels themselves: 1-D, 2-D and 3-D, batch and channels > 1, bin counts, sigma ratios, every
// reduction, float32 and float64, intensities outside [0, 1] (the clamp), thread counts, a target
// that needs a gradient, double backward, b-spline windows and more bins than the kernels take,
// that the kernels were used, and the launchers' checks.

#include <cmath>
#include <string>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/kernels/parzen.h"
#include "med/losses/registration.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

using Options = GlobalMutualInformationLossOptions;

int64_t kernelRequests() {
  compiler::JitStats s = compiler::JitSession::global().stats();
  return s.hits + s.misses + s.diskHits;
}

/// A related pair (float64): the prediction a noisy monotone map of the target, with a few
/// values below 0 and above 1.
std::pair<at::Tensor, at::Tensor> pair(const std::vector<int64_t> &shape, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor t = at::rand(shape, at::kDouble) * 1.2 - 0.1;
  at::Tensor p = (t * t + 0.1 * at::randn(shape, at::kDouble)).clamp(-0.2, 1.2);
  return {p, t};
}

TEST(GmiGenerated, MatchesTheAtenFormulationValuesAndGradients) {
  struct Case {
    std::vector<int64_t> shape;
    int64_t bins;
    double ratio;
  };
  const std::vector<Case> cases = {
      {{2, 1, 17, 13}, 23, 0.5}, {{2, 2, 9, 8, 7}, 8, 1.0}, {{3, 1, 300}, 32, 0.5}};
  for (const Case &c : cases)
    for (const char *reduction : {"mean", "sum", "none"})
      for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
        SCOPED_TRACE(::testing::Message() << c.shape << " bins " << c.bins << " " << reduction
                                          << " " << at::toString(dtype));
        GlobalMutualInformationLoss loss(
            Options().num_bins(c.bins).sigma_ratio(c.ratio).reduction(reduction));
        auto [p64, t64] = pair(c.shape, 31);
        at::Tensor t = t64.to(dtype);
        at::Tensor pe = p64.to(dtype).requires_grad_(true);
        at::Tensor ref = loss->forward_eager(pe, t);
        at::Tensor w = at::rand(ref.sizes(), at::kDouble).to(ref.scalar_type()) + 0.5;
        at::Tensor refGrad = torch::autograd::grad({(ref * w).sum()}, {pe})[0];
        at::Tensor p = p64.to(dtype).requires_grad_(true);
        const int64_t before = kernelRequests();
        at::Tensor ours = loss(p, t);
        at::Tensor grad = torch::autograd::grad({(ours * w).sum()}, {p})[0];
        EXPECT_GE(kernelRequests() - before, 2) << "the kernels were not used";
        ASSERT_EQ(ours.sizes(), ref.sizes());
        EXPECT_EQ(ours.scalar_type(), dtype);
        const bool f32 = dtype == at::kFloat;
        expectClose(ours, ref, f32 ? 2e-5 : 1e-12);
        const double scale = refGrad.abs().max().item<double>();
        expectClose(grad, refGrad, (f32 ? 1e-4 : 1e-10) * scale);
        // The clamp: voxels outside [0, 1] get no gradient.
        at::Tensor outside = (p64 < 0).logical_or(p64 > 1);
        EXPECT_EQ(grad.masked_select(outside).abs().max().item<double>(), 0.0);
        EXPECT_GT(grad.masked_select(outside.logical_not()).abs().max().item<double>(), 0.0);
      }
}

TEST(GmiGenerated, KernelGradientMatchesCentralDifferencesInFloat64) {
  auto [a, b] = pair({2, 1, 6, 7}, 5);
  a = a.clamp(0.01, 0.99); // central differences need the clamp's flat parts out of reach
  std::vector<double> centres;
  for (int i = 0; i < 9; ++i)
    centres.push_back(i / 8.0);
  const double preterm = 1 / (2 * 0.0625 * 0.0625);
  at::Tensor g = at::randn({2, 9, 9}, at::kDouble);
  at::Tensor grad = kernels::parzen_joint_grad(a, b, centres, preterm, g, 1, "test");
  auto f = [&](const at::Tensor &x) {
    return (kernels::parzen_joint(x, b, centres, preterm, 1, "test") * g).sum().item<double>();
  };
  const double eps = 1e-6;
  for (int64_t i = 0; i < a.numel(); i += 5) {
    at::Tensor v = at::zeros_like(a);
    v.view(-1)[i] = 1.0;
    const double fd = (f(a + eps * v) - f(a - eps * v)) / (2 * eps);
    EXPECT_NEAR(grad.view(-1)[i].item<double>(), fd, 1e-7 * std::max(1.0, std::abs(fd)))
        << "voxel " << i;
  }
  at::Tensor v = at::randn(a.sizes(), at::kDouble);
  const double fd = (f(a + eps * v) - f(a - eps * v)) / (2 * eps);
  EXPECT_NEAR((grad * v).sum().item<double>(), fd, 1e-7 * std::max(1.0, std::abs(fd)));
  // The joint itself against its definition, written out here.
  at::Tensor c = at::tensor(centres, at::kDouble);
  auto weights = [&](const at::Tensor &x) {
    at::Tensor e = at::exp(-preterm * (x.clamp(0, 1).reshape({2, -1, 1}) - c).square());
    return e / e.sum(-1, true);
  };
  at::Tensor ref = at::bmm(weights(a).transpose(1, 2), weights(b)) / double(a[0].numel());
  expectClose(kernels::parzen_joint(a, b, centres, preterm, 1, "test"), ref, 1e-14);
}

TEST(GmiGenerated, ThreadCountsGiveBitwiseEqualResults) {
  // Over 65536 voxels per item, so the blocks (and their partial sums) are several.
  auto [p64, t64] = pair({2, 1, 40, 40, 50}, 6);
  at::Tensor p = p64.to(at::kFloat), t = t64.to(at::kFloat);
  GlobalMutualInformationLoss loss;
  expectSameOnOneAndTwoThreads([&](const at::Tensor &x) { return loss(x, t); }, p);
}

TEST(GmiGenerated, TargetGradientDoubleBackwardBsplineAndManyBinsUseTheAtenFormulation) {
  auto [p64, t64] = pair({2, 1, 9, 10}, 7);
  GlobalMutualInformationLoss loss(Options().num_bins(12));
  expectAtenPaths(
      [&](const at::Tensor &x, const at::Tensor &y) { return loss(x, y); },
      [&](const at::Tensor &x, const at::Tensor &y) { return loss->forward_eager(x, y); }, p64, t64,
      1e-10, 1e-7);
  // B-spline windows and more bins than the kernels take stay on MONAI's formulation.
  GlobalMutualInformationLoss bspline(Options().kernel_type("b-spline").num_bins(16));
  GlobalMutualInformationLoss many(Options().num_bins(kernels::kParzenMaxBins + 1));
  const int64_t before = kernelRequests();
  expectClose(bspline(p64, t64), bspline->forward_eager(p64, t64), 0.0);
  expectClose(many(p64, t64), many->forward_eager(p64, t64), 0.0);
  EXPECT_EQ(kernelRequests(), before);
}

TEST(GmiGenerated, LaunchersCheckTheirInputs) {
  at::Tensor a = at::rand({2, 50}), b = at::rand({2, 50});
  std::vector<double> c = {0.0, 0.5, 1.0};
  expectMedError([&] { kernels::parzen_joint(a, b, std::vector<double>(33, 0.5), 1, 1, "L"); },
                 "1 to 32 bins");
  expectMedError([&] { kernels::parzen_joint(a, b.view({4, 25}), c, 1, 1, "L"); }, "one shape");
  expectMedError([&] { kernels::parzen_joint(a, b.to(at::kDouble), c, 1, 1, "L"); }, "L");
  expectMedError(
      [&] {
        kernels::parzen_joint_grad(a, b, c, 1, at::zeros({2, 3, 3}), 1, "L");
      },
      "float64");
  expectMedError(
      [&] {
        kernels::parzen_joint_grad(a, b, c, 1, at::zeros({2, 2, 2}, at::kDouble), 1, "L");
      },
      "(B, bins, bins)");
}

} // namespace
} // namespace med::losses::test
