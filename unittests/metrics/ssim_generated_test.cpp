// SSIM's generated window passes (med.ssim_pass, med/kernels/ssim.h) against a float64
// reference written here (SSIM's formula on a direct n-D filter with the whole window) and
// against the ATen convolution path that compute_ssim_and_cs takes when a gradient is needed:
// 2D and 3D, unequal sizes and windows per axis, Gaussian and uniform windows, float32 and
// float64, batch and channels > 1, thread counts, that the kernels were really used, and the
// launcher's checks.

#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <string>
#include <vector>

#include "../with_threads.h"
#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/kernels/ssim.h"
#include "med/metrics/regression.h"

namespace med::metrics::test {
namespace {

int64_t kernelRequests() {
  compiler::JitStats s = compiler::JitSession::global().stats();
  return s.hits + s.misses + s.diskHits;
}

/// MONAI's 1-D Gaussian window (float32 taps, normalised in float32), rounded here from a
/// float64 evaluation of exp(-(x / sigma)^2 / 2) at x = (1 - K) / 2 ... (K - 1) / 2.
std::vector<double> gaussTaps(int64_t k, double sigma) {
  std::vector<float> g(k);
  float sum = 0;
  for (int64_t i = 0; i < k; ++i) {
    const double x = (1.0 - double(k)) / 2.0 + double(i);
    g[i] = float(std::exp(-(x / sigma) * (x / sigma) / 2.0));
    sum += g[i];
  }
  std::vector<double> out;
  for (float v : g)
    out.push_back(double(v / sum));
  return out;
}

/// The n-D window, the outer product of `taps` in float64, as a (1, 1, K_0, ...) tensor.
at::Tensor windowOf(const std::vector<std::vector<double>> &taps) {
  at::Tensor w = at::tensor(taps[0], at::kDouble);
  for (size_t d = 1; d < taps.size(); ++d)
    w = w.unsqueeze(-1) * at::tensor(taps[d], at::kDouble);
  return w.unsqueeze(0).unsqueeze(0);
}

/// A valid filter of every (item, channel) by `w`, written as a sum of shifted slices so it
/// shares nothing with either implementation under test.
at::Tensor filterRef(const at::Tensor &f, const at::Tensor &w) {
  const int64_t n = f.dim() - 2;
  std::vector<int64_t> out(f.sizes().begin(), f.sizes().end());
  for (int64_t d = 0; d < n; ++d)
    out[2 + d] -= w.size(2 + d) - 1;
  at::Tensor acc = at::zeros(out, at::kDouble);
  const int64_t taps = w.numel();
  for (int64_t t = 0; t < taps; ++t) {
    int64_t rest = t;
    std::vector<int64_t> shift(n);
    for (int64_t d = n - 1; d >= 0; --d) {
      shift[d] = rest % w.size(2 + d);
      rest /= w.size(2 + d);
    }
    at::Tensor s = f;
    for (int64_t d = 0; d < n; ++d)
      s = s.narrow(2 + d, shift[d], out[2 + d]);
    acc = acc + w.flatten()[t].item<double>() * s;
  }
  return acc;
}

/// SSIM's (ssim, cs) maps in float64 from the formula.
std::pair<at::Tensor, at::Tensor> ssimRef(const at::Tensor &x0, const at::Tensor &y0,
                                          const std::vector<std::vector<double>> &taps, double c1,
                                          double c2) {
  at::Tensor x = x0.to(at::kDouble), y = y0.to(at::kDouble), w = windowOf(taps);
  at::Tensor mx = filterRef(x, w), my = filterRef(y, w);
  at::Tensor sx = filterRef(x * x, w) - mx * mx, sy = filterRef(y * y, w) - my * my;
  at::Tensor sxy = filterRef(x * y, w) - mx * my;
  at::Tensor cs = (2 * sxy + c2) / (sx + sy + c2);
  return {(2 * mx * my + c1) / (mx * mx + my * my + c1) * cs, cs};
}

struct Case {
  std::vector<int64_t> shape, win;
  std::string kernel;
  at::ScalarType type;
};

std::vector<std::vector<double>> tapsOf(const Case &c) {
  std::vector<std::vector<double>> taps;
  for (size_t d = 0; d < c.win.size(); ++d)
    taps.push_back(c.kernel == "gaussian"
                       ? gaussTaps(c.win[d], 1.5)
                       : std::vector<double>(c.win[d], double(1.0f / float(c.win[d]))));
  return taps;
}

std::vector<Case> cases() {
  return {{{2, 3, 17, 12}, {5, 3}, "gaussian", at::kDouble},
          {{2, 3, 17, 12}, {5, 3}, "uniform", at::kFloat},
          {{1, 2, 23, 19}, {11, 11}, "gaussian", at::kFloat},
          {{2, 2, 9, 11, 10}, {3, 5, 4}, "uniform", at::kDouble},
          {{2, 1, 13, 9, 12}, {7, 7, 7}, "gaussian", at::kFloat},
          {{1, 1, 7, 7, 7}, {7, 7, 7}, "gaussian", at::kDouble}}; // one output voxel
}

TEST(SsimGenerated, MapsMatchTheFormulaOnADirectWindow) {
  at::manual_seed(11);
  for (const Case &c : cases()) {
    at::Tensor x = at::rand(c.shape, at::kDouble).to(c.type);
    at::Tensor y = (x + 0.2 * at::rand(c.shape, at::kDouble).to(c.type)).clamp(0, 1);
    const double c1 = 1e-4, c2 = 9e-4;
    auto taps = tapsOf(c);
    const int64_t before = kernelRequests();
    auto [ssim, cs] = kernels::ssim_maps(x, y, taps, c1, c2, 1, "test");
    EXPECT_GT(kernelRequests(), before) << "the kernels were not used";
    auto [rs, rc] = ssimRef(x, y, taps, c1, c2);
    ASSERT_EQ(ssim.sizes(), rs.sizes()) << c.shape;
    EXPECT_EQ(ssim.scalar_type(), c.type);
    const double tol = c.type == at::kFloat ? 2e-5 : 1e-13;
    EXPECT_LT((ssim.to(at::kDouble) - rs).abs().max().item<double>(), tol) << c.shape;
    EXPECT_LT((cs.to(at::kDouble) - rc).abs().max().item<double>(), tol) << c.shape;
  }
}

TEST(SsimGenerated, MetricMatchesTheConvolutionPath) {
  // With a gradient to carry compute_ssim_and_cs convolves with ATen (the whole n-D window);
  // without one it runs the kernels. Both must give the same maps.
  at::manual_seed(12);
  for (const Case &c : cases()) {
    at::Tensor x = at::rand(c.shape, at::kDouble).to(c.type);
    at::Tensor y = at::rand(c.shape, at::kDouble).to(c.type);
    const int64_t n = int64_t(c.shape.size()) - 2;
    // Unequal sigmas per axis, so a swapped axis would show.
    const std::vector<double> sigma =
        n == 2 ? std::vector<double>{1.5, 0.8} : std::vector<double>{1.5, 0.8, 1.2};
    auto run = [&](bool grad) {
      at::Tensor p = x.clone().requires_grad_(grad);
      auto [s, k] = compute_ssim_and_cs(p, y, n, c.win, sigma, 2.0, c.kernel);
      return std::make_pair(s.detach(), k.detach());
    };
    const int64_t before = kernelRequests();
    auto fast = run(false), slow = run(true);
    EXPECT_GT(kernelRequests(), before);
    // MONAI rounds the Gaussian window's products to float32; the kernels form them in the
    // inputs' dtype, a difference of at most 2^-24 relative per weight, seen in float64.
    const double tol = c.type == at::kFloat ? 2e-5 : c.kernel == "gaussian" ? 5e-7 : 1e-13;
    EXPECT_TRUE(at::allclose(fast.first, slow.first, 0, tol)) << c.shape;
    EXPECT_TRUE(at::allclose(fast.second, slow.second, 0, tol)) << c.shape;
  }
}

TEST(SsimGenerated, ThreadCountsGiveBitwiseEqualMaps) {
  at::manual_seed(13);
  at::Tensor x = at::rand({3, 2, 20, 18, 16}), y = at::rand({3, 2, 20, 18, 16});
  auto run = [&](int threads) {
    return [&, threads] {
      return kernels::ssim_maps(x, y, {gaussTaps(7, 1.5), gaussTaps(5, 1.0), gaussTaps(3, 0.7)},
                                1e-4, 9e-4, threads, "test");
    };
  };
  auto one = testing::withThreads(1, run(1)), two = testing::withThreads(2, run(2));
  auto four = testing::withThreads(2, run(4));
  EXPECT_TRUE(at::equal(one.first, two.first) && at::equal(one.second, two.second));
  EXPECT_TRUE(at::equal(one.first, four.first) && at::equal(one.second, four.second));
  // The metric picks its thread count from ATen's and gives the same per-item value.
  SSIMMetric metric(SSIMMetricOptions(3).win_size({7, 5, 3}));
  at::Tensor a = testing::withThreads(1, [&] { return metric(x, y); });
  at::Tensor b = testing::withThreads(2, [&] { return metric(x, y); });
  EXPECT_TRUE(at::equal(a, b));
}

TEST(SsimGenerated, NanPropagatesOnlyToWindowsThatSeeIt) {
  at::Tensor x = at::rand({1, 1, 12, 12}, at::kDouble), y = at::rand({1, 1, 12, 12}, at::kDouble);
  x[0][0][0][0] = NAN;
  auto [ssim, cs] =
      kernels::ssim_maps(x, y, {gaussTaps(3, 1.5), gaussTaps(3, 1.5)}, 1e-4, 9e-4, 1, "test");
  EXPECT_TRUE(std::isnan(ssim[0][0][0][0].item<double>()));
  EXPECT_FALSE(std::isnan(ssim[0][0][1][0].item<double>()));
  EXPECT_FALSE(std::isnan(cs[0][0][0][1].item<double>()));
}

TEST(SsimGenerated, LauncherRefusesWhatItCannotRun) {
  at::Tensor x = at::rand({1, 1, 8, 8}), y = at::rand({1, 1, 8, 8});
  auto g3 = gaussTaps(3, 1.5);
  EXPECT_THROW(kernels::ssim_maps(x.to(at::kHalf), y.to(at::kHalf), {g3, g3}, 0, 0, 1, "t"),
               med::Error);
  EXPECT_THROW(kernels::ssim_maps(x, y.to(at::kDouble), {g3, g3}, 0, 0, 1, "t"), med::Error);
  EXPECT_THROW(kernels::ssim_maps(x, y, {g3}, 0, 0, 1, "t"), med::Error);
  EXPECT_THROW(kernels::ssim_maps(x, y, {g3, gaussTaps(9, 1.5)}, 0, 0, 1, "t"), med::Error);
  EXPECT_THROW(kernels::ssim_maps(x, y, {g3, {}}, 0, 0, 1, "t"), med::Error);
  EXPECT_THROW(kernels::ssim_maps(x.transpose(2, 3), y, {g3, g3}, 0, 0, 1, "t"), med::Error);
  EXPECT_THROW(kernels::ssim_maps(x[0], y[0], {g3}, 0, 0, 1, "t"), med::Error); // one axis
  try {
    kernels::ssim_maps(x, y, {g3, gaussTaps(9, 1.5)}, 0, 0, 1, "SSIMMetric");
  } catch (const med::Error &e) {
    EXPECT_NE(std::string(e.what()).find("SSIMMetric"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("axis 1"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace med::metrics::test
