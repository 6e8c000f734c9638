// BendingEnergyLoss and DiffusionLoss on the generated stencil kernels (med.ddf_energy forward,
// med.ddf_energy_grad backward; for "none" the map and med.ddf_energy_weighted_grad) against
// float64 references written here from the central difference formulas, and against MONAI's
// formulation in ATen in float32: values and gradients for 1, 2 and 3 spatial axes of unequal
// sizes, every reduction, normalize on and off, float32 and float64, central differences,
// thread counts, double backward, that the kernels were really used, and the launchers' checks.

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/kernels/ddf.h"
#include "med/losses/registration.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

int64_t kernelRequests() {
  compiler::JitStats s = compiler::JitSession::global().stats();
  return s.hits + s.misses + s.diskHits;
}

/// The central difference (x[i + 1] - x[i - 1]) / 2 along spatial axis d of a (B, n, *spatial)
/// float64 tensor, on the voxels `crop` or more from every face (MONAI crops one voxel off every
/// axis per difference: the result's voxel i is the input's i + crop).
at::Tensor centralRef(const at::Tensor &u, int64_t d, int64_t crop) {
  at::Tensor hi = u, lo = u;
  for (int64_t a = 2; a < u.dim(); ++a) {
    const int64_t n = u.size(a);
    hi = hi.slice(a, a == d ? crop + 1 : crop, a == d ? n - crop + 1 : n - crop);
    lo = lo.slice(a, a == d ? crop - 1 : crop, a == d ? n - crop - 1 : n - crop);
  }
  return (hi - lo) / 2;
}

/// The energy map in float64, a graph of u: order 1, sum_d (r_d D_d)^2; order 2, for d1 <= d2
/// (1 or 2 for d1 != d2) times (s_d2 D_d2 (r_d1 D_d1 u))^2, with r_d = S_d / S_c and s_d = S_d
/// when normalizing, else 1 (component c of the field). MONAI forms S_d / S_c as a float32
/// tensor (an int divided by a tensor of sizes), so r_d is rounded to float32 here too.
at::Tensor energyRef(const at::Tensor &u64, int64_t order, bool normalize) {
  const int64_t n = u64.dim() - 2;
  at::Tensor energy = at::zeros({}, at::kDouble);
  for (int64_t d1 = 0; d1 < n; ++d1) {
    std::vector<double> r;
    for (int64_t c = 0; c < n; ++c)
      r.push_back(normalize ? double(float(double(u64.size(2 + d1)) / double(u64.size(2 + c))))
                            : 1.0);
    std::vector<int64_t> shape(u64.dim(), 1);
    shape[1] = n;
    at::Tensor ratio = at::tensor(r, at::kDouble).view(shape);
    if (order == 1) {
      at::Tensor g = centralRef(u64, 2 + d1, 1) * ratio;
      energy = energy + g * g;
      continue;
    }
    // First difference on the voxels one in from every face, then the second on those two in.
    at::Tensor g = centralRef(u64, 2 + d1, 1) * ratio;
    for (int64_t d2 = d1; d2 < n; ++d2) {
      const double s = normalize ? double(u64.size(2 + d2)) : 1.0;
      at::Tensor h = centralRef(g, 2 + d2, 1) * s;
      energy = energy + (d2 == d1 ? 1.0 : 2.0) * h * h;
    }
  }
  return energy;
}

using LossFn = std::function<at::Tensor(const at::Tensor &)>;

LossFn lossOf(int64_t order, bool normalize, const std::string &reduction) {
  return [=](const at::Tensor &u) {
    if (order == 1)
      return DiffusionLoss(DiffusionLossOptions().normalize(normalize).reduction(reduction))(u);
    return BendingEnergyLoss(BendingEnergyLossOptions().normalize(normalize).reduction(reduction))(
        u);
  };
}

/// Fields of 1, 2 and 3 spatial axes, sizes unequal so that the normalising ratios differ.
std::vector<std::vector<int64_t>> shapes() { return {{2, 1, 11}, {2, 2, 9, 7}, {2, 3, 7, 6, 9}}; }

