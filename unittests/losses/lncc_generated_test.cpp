// LocalNormalizedCrossCorrelationLoss on the generated stencil kernels (med.lncc_map forward,
// med.lncc_coefficients and med.lncc_grad backward) against the plain ATen formulation (MONAI's
// separable convolutions, autograd) and central differences: 1, 2 and 3 spatial axes, every
// kernel type, smooth_nr, images with flat regions (clamped variances), float32 and float64,
// thread counts, double backward, reduction "none" (the map, and its gradient weighted voxel by
// voxel), the fall-back for large windows, the launchers' checks.

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/kernels/lncc.h"
#include "med/losses/registration.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

int64_t kernelRequests() {
  compiler::JitStats s = compiler::JitSession::global().stats();
  return s.hits + s.misses + s.diskHits;
}

using Options = LocalNormalizedCrossCorrelationLossOptions;

/// An image pair in [0, 1] (float64): random, and with `flat` a flat 3^n block in the target
/// and another in the prediction, so some windows of 3 have a clamped variance (target,
/// prediction or both).
std::pair<at::Tensor, at::Tensor> pair(std::vector<int64_t> shape, uint64_t seed,
                                       bool flat = true) {
  at::manual_seed(seed);
  at::Tensor p = at::rand(shape, at::kDouble), t = at::rand(shape, at::kDouble);
  if (!flat)
    return {p, t};
  at::Tensor tb = t, pb = p;
  for (size_t d = 2; d < shape.size(); ++d) {
    tb = tb.narrow(int64_t(d), 0, 3);
    pb = pb.narrow(int64_t(d), shape[d] - 3, 3);
  }
  tb.fill_(0.25);
  pb.fill_(0.75);
  return {p, t};
}

/// MONAI's loss from the ATen map: minus its mean (or sum, or itself), in float64 for the
/// reference.
at::Tensor eagerLoss(const LocalNormalizedCrossCorrelationLoss &m, const at::Tensor &p,
                     const at::Tensor &t) {
  at::Tensor vol = m->kernel;
  for (int64_t i = 0; i + 1 < m->options.spatial_dims(); ++i)
    vol = at::matmul(vol.unsqueeze(-1), m->kernel.unsqueeze(0));
  at::Tensor map = detail::lncc_map_eager(p, t, m->kernel, vol.sum().item<double>(),
                                          m->options.smooth_nr(), m->options.smooth_dr());
  const std::string &r = m->options.reduction();
  return r == "sum" ? -map.sum() : r == "none" ? -map : -map.mean();
}

TEST(LnccGeneratedKernels, MatchTheAtenFormulationValuesAndGradients) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 1, 13}, {2, 2, 9, 11}, {1, 2, 7, 9, 8}};
  for (const auto &shape : shapes)
    for (const char *type : {"rectangular", "triangular", "gaussian"})
      for (int64_t k : {3, 5})
        for (double nr : {0.0, 1e-3})
          for (at::ScalarType dtype : {at::kDouble, at::kFloat}) {
            const int64_t n = int64_t(shape.size()) - 2;
            SCOPED_TRACE(::testing::Message() << n << "-d " << type << " k " << k << " nr " << nr
                                              << " " << at::toString(dtype));
            LocalNormalizedCrossCorrelationLoss m(
                Options().spatial_dims(n).kernel_type(type).kernel_size(k).smooth_nr(nr).reduction(
                    nr > 0 ? "sum" : "mean"));
            // In float32 a flat window's variance is rounding noise next to smooth_dr, so
            // whether it is clamped, and the huge gradient there, depend on the order of the
            // sums (for MONAI's float32 as much as for ours): flat blocks in float64 only.
            auto [p64, t64] = pair(shape, 7 + k, dtype == at::kDouble);
            at::Tensor pr = p64.clone().requires_grad_(true);
            at::Tensor ref = eagerLoss(m, pr, t64);
            at::Tensor refGrad = torch::autograd::grad({ref}, {pr})[0];
            at::Tensor p = p64.to(dtype).requires_grad_(true), t = t64.to(dtype);
            const int64_t before = kernelRequests();
            at::Tensor v = m(p, t);
            at::Tensor g = torch::autograd::grad({v}, {p})[0];
            EXPECT_EQ(kernelRequests() - before, 3) << "map, coefficients and gradient kernels";
            EXPECT_EQ(v.scalar_type(), dtype);
            const double tol = dtype == at::kDouble ? 1e-9 : 2e-4;
            EXPECT_NEAR(v.item<double>(), ref.item<double>(),
                        tol * std::max(1.0, std::abs(ref.item<double>())));
            expectClose(g, refGrad, tol * std::max(1e-3, refGrad.abs().max().item<double>()));
          }
}

