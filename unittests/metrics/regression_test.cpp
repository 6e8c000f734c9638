// Regression metrics, SSIM, MS-SSIM and ROC AUC against explicit references.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

#include "med/core/error.h"
#include "med/metrics/regression.h"
#include "med/metrics/rocauc.h"
#include "with_threads.h"

namespace M = med::metrics;

TEST(Regression, MeanErrorsPerItem) {
  at::manual_seed(1);
  at::Tensor p = at::rand({3, 2, 5, 4}), y = at::rand({3, 2, 5, 4});
  M::MSEMetric mse;
  M::MAEMetric mae;
  M::RMSEMetric rmse;
  M::PSNRMetric psnr(M::PSNRMetricOptions(2.0));
  at::Tensor a = mse(p, y), b = mae(p, y), c = rmse(p, y), d = psnr(p, y);
  for (int64_t i = 0; i < 3; ++i) {
    double sq = 0, ab = 0;
    at::Tensor pi = p[i].flatten(), yi = y[i].flatten();
    for (int64_t k = 0; k < pi.numel(); ++k) {
      double e = pi[k].item<double>() - yi[k].item<double>();
      sq += e * e, ab += std::abs(e);
    }
    sq /= pi.numel(), ab /= pi.numel();
    EXPECT_NEAR(a[i][0].item<double>(), sq, 1e-6);
    EXPECT_NEAR(b[i][0].item<double>(), ab, 1e-6);
    EXPECT_NEAR(c[i][0].item<double>(), std::sqrt(sq), 1e-6);
    EXPECT_NEAR(d[i][0].item<double>(), 20 * std::log10(2.0) - 10 * std::log10(sq), 1e-4);
  }
  mse(p.slice(0, 0, 1), y.slice(0, 0, 1)); // cumulative: 4 items now
  EXPECT_EQ(mse.get_buffer().size(0), 4);
  EXPECT_NEAR(mse.aggregate().item<double>(), at::cat({a, a.slice(0, 0, 1)}).mean().item<double>(),
              1e-7);
  EXPECT_THROW(mse(p, y.slice(0, 0, 2)), med::Error);
  EXPECT_THROW(M::PSNRMetric(M::PSNRMetricOptions(0.0)), med::Error);
}

// The error sums come from a generated kernel over 65536-element blocks: items spanning several
// blocks, dtypes promoted as torch does, and the thread count, against ATen's own means.
TEST(Regression, GeneratedErrorSumsAcrossBlocksDtypesAndThreads) {
  at::manual_seed(3);
  at::Tensor p = at::randn({3, 2, 70, 1001}, at::kDouble), y = at::randn({3, 2, 70, 1001});
  auto ref = [](const at::Tensor &a, const at::Tensor &b, bool sq) {
    at::Tensor d = (b.to(at::kDouble) - a.to(at::kDouble)).flatten(1);
    return (sq ? d.square() : d.abs()).mean(1, true);
  };
  M::MSEMetric mse;
  M::MAEMetric mae;
  at::Tensor a = mse(p, y), b = mae(p, y);
  EXPECT_EQ(a.scalar_type(), at::kDouble); // float64 pred, float32 target
  EXPECT_TRUE(at::allclose(a, ref(p, y, true), 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(b, ref(p, y, false), 1e-12, 1e-12));
  at::Tensor pf = p.to(at::kFloat);
  at::Tensor a32 = mse(pf, y);
  EXPECT_EQ(a32.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(a32.to(at::kDouble), ref(pf, y, true), 1e-6, 1e-7));
  at::Tensor half = mae(pf.to(at::kHalf), y.to(at::kHalf));
  EXPECT_EQ(half.scalar_type(), at::kHalf);
  EXPECT_TRUE(at::allclose(half.to(at::kDouble), ref(pf.to(at::kHalf), y.to(at::kHalf), false),
                           2e-3, 1e-3));
  auto run = [&] { return mse(pf, y); };
  EXPECT_TRUE(at::equal(med::testing::withThreads(1, run), med::testing::withThreads(2, run)));
  at::Tensor bad = pf.clone();
  bad[2][1][69][1000] = NAN;
  EXPECT_THROW(mse(bad, y), med::Error);
}

TEST(Regression, NaNInputsAreNamedAndInfMinusInfIsNoError) {
  // The kernel metrics scan their inputs only when the sums come out NaN: a NaN input must still
  // fail naming that input, and inf - inf (NaN sums from finite-free inputs) must not.
  at::Tensor p = at::rand({2, 3, 40}), y = at::rand({2, 3, 40});
  M::MSEMetric mse;
  M::MAEMetric mae;
  M::RMSEMetric rmse;
  M::PSNRMetric psnr(M::PSNRMetricOptions(1.0));
  std::vector<M::RegressionMetric *> all = {&mse, &mae, &rmse, &psnr};
  for (const char *which : {"y_pred", "y"})
    for (at::ScalarType dt : {at::kFloat, at::kDouble, at::kHalf})
      for (M::RegressionMetric *m : all) {
        at::Tensor a = p.to(dt).clone(), b = y.to(dt).clone(); // .to() may alias
        (std::string(which) == "y" ? b : a)[1][2][17] = NAN;
        try {
          (*m)(a, b);
          ADD_FAILURE() << which << " NaN accepted";
        } catch (const med::Error &e) {
          EXPECT_NE(std::string(e.what()).find(std::string(".") + which), std::string::npos)
              << e.what();
          EXPECT_NE(std::string(e.what()).find("nan"), std::string::npos) << e.what();
        }
      }
  at::Tensor a = p.clone(), b = y.clone();
  a[0][0][0] = INFINITY;
  b[0][0][0] = INFINITY;
  at::Tensor v = mse(a, b);
  EXPECT_TRUE(std::isnan(v[0][0].item<double>()));
  EXPECT_FALSE(std::isnan(v[1][0].item<double>()));
}

TEST(Regression, SsimUniformMatchesWindowLoops) {
  at::manual_seed(2);
  at::Tensor p = at::rand({2, 1, 9, 8}, at::kDouble), y = at::rand({2, 1, 9, 8}, at::kDouble);
  const int w = 3;
  const double c1 = 1e-4, c2 = 9e-4;
  M::SSIMMetric ssim(M::SSIMMetricOptions(2).kernel_type("uniform").win_size({w}));
  at::Tensor ours = ssim(p, y);
  for (int64_t b = 0; b < 2; ++b) {
    double total = 0;
    int n = 0;
    for (int64_t i = 0; i + w <= 9; ++i)
      for (int64_t j = 0; j + w <= 8; ++j) {
        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int a = 0; a < w; ++a)
          for (int c = 0; c < w; ++c) {
            double xv = p[b][0][i + a][j + c].item<double>(),
                   yv = y[b][0][i + a][j + c].item<double>();
            mx += xv, my += yv, xx += xv * xv, yy += yv * yv, xy += xv * yv;
          }
        double k = w * w;
        mx /= k, my /= k, xx /= k, yy /= k, xy /= k;
        double sx = xx - mx * mx, sy = yy - my * my, sxy = xy - mx * my;
        total += (2 * mx * my + c1) * (2 * sxy + c2) / ((mx * mx + my * my + c1) * (sx + sy + c2));
        ++n;
      }
    // The window weights are float32 (1/9), as in MONAI, hence 1e-7.
    EXPECT_NEAR(ours[b][0].item<double>(), total / n, 1e-7);
  }
  // Identical images have SSIM 1 (3D, Gaussian window).
  at::Tensor v = at::rand({1, 2, 12, 12, 12});
  M::SSIMMetric s3(M::SSIMMetricOptions(3).win_size({7}));
  EXPECT_NEAR(s3(v, v).item<double>(), 1.0, 1e-5);
  EXPECT_THROW(s3(p, y), med::Error); // 2D input to a 3D metric
  EXPECT_THROW(M::SSIMMetric(M::SSIMMetricOptions(4)), med::Error);
}