TEST(DdfGeneratedKernels, MatchFloat64ReferenceValuesAndGradients) {
  for (const auto &shape : shapes())
    for (int64_t order : {1, 2})
      for (bool normalize : {false, true})
        for (const std::string reduction : {"mean", "sum", "none"})
          for (at::ScalarType type : {at::kDouble, at::kFloat}) {
            SCOPED_TRACE(::testing::Message()
                         << "shape " << shape.size() - 2 << "d order " << order << " normalize "
                         << normalize << " " << reduction << " " << at::toString(type));
            at::Tensor u64 = logits(shape, 40 + order).detach().requires_grad_(true);
            at::Tensor ref = energyRef(u64, order, normalize);
            ref = reduction == "mean" ? ref.mean() : reduction == "sum" ? ref.sum() : ref;
            // "none": the map's gradient weighted voxel by voxel.
            at::Tensor w = reduction == "none" ? at::rand(ref.sizes(), at::kDouble) + 0.5
                                               : at::ones({}, at::kDouble);
            at::Tensor refGrad = torch::autograd::grad({(ref * w).sum()}, {u64})[0];
            at::Tensor u = u64.detach().to(type).requires_grad_(true);
            const int64_t before = kernelRequests();
            at::Tensor v = lossOf(order, normalize, reduction)(u);
            at::Tensor g = torch::autograd::grad({(v * w.to(type)).sum()}, {u})[0];
            EXPECT_EQ(kernelRequests() - before, 2) << "forward and backward on the kernels";
            EXPECT_EQ(v.scalar_type(), type);
            EXPECT_EQ(g.scalar_type(), type);
            ASSERT_EQ(v.sizes(), ref.sizes());
            const double scale = std::max(1.0, ref.abs().max().item<double>());
            const double tol = type == at::kDouble ? 1e-12 : 2e-6;
            expectClose(v, ref, tol * scale);
            const double gscale = std::max(1.0, refGrad.abs().max().item<double>());
            expectClose(g, refGrad, tol * gscale);
          }
}

TEST(DdfGeneratedKernels, Float32AgreesWithTheAtenPath) {
  // The kernel forms each voxel's energy in MONAI's float32 rounding: the "none" maps agree to
  // a float32 ulp or so, and the sums (float64 here, float32 in ATen's) to a few.
  for (int64_t order : {1, 2})
    for (bool normalize : {false, true}) {
      at::Tensor u = logits({2, 3, 8, 7, 6}, 50).to(at::kFloat);
      at::Tensor aten = detail::ddf_energy_map_eager(u, order, normalize);
      at::Tensor map = lossOf(order, normalize, "none")(u);
      expectClose(map, aten, 2.5e-7 * aten.abs().max().item<double>());
      at::Tensor kernel = lossOf(order, normalize, "sum")(u);
      const double total = aten.to(at::kDouble).sum().item<double>();
      EXPECT_NEAR(kernel.item<double>(), total, 4e-7 * std::abs(total));
    }
}

TEST(DdfGeneratedKernels, GradientsMatchCentralDifferences) {
  for (int64_t order : {1, 2})
    for (bool normalize : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "order " << order << " normalize " << normalize);
      // Border and corner voxels included: count 24 spreads the probes over the field.
      checkGrad(lossOf(order, normalize, "mean"), logits({1, 3, 6, 7, 5}, 60), 24, 1e-6, 1e-6);
      checkGrad(lossOf(order, normalize, "sum"), logits({2, 2, 6, 9}, 61), 24, 1e-6, 1e-6);
    }
}

TEST(DdfGeneratedKernels, SameResultsOnOneAndTwoThreads) {
  // Large enough for several runs of rows per channel.
  at::Tensor u = logits({1, 3, 40, 48, 52}, 70).to(at::kFloat);
  for (int64_t order : {1, 2}) {
    auto run = [&] {
      at::Tensor x = u.detach().clone().requires_grad_(true);
      at::Tensor v = lossOf(order, true, "mean")(x);
      at::Tensor g = torch::autograd::grad({v}, {x})[0];
      return std::make_pair(v, g);
    };
    auto [v1, g1] = med::testing::withThreads(1, run);
    auto [v2, g2] = med::testing::withThreads(2, run);
    EXPECT_TRUE(at::equal(v1, v2)) << "order " << order;
    EXPECT_TRUE(at::equal(g1, g2)) << "order " << order;
  }
}

