// GeneralizedWassersteinDiceLoss, ContrastiveLoss and MultiScaleLoss against loop references.
#include "med/core/error.h"
#include "med/losses/contrastive.h"
#include "med/losses/wasserstein.h"
#include "reference.h"

namespace med::losses::test {
namespace {

TEST(GeneralizedWassersteinDiceLoss, MatchesVoxelLoops) {
  at::Tensor m =
      at::tensor({0.0, 2.0, 2.0, 2.0, 0.0, 1.0, 2.0, 1.0, 0.0}, at::kDouble).view({3, 3});
  at::Tensor x = logits({2, 3, 5, 4}, 70), lab = labels({2, 1, 5, 4}, 3, 71);
  at::Tensor p = at::softmax(x, 1);
  for (std::string mode : {"default", "GDL"}) {
    GeneralizedWassersteinDiceLoss loss(
        GeneralizedWassersteinDiceLossOptions(m).weighting_mode(mode).reduction("none"));
    at::Tensor out = loss(x, lab);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2}));
    for (int64_t b = 0; b < 2; ++b) {
      std::vector<double> vol(3, 0);
      at::Tensor lb = lab[b][0].reshape(-1), pb = p[b].reshape({3, -1});
      for (int64_t v = 0; v < 20; ++v)
        vol[int64_t(lb[v].item<double>())] += 1;
      double tp = 0, err = 0, den = 0;
      for (int64_t v = 0; v < 20; ++v) {
        int64_t y = int64_t(lb[v].item<double>());
        double w = 0;
        for (int64_t c = 0; c < 3; ++c)
          w += m[y][c].item<double>() / 2.0 * pb[c][v].item<double>(); // max distance 2 -> 1
        double a = mode == "GDL" ? 1.0 / (vol[y] + 1) : (y == 0 ? 0.0 : 1.0);
        tp += a * (1 - w), err += w, den += a * (2 - w);
      }
      double d = mode == "GDL" ? den : 2 * tp + err;
      EXPECT_NEAR(out[b].item<double>(), 1 - (2 * tp + 1e-5) / (d + 1e-5), 1e-6) << mode;
    }
  }
  // A confident, correct prediction has (almost) no loss.
  at::Tensor perfect = (onehotRef(lab, 3) * 60.0 - 30.0);
  EXPECT_NEAR(GeneralizedWassersteinDiceLoss(GeneralizedWassersteinDiceLossOptions(m))(perfect, lab)
                  .item<double>(),
              0.0, 1e-5);
  EXPECT_THROW(GeneralizedWassersteinDiceLoss(
                   GeneralizedWassersteinDiceLossOptions(at::zeros({2, 3}, at::kDouble))),
               med::Error);
}

TEST(ContrastiveLoss, MatchesNtXentLoops) {
  at::Tensor a = logits({4, 6}, 72), b = logits({4, 6}, 73);
  double tau = 0.3;
  at::Tensor r = at::cat({a, b}, 0);
  auto cosine = [&](int64_t i, int64_t j) {
    double d = (r[i] * r[j]).sum().item<double>();
    return d / (r[i].norm().item<double>() * r[j].norm().item<double>());
  };
  double total = 0;
  for (int64_t i = 0; i < 8; ++i) {
    double den = 0;
    for (int64_t j = 0; j < 8; ++j)
      if (j != i)
        den += std::exp(cosine(i, j) / tau);
    total += -std::log(std::exp(cosine(i, (i + 4) % 8) / tau) / den);
  }
  ContrastiveLoss loss(ContrastiveLossOptions().temperature(tau));
  EXPECT_NEAR(loss(a, b).item<double>(), total / 8, 1e-10);
  checkGrad([&](const at::Tensor &v) { return loss(v, b); }, a);
  EXPECT_THROW(loss(a, logits({4, 5}, 74)), med::Error);
  EXPECT_THROW(loss(logits({2, 3, 4}, 75), logits({2, 3, 4}, 76)), med::Error);
}

TEST(ContrastiveLoss, MatrixProductMatchesMonaisBroadcastFormulation) {
  struct Case {
    int64_t B, F;
    double tau;
  };
  for (const Case &c : {Case{1, 3, 0.5}, Case{4, 6, 0.1}, Case{33, 100, 0.5}, Case{5, 1, 2.0}})
    for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message()
                   << c.B << "x" << c.F << " tau " << c.tau << " " << at::toString(dtype));
      ContrastiveLoss loss(ContrastiveLossOptions().temperature(c.tau));
      at::Tensor a = logits({c.B, c.F}, 80).to(dtype), b = logits({c.B, c.F}, 81).to(dtype);
      b[0].zero_(); // a zero row: similarity 0 with everything, as cosine_similarity's eps gives
      at::Tensor x = a.clone().requires_grad_(true), xe = a.clone().requires_grad_(true);
      at::Tensor v = loss(x, b), ve = loss->forward_eager(xe, b);
      at::Tensor g = torch::autograd::grad({v}, {x})[0];
      at::Tensor ge = torch::autograd::grad({ve}, {xe})[0];
      EXPECT_EQ(v.scalar_type(), dtype);
      const double tol = dtype == at::kFloat ? 2e-5 : 1e-12;
      EXPECT_NEAR(v.item<double>(), ve.item<double>(),
                  tol * std::max(1.0, ve.abs().item<double>()));
      expectClose(g, ge, tol * std::max(1.0, ge.abs().max().item<double>()));
    }
  ContrastiveLoss loss;
  expectMedError([&] { loss(at::ones({4}), at::ones({4})); }, "(B, F) features");
}

TEST(MultiScaleLoss, MeanOverSmoothedCopies1D) {
  at::Tensor p = logits({2, 1, 15}, 77), t = logits({2, 1, 15}, 78);
  PairLoss mse = [](const at::Tensor &a, const at::Tensor &b) { return (a - b).pow(2).mean(); };
  MultiScaleLoss loss(MultiScaleLossOptions(mse).scales({0.0, 1.0}));
  // sigma 1: taps exp(-x^2 / 2) for x in [-3, 3], normalised; zero padding.
  std::vector<double> k;
  double z = 0;
  for (int x = -3; x <= 3; ++x)
    z += std::exp(-0.5 * x * x), k.push_back(std::exp(-0.5 * x * x));
  auto smooth = [&](const at::Tensor &s) {
    at::Tensor out = at::zeros_like(s);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < 15; ++i) {
        double acc = 0;
        for (int x = -3; x <= 3; ++x)
          if (i + x >= 0 && i + x < 15)
            acc += k[x + 3] / z * s[b][0][i + x].item<double>();
        out[b][0][i] = acc;
      }
    return out;
  };
  double ref = 0.5 * (mse(p, t).item<double>() + mse(smooth(p), smooth(t)).item<double>());
  EXPECT_NEAR(loss(t, p).item<double>(), ref, 1e-6); // kernel taps are float32
  EXPECT_THROW(MultiScaleLoss(MultiScaleLossOptions(mse).kernel("box")), med::Error);
  EXPECT_THROW(multi_scale_kernel("gaussian", 0.0), med::Error);
  // Cauchy taps: 1 / (1 + (x / sigma)^2) on [-5 sigma, 5 sigma], normalised.
  at::Tensor c = multi_scale_kernel("cauchy", 1.0).to(at::kDouble);
  ASSERT_EQ(c.size(0), 11);
  double cz = 0;
  for (int x = -5; x <= 5; ++x)
    cz += 1.0 / (1 + x * x);
  EXPECT_NEAR(c[5].item<double>(), 1.0 / cz, 1e-7);
}

} // namespace
} // namespace med::losses::test
