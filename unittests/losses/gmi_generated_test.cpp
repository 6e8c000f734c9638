// GlobalMutualInformationLoss on the generated Parzen kernels, Gaussian (med.parzen_sums and
// med.parzen_window forward, med.parzen_window_grad backward) and b-spline (med.bspline_*),
// against MONAI's formulation in ATen (forward_eager, autograd) and float64 central differences
// of the kernels themselves: 1-D, 2-D and 3-D, batch and channels > 1, bin counts, sigma ratios,
// every reduction, float32 and float64, intensities outside [0, 1] and the b-spline clamp, the
// extrema's share of the b-spline gradient, a box window's tie, thread counts, a target that
// needs a gradient, double backward, more bins than the kernels take, constant images, that the
// kernels were used, and the launchers' checks.

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

/// loss(p, t) and its gradient by p (of the loss weighted by random positive weights) against
/// forward_eager's in `dtype`, and that the kernels were used; returns our gradient.
at::Tensor gradAgainstEager(GlobalMutualInformationLoss &loss, const at::Tensor &p64,
                            const at::Tensor &t64, at::ScalarType dtype) {
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
  EXPECT_EQ(ours.sizes(), ref.sizes());
  EXPECT_EQ(ours.scalar_type(), dtype);
  const bool f32 = dtype == at::kFloat;
  expectClose(ours, ref, f32 ? 2e-5 : 1e-12);
  const double scale = refGrad.abs().max().item<double>();
  expectClose(grad, refGrad, (f32 ? 1e-4 : 1e-10) * scale);
  return grad;
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
        at::Tensor grad = gradAgainstEager(loss, p64, t64, dtype);
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

TEST(GmiGenerated, TargetGradientDoubleBackwardManyBinsAndConstantImagesUseTheAtenFormulation) {
  auto [p64, t64] = pair({2, 1, 9, 10}, 7);
  GlobalMutualInformationLoss loss(Options().num_bins(12));
  expectAtenPaths(
      [&](const at::Tensor &x, const at::Tensor &y) { return loss(x, y); },
      [&](const at::Tensor &x, const at::Tensor &y) { return loss->forward_eager(x, y); }, p64, t64,
      1e-10, 1e-7);
  // B-spline: the target's box window has no gradient (comparisons only), so double backward.
  GlobalMutualInformationLoss bspline(Options().kernel_type("b-spline").num_bins(16));
  at::Tensor v = at::randn(p64.sizes(), at::kDouble);
  auto [g, h] = gradAndHvp([&](const at::Tensor &x) { return bspline(x, t64); }, p64, v);
  auto [gr, hr] =
      gradAndHvp([&](const at::Tensor &x) { return bspline->forward_eager(x, t64); }, p64, v);
  expectClose(g, gr, 1e-10);
  expectClose(h, hr, 1e-7 * hr.abs().max().item<double>());
  // More bins than the kernels take, a constant image (a zero bin size: MONAI's NaNs) and a
  // target of another dtype stay on MONAI's formulation.
  GlobalMutualInformationLoss many(Options().num_bins(kernels::kParzenMaxBins + 1));
  GlobalMutualInformationLoss manyBspline(
      Options().kernel_type("b-spline").num_bins(kernels::kParzenMaxBins + 1));
  at::Tensor flat = at::full_like(t64, 0.25);
  const int64_t before = kernelRequests();
  expectClose(many(p64, t64), many->forward_eager(p64, t64), 0.0);
  expectClose(manyBspline(p64, t64), manyBspline->forward_eager(p64, t64), 0.0);
  EXPECT_TRUE(bspline(p64, flat).isnan().item<bool>());
  EXPECT_TRUE(bspline(flat, t64).isnan().item<bool>());
  expectClose(bspline(p64, t64.to(at::kFloat)), bspline->forward_eager(p64, t64.to(at::kFloat)),
              0.0);
  EXPECT_EQ(kernelRequests(), before);
}

TEST(GmiGenerated, BsplineMatchesTheAtenFormulationValuesAndGradients) {
  // The gradient reaches pred through each voxel's window and through its extrema (the bin
  // size and minimum); the clamp to [2, bins - 3] holds the top bin width's voxels.
  struct Case {
    std::vector<int64_t> shape;
    int64_t bins;
  };
  const std::vector<Case> cases = {{{2, 1, 17, 13}, 16}, {{2, 2, 9, 8, 7}, 5}, {{3, 1, 300}, 32}};
  for (const Case &c : cases)
    for (const char *reduction : {"mean", "sum", "none"})
      for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
        SCOPED_TRACE(::testing::Message() << c.shape << " bins " << c.bins << " " << reduction
                                          << " " << at::toString(dtype));
        GlobalMutualInformationLoss loss(
            Options().kernel_type("b-spline").num_bins(c.bins).reduction(reduction));
        auto [p64, t64] = pair(c.shape, 41);
        p64 = p64 + 0.01 * at::randn(c.shape, at::kDouble); // extrema without ties
        at::Tensor grad = gradAgainstEager(loss, p64, t64, dtype);
        // The extrema's share: pred's largest voxel, clamped, gets a gradient through the bin
        // size. (With 5 bins every voxel is clamped to the one bin left: no gradient at all.)
        if (c.bins > 5)
          EXPECT_GT(grad.view(-1)[p64.argmax()].abs().item<double>(), 0.0);
        else
          EXPECT_EQ(grad.abs().max().item<double>(), 0.0);
      }
}