TEST(DdfGeneratedKernels, DoubleBackwardMatchesTheReference) {
  for (int64_t order : {1, 2}) {
    at::Tensor u = logits({1, 2, 7, 8}, 80);
    at::Tensor dir = logits({1, 2, 7, 8}, 81);
    auto [g, h] = gradAndHvp(lossOf(order, true, "mean"), u, dir);
    auto [gr, hr] =
        gradAndHvp([&](const at::Tensor &x) { return energyRef(x, order, true).mean(); }, u, dir);
    expectClose(g, gr, 1e-12);
    expectClose(h, hr, 1e-12);
  }
}

TEST(DdfGeneratedKernels, NoneMapGradientsThreadsAndDoubleBackward) {
  for (int64_t order : {1, 2}) {
    SCOPED_TRACE(::testing::Message() << "order " << order);
    // Central differences of the weighted map, border voxels included.
    at::Tensor w = at::rand({2, 2, 9 - 2 * order, 8 - 2 * order}, at::kDouble) + 0.5;
    checkGrad([&](const at::Tensor &x) { return (lossOf(order, true, "none")(x) * w).sum(); },
              logits({2, 2, 9, 8}, 90), 24, 1e-6, 1e-6);
    // Threads: several runs of rows per channel.
    at::Tensor u = logits({1, 3, 40, 48, 52}, 92).to(at::kFloat);
    at::Tensor wu = at::rand({1, 3, 40 - 2 * order, 48 - 2 * order, 52 - 2 * order});
    auto run = [&] {
      at::Tensor x = u.detach().clone().requires_grad_(true);
      at::Tensor v = lossOf(order, false, "none")(x);
      at::Tensor g = torch::autograd::grad({(v * wu).sum()}, {x})[0];
      return std::make_pair(v, g);
    };
    auto [v1, g1] = med::testing::withThreads(1, run);
    auto [v2, g2] = med::testing::withThreads(2, run);
    EXPECT_TRUE(at::equal(v1, v2));
    EXPECT_TRUE(at::equal(g1, g2));
    // Double backward through the ATen formulation.
    at::Tensor x = logits({1, 2, 7, 8}, 93), dir = logits({1, 2, 7, 8}, 94);
    at::Tensor wx = at::rand({1, 2, 7 - 2 * order, 8 - 2 * order}, at::kDouble);
    auto [g, h] = gradAndHvp(
        [&](const at::Tensor &y) { return (lossOf(order, true, "none")(y) * wx).sum(); }, x, dir);
    auto [gr, hr] = gradAndHvp(
        [&](const at::Tensor &y) { return (energyRef(y, order, true) * wx).sum(); }, x, dir);
    expectClose(g, gr, 1e-12);
    expectClose(h, hr, 1e-12);
  }
}

TEST(DdfGeneratedKernels, LaunchersRejectWhatTheyCannotRun) {
  at::Tensor u = logits({1, 2, 9, 8}, 91);
  expectMedError([&] { kernels::ddf_energy(u.to(at::kInt), 1, false, 1, "Owner"); }, "Owner");
  expectMedError([&] { kernels::ddf_energy(u.narrow(2, 0, 4).contiguous(), 2, false, 1, "Owner"); },
                 "> 4");
  expectMedError([&] { kernels::ddf_energy(u.transpose(2, 3), 1, false, 1, "Owner"); },
                 "contiguous");
  expectMedError(
      [&] {
        kernels::ddf_energy(logits({1, 3, 9, 8}, 1), 1, false, 1, "Owner");
      },
      "(B, n, *spatial)");
  expectMedError(
      [&] { kernels::ddf_energy_grad(u, at::zeros({3}, at::kDouble), 1, false, 1, "Owner"); },
      "(B * n) float64");
  expectMedError(
      [&] {
        kernels::ddf_energy_map_grad(u, at::zeros({1, 2, 7, 7}, at::kDouble), 1, false, 1, "Owner");
      },
      "the map's shape");
}

} // namespace
} // namespace med::losses::test
