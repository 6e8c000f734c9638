// BendingEnergyLoss, DiffusionLoss, LocalNormalizedCrossCorrelationLoss and
// GlobalMutualInformationLoss against loop-based references and hand-checked kernels.
#include "med/core/error.h"
#include "med/losses/registration.h"
#include "reference.h"

namespace med::losses::test {
namespace {

/// 2-D bending energy by stencils: u_xx = (u[i+2] - 2u[i] + u[i-2]) / 4 etc., on the points at
/// least two voxels from every border, mean over (B, C, points).
double bendingRef2D(const at::Tensor &u) {
  auto a = u.accessor<double, 4>();
  int64_t B = u.size(0), C = u.size(1), H = u.size(2), W = u.size(3);
  double sum = 0;
  int64_t n = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 2; i < H - 2; ++i)
        for (int64_t j = 2; j < W - 2; ++j) {
          double xx = (a[b][c][i + 2][j] - 2 * a[b][c][i][j] + a[b][c][i - 2][j]) / 4;
          double yy = (a[b][c][i][j + 2] - 2 * a[b][c][i][j] + a[b][c][i][j - 2]) / 4;
          double xy = (a[b][c][i + 1][j + 1] - a[b][c][i + 1][j - 1] - a[b][c][i - 1][j + 1] +
                       a[b][c][i - 1][j - 1]) /
                      4;
          sum += xx * xx + yy * yy + 2 * xy * xy;
          ++n;
        }
  return sum / double(n);
}

TEST(BendingEnergyLoss, MatchesStencils2D) {
  at::Tensor u = logits({2, 2, 9, 7}, 30);
  EXPECT_NEAR(BendingEnergyLoss()(u).item<double>(), bendingRef2D(u), 1e-12);
  // A linear field has no bending energy.
  at::Tensor lin = at::arange(9, at::kDouble).view({1, 1, 9, 1}).expand({1, 2, 9, 7}) * 0.3;
  EXPECT_NEAR(BendingEnergyLoss()(lin.contiguous()).item<double>(), 0.0, 1e-14);
}

TEST(DiffusionLoss, MatchesStencils3D) {
  at::Tensor u = logits({2, 3, 5, 4, 6}, 31);
  auto a = u.accessor<double, 5>();
  double sum = 0;
  int64_t n = 0;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 1; i < 4; ++i)
        for (int64_t j = 1; j < 3; ++j)
          for (int64_t k = 1; k < 5; ++k) {
            double gx = (a[b][c][i + 1][j][k] - a[b][c][i - 1][j][k]) / 2;
            double gy = (a[b][c][i][j + 1][k] - a[b][c][i][j - 1][k]) / 2;
            double gz = (a[b][c][i][j][k + 1] - a[b][c][i][j][k - 1]) / 2;
            sum += gx * gx + gy * gy + gz * gz;
            ++n;
          }
  EXPECT_NEAR(DiffusionLoss()(u).item<double>(), sum / double(n), 1e-12);
}

TEST(LocalNormalizedCrossCorrelationLoss, KernelsAsMonaiBuildsThem) {
  auto k = [](int64_t size, const std::string &type) {
    return LocalNormalizedCrossCorrelationLoss(
               LocalNormalizedCrossCorrelationLossOptions().kernel_size(size).kernel_type(type))
        ->kernel.to(at::kDouble);
  };
  expectClose(k(5, "triangular"), at::tensor({1.0, 2.0, 3.0, 2.0, 1.0}, at::kDouble) / 9, 1e-7);
  expectClose(k(3, "triangular"), at::tensor({0.0, 1.0, 0.0}, at::kDouble), 1e-7);
  // sigma = 5/3, samples at x = -3..1 (MONAI's window is off-centre for this size).
  std::vector<double> g;
  for (int x = -3; x <= 1; ++x)
    g.push_back(std::exp(-0.5 * x * x / (25.0 / 9.0)));
  expectClose(k(5, "gaussian"), at::tensor(g, at::kDouble), 1e-6);
}

