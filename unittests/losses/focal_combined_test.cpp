// FocalLoss, DiceCELoss, DiceFocalLoss and GeneralizedDiceFocalLoss against element-wise
// references written from the textbook formulas.
#include "med/core/error.h"
#include "med/losses/combined.h"
#include "med/losses/focal.h"
#include "reference.h"

namespace med::losses::test {
namespace {

/// Sigmoid focal loss per element: -[t (1-p)^g log p + (1-t) p^g log(1-p)], alpha-weighted.
at::Tensor sigmoidFocalRef(const at::Tensor &x, const at::Tensor &t, double g,
                           std::optional<double> alpha) {
  at::Tensor p = at::sigmoid(x);
  at::Tensor pos = -t * at::pow(1 - p, g) * at::log(p);
  at::Tensor neg = -(1 - t) * at::pow(p, g) * at::log(1 - p);
  if (alpha)
    return *alpha * pos + (1 - *alpha) * neg;
  return pos + neg;
}

TEST(FocalLoss, SigmoidMatchesReference) {
  at::Tensor x = logits({2, 3, 6, 5, 4}, 20), t = onehotRef(labels({2, 1, 6, 5, 4}, 3, 21), 3);
  for (double g : {0.0, 1.0, 2.0})
    for (std::optional<double> a : {std::optional<double>(), std::optional<double>(0.25)}) {
      FocalLoss loss(FocalLossOptions().gamma(g).alpha(a));
      // FocalLoss runs in float32 (as MONAI): float32 tolerance.
      expectClose(loss(x, t), sigmoidFocalRef(x, t, g, a).mean(), 1e-6);
    }
}

TEST(FocalLoss, SoftmaxWeightsAndSumOfSpatialMeans) {
  at::Tensor x = logits({2, 3, 8, 8}, 22), lab = labels({2, 1, 8, 8}, 3, 23);
  at::Tensor t = onehotRef(lab, 3);
  at::Tensor p = at::softmax(x, 1);
  at::Tensor ref = -at::pow(1 - p, 2.0) * at::log(p) * t; // (B, C, H, W)
  FocalLoss soft(FocalLossOptions().use_softmax(true).to_onehot_y(true));
  expectClose(soft(x, lab), ref.mean(), 1e-6);
  FocalLoss sum(FocalLossOptions().use_softmax(true).to_onehot_y(true).reduction("sum").weight(
      {1.0, 2.0, 0.5}));
  at::Tensor w = at::tensor({1.0, 2.0, 0.5}, at::kDouble).view({1, 3, 1, 1});
  expectClose(sum(x, lab), (ref * w).mean({2, 3}).sum(), 1e-5);
  FocalLoss none(FocalLossOptions().to_onehot_y(true).include_background(false).reduction("none"));
  at::Tensor out = none(x, lab);
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  expectClose(out, sigmoidFocalRef(x.slice(1, 1), t.slice(1, 1), 2.0, std::nullopt), 1e-5);
}

TEST(DiceCELoss, MatchesDicePlusCrossEntropy) {
  at::Tensor x = logits({2, 4, 6, 5, 3}, 24), lab = labels({2, 1, 6, 5, 3}, 4, 25);
  at::Tensor logp = at::log_softmax(x, 1), t = onehotRef(lab, 4);
  at::Tensor ce = -(logp * t).sum(1).mean(); // mean over voxels of -log p_label
  at::Tensor p = logp.exp();
  at::Tensor i = (p * t).sum({2, 3, 4}), d = p.sum({2, 3, 4}) + t.sum({2, 3, 4});
  at::Tensor dice = (1 - (2 * i + 1e-5) / (d + 1e-5)).mean();
  DiceCELoss loss(
      DiceCELossOptions().softmax(true).to_onehot_y(true).lambda_dice(0.7).lambda_ce(0.3));
  expectClose(loss(x, lab), 0.7 * dice + 0.3 * ce);
  // Class-probability target: the same loss with the one-hot target given directly.
  DiceCELoss prob(DiceCELossOptions().softmax(true).lambda_dice(0.7).lambda_ce(0.3));
  expectClose(prob(x, t), 0.7 * dice + 0.3 * ce);
  // Weighted cross-entropy: sum(w_y * -log p_y) / sum(w_y).
  at::Tensor w = at::tensor({0.5, 1.0, 2.0, 1.5}, at::kDouble).view({1, 4, 1, 1, 1});
  at::Tensor wce = -(logp * t * w).sum() / (t * w).sum();
  DiceCELoss weighted(
      DiceCELossOptions().softmax(true).to_onehot_y(true).weight({0.5, 1.0, 2.0, 1.5}));
  at::Tensor wdice = ((1 - (2 * i + 1e-5) / (d + 1e-5)) * w.view({1, 4})).mean();
  expectClose(weighted(x, lab), wdice + wce);
}

TEST(DiceCELoss, OneChannelUsesBinaryCrossEntropy) {
  at::Tensor x = logits({3, 1, 6, 5}, 30);
  at::Tensor t = (logits({3, 1, 6, 5}, 31) > 0).to(at::kDouble);
  at::Tensor p = at::sigmoid(x);
  at::Tensor bce = -(t * at::log(p) + (1 - t) * at::log(1 - p)).mean();
  at::Tensor i = (p * t).sum({2, 3}), d = p.sum({2, 3}) + t.sum({2, 3});
  at::Tensor dice = (1 - (2 * i + 1e-5) / (d + 1e-5)).mean();
  DiceCELoss loss(DiceCELossOptions().sigmoid(true));
  expectClose(loss(x, t), dice + bce);
}

TEST(DiceFocalLoss, SumOfTheTwoTerms) {
  at::Tensor x = logits({2, 3, 5, 5}, 26), lab = labels({2, 1, 5, 5}, 3, 27);
  at::Tensor t = onehotRef(lab, 3), p = at::softmax(x, 1);
  at::Tensor i = (p * t).sum({2, 3}), d = p.sum({2, 3}) + t.sum({2, 3});
  at::Tensor dice = (1 - (2 * i + 1e-5) / (d + 1e-5)).mean();
  at::Tensor focal = sigmoidFocalRef(x, t, 2.0, std::nullopt).mean();
  DiceFocalLoss loss(
      DiceFocalLossOptions().softmax(true).to_onehot_y(true).lambda_dice(0.5).lambda_focal(2.0));
  expectClose(loss(x, lab), 0.5 * dice + 2.0 * focal, 2e-6);
}

TEST(GeneralizedDiceFocalLoss, SumOfTheTwoTerms) {
  at::Tensor x = logits({2, 3, 5, 5}, 28), lab = labels({2, 1, 5, 5}, 3, 29);
  at::Tensor t = onehotRef(lab, 3), p = at::softmax(x, 1);
  at::Tensor g = t.sum({2, 3}), w = 1 / (g * g);
  at::Tensor num = 2 * (w * (p * t).sum({2, 3})).sum(1) + 1e-5;
  at::Tensor den = (w * (p.sum({2, 3}) + g)).sum(1) + 1e-5;
  at::Tensor gdl = (1 - num / den).mean();
  at::Tensor focal = sigmoidFocalRef(x, t, 2.0, std::nullopt).mean();
  GeneralizedDiceFocalLoss loss(
      GeneralizedDiceFocalLossOptions().softmax(true).to_onehot_y(true).lambda_gdl(1.5));
  expectClose(loss(x, lab), 1.5 * gdl + focal, 2e-6);
}

} // namespace
} // namespace med::losses::test