TEST(Regression, MultiScaleSsimSingleScaleIsSsim) {
  at::manual_seed(3);
  at::Tensor p = at::rand({2, 1, 32, 32}), y = (p + 0.1 * at::rand({2, 1, 32, 32})).clamp(0, 1);
  M::MultiScaleSSIMMetric one(M::MultiScaleSSIMMetricOptions(2).kernel_size({7}).weights({1.0}));
  M::SSIMMetric ssim(M::SSIMMetricOptions(2).win_size({7}));
  EXPECT_TRUE(at::allclose(one(p, y), ssim(p, y).relu(), 1e-5, 1e-6));
  M::MultiScaleSSIMMetric ms(
      M::MultiScaleSSIMMetricOptions(2).kernel_size({3}).weights({0.5, 0.5}));
  at::Tensor v = ms(p, y);
  EXPECT_TRUE((v > 0).all().item<bool>() && (v <= 1).all().item<bool>());
  M::MultiScaleSSIMMetric big(M::MultiScaleSSIMMetricOptions(2));
  EXPECT_THROW(big(p, y), med::Error); // 32 px cannot hold 5 scales of an 11-tap window
}

TEST(RocAuc, MatchesPairwiseCountWithTies) {
  at::manual_seed(4);
  at::Tensor y = (at::rand({40, 3}) > 0.5).to(at::kFloat);
  at::Tensor p = at::round((at::rand({40, 3}) + 0.3 * y) * 10) / 10; // ties
  auto pairwise = [](const at::Tensor &s, const at::Tensor &l) {
    double wins = 0, pairs = 0;
    for (int64_t i = 0; i < s.numel(); ++i)
      for (int64_t j = 0; j < s.numel(); ++j)
        if (l[i].item<double>() == 1 && l[j].item<double>() == 0) {
          double a = s[i].item<double>(), b = s[j].item<double>();
          wins += a > b ? 1 : a == b ? 0.5 : 0;
          pairs += 1;
        }
    return wins / pairs;
  };
  M::ROCAUCMetric none(M::ROCAUCMetricOptions().average("none"));
  none(p.slice(0, 0, 15), y.slice(0, 0, 15));
  none(p.slice(0, 15), y.slice(0, 15));
  at::Tensor per = none.aggregate();
  double mean = 0, wsum = 0, wtot = 0;
  for (int64_t c = 0; c < 3; ++c) {
    double ref = pairwise(p.select(1, c), y.select(1, c));
    EXPECT_NEAR(per[c].item<double>(), ref, 1e-12);
    mean += ref / 3;
    double w = y.select(1, c).sum().item<double>();
    wsum += w * ref, wtot += w;
  }
  EXPECT_NEAR(none.aggregate("macro").item<double>(), mean, 1e-12);
  EXPECT_NEAR(none.aggregate("weighted").item<double>(), wsum / wtot, 1e-12);
  EXPECT_NEAR(none.aggregate("micro").item<double>(), pairwise(p.flatten(), y.flatten()), 1e-12);
  EXPECT_TRUE(std::isnan(M::compute_roc_auc(at::rand({5}), at::ones({5})).item<double>()));
  EXPECT_THROW(M::compute_roc_auc(at::rand({5}), at::full({5}, 2.0)), med::Error);
  EXPECT_THROW(M::ROCAUCMetric(M::ROCAUCMetricOptions().average("samples")), med::Error);
}