TEST(GmiGenerated, BsplineKernelGradientMatchesCentralDifferencesInFloat64) {
  auto [a, b] = pair({2, 1, 6, 7}, 8);
  const int64_t bins = 9;
  // Scales that leave a few voxels under the clamp's lower bound; the differences stay away
  // from the weights' knots (a voxel within eps of one is skipped).
  const kernels::BsplineScale sa{0.15, -1.5}, sb{0.2, -1.5};
  at::Tensor g = at::randn({2, bins, bins}, at::kDouble);
  at::Tensor grad = kernels::bspline_joint_grad(a, b, bins, sa, sb, g, 1, "test");
  auto f = [&](const at::Tensor &x) {
    return (kernels::bspline_joint(x, b, bins, sa, sb, 1, "test") * g).sum().item<double>();
  };
  const double eps = 1e-7;
  at::Tensor t = a / sa.size - sa.min;
  int64_t checked = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double ti = t.view(-1)[i].item<double>();
    if (std::abs(ti - std::round(ti)) < 1e-4 || std::abs(ti - 2) < 1e-4 ||
        std::abs(ti - (bins - 3)) < 1e-4)
      continue;
    at::Tensor v = at::zeros_like(a);
    v.view(-1)[i] = 1.0;
    const double fd = (f(a + eps * v) - f(a - eps * v)) / (2 * eps);
    EXPECT_NEAR(grad.view(-1)[i].item<double>(), fd, 1e-6 * std::max(1.0, std::abs(fd)))
        << "voxel " << i << " at " << ti;
    if (ti < 2 || ti > bins - 3)
      EXPECT_EQ(grad.view(-1)[i].item<double>(), 0.0) << "clamped voxel " << i;
    ++checked;
  }
  EXPECT_GT(checked, a.numel() / 2);
  EXPECT_GT((t < 2).sum().item<int64_t>(), 0);
  // The joint against MONAI's windows, written out here: B-splines of |i - t|.
  auto weights = [&](const at::Tensor &x, const kernels::BsplineScale &s, bool cubic) {
    at::Tensor tt = (x / s.size - s.min).clamp(2, bins - 3).reshape({2, -1, 1});
    at::Tensor d = (at::arange(bins, at::kDouble) - tt).abs();
    at::Tensor w = cubic
                       ? at::where(d < 1, (4 - 6 * d * d + 3 * d * d * d) / 6,
                                   at::where(d < 2, (2 - d).pow(3) / 6, at::zeros_like(d)))
                       : at::where(d < 0.5, at::ones_like(d),
                                   at::where(d == 0.5, 0.5 * at::ones_like(d), at::zeros_like(d)));
    return w / w.sum(-1, true);
  };
  at::Tensor ref =
      at::bmm(weights(a, sa, true).transpose(1, 2), weights(b, sb, false)) / double(a[0].numel());
  expectClose(kernels::bspline_joint(a, b, bins, sa, sb, 1, "test"), ref, 1e-14);
  // A box window at a tie: half to each bin.
  const kernels::BsplineScale exact{0.25, -1.5}; // 0.75 / 0.25 + 1.5 = 4.5 exactly
  at::Tensor half = at::full({1, 4}, 0.75, at::kDouble);
  at::Tensor j = kernels::bspline_joint(half, half, bins, exact, exact, 1, "test");
  EXPECT_DOUBLE_EQ(j.sum(1)[0][4].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j.sum(1)[0][5].item<double>(), 0.5);
}

TEST(GmiGenerated, BsplineThreadCountsGiveBitwiseEqualResults) {
  auto [p64, t64] = pair({2, 1, 40, 40, 50}, 9);
  at::Tensor p = p64.to(at::kFloat), t = t64.to(at::kFloat);
  GlobalMutualInformationLoss loss(Options().kernel_type("b-spline").num_bins(16));
  expectSameOnOneAndTwoThreads([&](const at::Tensor &x) { return loss(x, t); }, p);
}

TEST(GmiGenerated, LaunchersCheckTheirInputs) {
  at::Tensor a = at::rand({2, 50}), b = at::rand({2, 50});
  std::vector<double> c = {0.0, 0.5, 1.0};
  expectMedError([&] { kernels::parzen_joint(a, b, std::vector<double>(33, 0.5), 1, 1, "L"); },
                 "1 to 32 bins");
  expectMedError([&] { kernels::parzen_joint(a, b.view({4, 25}), c, 1, 1, "L"); }, "one shape");
  expectMedError([&] { kernels::bspline_joint(a, b, 4, {}, {}, 1, "L"); }, "5 to 32 bins");
  expectMedError(
      [&] {
        kernels::bspline_joint_grad(a, b, 6, {}, {}, at::zeros({2, 6, 6}), 1, "L");
      },
      "float64");
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