TEST(LnccGeneratedKernels, GradientsMatchCentralDifferences) {
  for (const char *type : {"rectangular", "gaussian"}) {
    SCOPED_TRACE(type);
    LocalNormalizedCrossCorrelationLoss m(
        Options().spatial_dims(3).kernel_type(type).kernel_size(3).smooth_nr(1e-4));
    auto [p, t] = pair({1, 1, 6, 5, 7}, 21);
    // Border voxels included; the loss is smooth away from the clamps, which the flat blocks
    // reach only where a variance is exactly constant.
    checkGrad([&](const at::Tensor &x) { return m(x, t); }, p, 24, 1e-6, 1e-5);
  }
}

TEST(LnccGeneratedKernels, SameResultsOnOneAndTwoThreads) {
  LocalNormalizedCrossCorrelationLoss m(Options().spatial_dims(3).kernel_size(5));
  auto [p64, t64] = pair({1, 2, 40, 36, 44}, 31);
  at::Tensor p = p64.to(at::kFloat), t = t64.to(at::kFloat);
  auto run = [&] {
    at::Tensor x = p.clone().requires_grad_(true);
    at::Tensor v = m(x, t);
    return std::make_pair(v, torch::autograd::grad({v}, {x})[0]);
  };
  auto [v1, g1] = med::testing::withThreads(1, run);
  auto [v2, g2] = med::testing::withThreads(2, run);
  EXPECT_TRUE(at::equal(v1, v2));
  EXPECT_TRUE(at::equal(g1, g2));
}

TEST(LnccGeneratedKernels, DoubleBackwardMatchesTheAtenFormulation) {
  LocalNormalizedCrossCorrelationLoss m(Options().spatial_dims(2).kernel_type("triangular"));
  auto [p, t] = pair({1, 1, 8, 9}, 41);
  at::Tensor dir = logits({1, 1, 8, 9}, 42);
  auto [g, h] = gradAndHvp([&](const at::Tensor &x) { return m(x, t); }, p, dir);
  auto [gr, hr] = gradAndHvp([&](const at::Tensor &x) { return eagerLoss(m, x, t); }, p, dir);
  expectClose(g, gr, 1e-10);
  expectClose(h, hr, 1e-10);
}