TEST(LocalNormalizedCrossCorrelationLoss, RectangularMatchesWindowLoops2D) {
  at::Tensor p = logits({2, 1, 7, 6}, 32), t = logits({2, 1, 7, 6}, 33);
  LocalNormalizedCrossCorrelationLoss loss(
      LocalNormalizedCrossCorrelationLossOptions().spatial_dims(2).kernel_size(3));
  auto pa = p.accessor<double, 4>(), ta = t.accessor<double, 4>();
  double total = 0;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 7; ++i)
      for (int64_t j = 0; j < 6; ++j) {
        double sp = 0, st = 0, spp = 0, stt = 0, spt = 0;
        for (int64_t di = -1; di <= 1; ++di)
          for (int64_t dj = -1; dj <= 1; ++dj) {
            int64_t y = i + di, x = j + dj;
            if (y < 0 || y >= 7 || x < 0 || x >= 6)
              continue; // zero padding
            double pv = pa[b][0][y][x], tv = ta[b][0][y][x];
            sp += pv, st += tv, spp += pv * pv, stt += tv * tv, spt += pv * tv;
          }
        double cross = spt - sp * st / 9, tv = std::max(stt - st * st / 9, 1e-5),
               pv = std::max(spp - sp * sp / 9, 1e-5);
        total += cross * cross / (tv * pv);
      }
  EXPECT_NEAR(loss(p, t).item<double>(), -total / (2 * 7 * 6), 1e-12);
  // A perfectly correlated pair gives -1 away from flat windows.
  at::Tensor same = loss(p, p * 2); // zero padding stays consistent
  EXPECT_NEAR(same.item<double>(), -1.0, 1e-6);
}

/// Mutual information by explicit loops over bins with Gaussian Parzen windows.
double gmiRef(const at::Tensor &a, const at::Tensor &b, int64_t bins, double ratio) {
  double sigma = ratio / double(bins - 1), pre = 1 / (2 * sigma * sigma);
  int64_t B = a.size(0);
  double total = 0;
  for (int64_t s = 0; s < B; ++s) {
    at::Tensor x = a[s].reshape(-1).clamp(0, 1), y = b[s].reshape(-1).clamp(0, 1);
    int64_t n = x.numel();
    std::vector<std::vector<double>> wa(n, std::vector<double>(bins)), wb = wa;
    for (int64_t v = 0; v < n; ++v) {
      double za = 0, zb = 0, xv = x[v].item<double>(), yv = y[v].item<double>();
      for (int64_t k = 0; k < bins; ++k) {
        double c = double(k) / double(bins - 1);
        wa[v][k] = std::exp(-pre * (xv - c) * (xv - c)), za += wa[v][k];
        wb[v][k] = std::exp(-pre * (yv - c) * (yv - c)), zb += wb[v][k];
      }
      for (int64_t k = 0; k < bins; ++k)
        wa[v][k] /= za, wb[v][k] /= zb;
    }
    std::vector<double> pa(bins, 0), pb(bins, 0);
    for (int64_t v = 0; v < n; ++v)
      for (int64_t k = 0; k < bins; ++k)
        pa[k] += wa[v][k] / double(n), pb[k] += wb[v][k] / double(n);
    double mi = 0;
    for (int64_t i = 0; i < bins; ++i)
      for (int64_t j = 0; j < bins; ++j) {
        double pab = 0;
        for (int64_t v = 0; v < n; ++v)
          pab += wa[v][i] * wb[v][j];
        pab /= double(n);
        mi += pab * std::log((pab + 1e-7) / (pa[i] * pb[j] + 1e-7) + 1e-7);
      }
    total += mi;
  }
  return -total / double(B);
}

TEST(GlobalMutualInformationLoss, GaussianMatchesBinLoops) {
  at::manual_seed(34);
  at::Tensor a = at::rand({2, 1, 5, 4, 3}, at::kDouble), b = (a * 0.7 + 0.1).clamp(0, 1);
  b = b + 0.05 * at::rand_like(b);
  GlobalMutualInformationLoss loss(GlobalMutualInformationLossOptions().num_bins(8));
  // Bin centres and sigma are float32 in MONAI: float32-level tolerance.
  EXPECT_NEAR(loss(a, b).item<double>(), gmiRef(a, b, 8, 0.5), 1e-5);
}

TEST(GlobalMutualInformationLoss, BsplineWeightsArePartitionsOfUnity) {
  at::manual_seed(35);
  at::Tensor a = at::rand({2, 1, 6, 5, 4}, at::kDouble), b = at::rand({2, 1, 6, 5, 4}, at::kDouble);
  GlobalMutualInformationLoss loss(
      GlobalMutualInformationLossOptions().kernel_type("b-spline").num_bins(16));
  double v = loss(a, b).item<double>();
  // MI >= 0 up to the smoothing terms, and MI(a, a) > MI(a, independent b).
  EXPECT_LE(v, 1e-5);
  EXPECT_LT(loss(a, a).item<double>(), v);
}

} // namespace
} // namespace med::losses::test