TEST(LnccGeneratedKernels, NoneMapAndItsWeightedGradientMatchTheAtenFormulation) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 1, 13}, {2, 2, 9, 11}, {1, 2, 7, 9, 8}};
  for (const auto &shape : shapes)
    for (const char *type : {"rectangular", "gaussian"})
      for (at::ScalarType dtype : {at::kDouble, at::kFloat}) {
        const int64_t n = int64_t(shape.size()) - 2;
        SCOPED_TRACE(::testing::Message() << n << "-d " << type << " " << at::toString(dtype));
        LocalNormalizedCrossCorrelationLoss m(
            Options().spatial_dims(n).kernel_type(type).kernel_size(3).reduction("none"));
        auto [p64, t64] = pair(shape, 17, dtype == at::kDouble);
        at::Tensor w = at::rand(shape, at::kDouble) + 0.5;
        at::Tensor pr = p64.clone().requires_grad_(true);
        at::Tensor ref = eagerLoss(m, pr, t64);
        at::Tensor refGrad = torch::autograd::grad({(ref * w).sum()}, {pr})[0];
        at::Tensor p = p64.to(dtype).requires_grad_(true), t = t64.to(dtype);
        const int64_t before = kernelRequests();
        at::Tensor v = m(p, t);
        at::Tensor g = torch::autograd::grad({(v * w.to(dtype)).sum()}, {p})[0];
        EXPECT_EQ(kernelRequests() - before, 3) << "map, coefficients and gradient kernels";
        EXPECT_EQ(v.scalar_type(), dtype);
        ASSERT_EQ(v.sizes(), ref.sizes());
        const double tol = dtype == at::kDouble ? 1e-9 : 2e-4;
        expectClose(v, ref, tol);
        expectClose(g, refGrad, tol * std::max(1e-3, refGrad.abs().max().item<double>()));
      }
  // Central differences of the weighted map, threads, double backward.
  LocalNormalizedCrossCorrelationLoss m(
      Options().spatial_dims(3).kernel_size(3).smooth_nr(1e-4).reduction("none"));
  auto [p, t] = pair({1, 1, 6, 5, 7}, 22);
  at::Tensor w = at::rand(p.sizes(), at::kDouble) + 0.5;
  checkGrad([&](const at::Tensor &x) { return (m(x, t) * w).sum(); }, p, 24, 1e-6, 1e-5);
  auto [pl, tl] = pair({1, 2, 40, 36, 44}, 32);
  at::Tensor pf = pl.to(at::kFloat), tf = tl.to(at::kFloat), wf = at::rand(pl.sizes());
  auto run = [&] {
    at::Tensor x = pf.clone().requires_grad_(true);
    at::Tensor v = m(x, tf);
    return std::make_pair(v, torch::autograd::grad({(v * wf).sum()}, {x})[0]);
  };
  auto [v1, g1] = med::testing::withThreads(1, run);
  auto [v2, g2] = med::testing::withThreads(2, run);
  EXPECT_TRUE(at::equal(v1, v2));
  EXPECT_TRUE(at::equal(g1, g2));
  at::Tensor dir = logits(p.sizes().vec(), 43);
  auto [gk, hk] = gradAndHvp([&](const at::Tensor &x) { return (m(x, t) * w).sum(); }, p, dir);
  auto [gr, hr] =
      gradAndHvp([&](const at::Tensor &x) { return (eagerLoss(m, x, t) * w).sum(); }, p, dir);
  expectClose(gk, gr, 1e-10);
  expectClose(hk, hr, 1e-10);
}

TEST(LnccGeneratedKernels, LargeWindowsStayOnAten) {
  auto [p, t] = pair({1, 1, 9, 10, 11}, 51);
  for (const char *reduction : {"mean", "none"}) {
    LocalNormalizedCrossCorrelationLoss m(Options().kernel_size(7).reduction(reduction));
    const int64_t before = kernelRequests();
    at::Tensor v = m(p, t);
    EXPECT_EQ(kernelRequests(), before);
    expectClose(v, eagerLoss(m, p, t), 1e-12);
  }
}

TEST(LnccGeneratedKernels, LaunchersRejectWhatTheyCannotRun) {
  auto [p, t] = pair({1, 1, 6, 7}, 61);
  kernels::LnccWindow window{{1.0, 1.0, 1.0}, 9.0, 0.0, 1e-5};
  expectMedError([&] { kernels::lncc_sums(p, t.to(at::kFloat), window, 1, "Owner"); }, "Owner");
  expectMedError([&] { kernels::lncc_sums(p, t.narrow(3, 0, 6), window, 1, "Owner"); },
                 "one (B, C, *spatial) shape");
  kernels::LnccWindow even{{1.0, 1.0}, 4.0, 0.0, 1e-5};
  expectMedError([&] { kernels::lncc_sums(p, t, even, 1, "Owner"); }, "odd window");
  expectMedError([&] { kernels::lncc_grad(p, t, at::zeros({2}, at::kDouble), window, 1, "Owner"); },
                 "(B * C) float64");
  expectMedError([&] { kernels::lncc_map_grad(p, t, p.to(at::kFloat), window, 1, "Owner"); },
                 "pred's shape and dtype");
}

} // namespace
} // namespace med::losses::test
