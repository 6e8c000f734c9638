// Autograd gradients against float64 central differences, and med::Error on bad input.
#include "med/core/error.h"
#include "med/losses/combined.h"
#include "med/losses/dice.h"
#include "med/losses/focal.h"
#include "med/losses/registration.h"
#include "med/losses/tversky.h"
#include "reference.h"

namespace med::losses::test {
namespace {

TEST(LossGradients, MatchFiniteDifferences) {
  at::Tensor x = logits({2, 3, 5, 4, 3}, 40), lab = labels({2, 1, 5, 4, 3}, 3, 41);
  DiceLoss dice(DiceLossOptions().softmax(true).to_onehot_y(true).jaccard(true));
  checkGrad([&](const at::Tensor &v) { return dice(v, lab); }, x);
  GeneralizedDiceLoss gdl(GeneralizedDiceLossOptions().softmax(true).to_onehot_y(true));
  checkGrad([&](const at::Tensor &v) { return gdl(v, lab); }, x);
  TverskyLoss tv(TverskyLossOptions().sigmoid(true).to_onehot_y(true).alpha(0.2).beta(0.8));
  checkGrad([&](const at::Tensor &v) { return tv(v, lab); }, x);
  DiceCELoss dce(DiceCELossOptions().softmax(true).to_onehot_y(true));
  checkGrad([&](const at::Tensor &v) { return dce(v, lab); }, x);
  at::Tensor ddf = logits({1, 3, 6, 6, 5}, 42);
  BendingEnergyLoss be(BendingEnergyLossOptions().normalize(true));
  checkGrad([&](const at::Tensor &v) { return be(v); }, ddf);
  at::Tensor p = logits({2, 1, 6, 5, 4}, 43), t = logits({2, 1, 6, 5, 4}, 44);
  LocalNormalizedCrossCorrelationLoss lncc(
      LocalNormalizedCrossCorrelationLossOptions().kernel_size(3).kernel_type("triangular"));
  checkGrad([&](const at::Tensor &v) { return lncc(v, t); }, p);
  at::manual_seed(45);
  at::Tensor a = at::rand({2, 1, 5, 4, 3}, at::kDouble) * 0.9 + 0.05, b = at::rand_like(a);
  GlobalMutualInformationLoss gmi(GlobalMutualInformationLossOptions().num_bins(10));
  checkGrad([&](const at::Tensor &v) { return gmi(v, b); }, a, 6, 1e-6, 1e-5);
}

TEST(LossGradients, FocalFloat32GradientMatchesDifferencesLoosely) {
  // FocalLoss computes in float32 (as MONAI), so compare at float32 precision.
  at::Tensor x = logits({2, 3, 4, 4}, 46), lab = labels({2, 1, 4, 4}, 3, 47);
  FocalLoss focal(FocalLossOptions().to_onehot_y(true).gamma(2.0));
  checkGrad([&](const at::Tensor &v) { return focal(v, lab).to(at::kDouble); }, x, 6, 1e-3, 1e-3);
}

TEST(LossErrors, BadInputThrowsMedError) {
  at::Tensor x = logits({2, 3, 4, 4}, 50);
  DiceLoss dice(DiceLossOptions().softmax(true));
  EXPECT_THROW(dice(x, at::zeros({2, 2, 4, 4}, at::kDouble)), med::Error); // shape mismatch
  EXPECT_THROW(dice(x, at::zeros({2, 3, 4}, at::kDouble)), med::Error);    // rank mismatch
  DiceLoss onehot(DiceLossOptions().softmax(true).to_onehot_y(true));
  EXPECT_THROW(onehot(x, at::zeros({2, 2, 4, 4}, at::kDouble)), med::Error);     // 2-channel labels
  EXPECT_THROW(onehot(x, at::full({2, 1, 4, 4}, 3.0, at::kDouble)), med::Error); // label 3 of 3
  EXPECT_THROW(onehot(x, at::full({2, 1, 4, 4}, -1.0, at::kDouble)), med::Error);
  EXPECT_THROW(DiceLoss(DiceLossOptions().sigmoid(true).softmax(true)), med::Error);
  EXPECT_THROW(DiceLoss(DiceLossOptions().reduction("avg")), med::Error);
  DiceLoss weighted(DiceLossOptions().softmax(true).weight({1.0, 2.0}));
  EXPECT_THROW(weighted(x, at::zeros_like(x)), med::Error); // 2 weights for 3 classes
  EXPECT_THROW(DiceLoss(DiceLossOptions().weight({1.0, -1.0, 1.0})), med::Error);
  EXPECT_THROW(GeneralizedDiceLoss(GeneralizedDiceLossOptions().w_type("cubic")), med::Error);
  EXPECT_THROW(DiceCELoss(DiceCELossOptions().reduction("none")), med::Error);
  EXPECT_THROW(DiceCELoss(DiceCELossOptions().lambda_ce(-1)), med::Error);
  EXPECT_THROW(DiceCELoss()(x, at::zeros({2, 2, 4, 4}, at::kDouble)), med::Error);
  EXPECT_THROW(FocalLoss(FocalLossOptions().to_onehot_y(true))(x, at::full({2, 1, 4, 4}, 7.0)),
               med::Error);
  EXPECT_THROW(BendingEnergyLoss()(logits({1, 2, 4, 8}, 51)), med::Error); // size 4 not > 4
  EXPECT_THROW(BendingEnergyLoss()(logits({1, 3, 8, 8}, 52)), med::Error); // 3 comps, 2-D
  EXPECT_THROW(LocalNormalizedCrossCorrelationLoss(
                   LocalNormalizedCrossCorrelationLossOptions().kernel_size(4)),
               med::Error);
  EXPECT_THROW(
      LocalNormalizedCrossCorrelationLoss()(logits({1, 1, 5, 5}, 53), logits({1, 1, 5, 5}, 54)),
      med::Error); // 2-D input, spatial_dims 3
  EXPECT_THROW(GlobalMutualInformationLoss(GlobalMutualInformationLossOptions().num_bins(0)),
               med::Error);
  EXPECT_THROW(GlobalMutualInformationLoss()(logits({1, 1, 5, 5}, 55), logits({1, 1, 5, 4}, 56)),
               med::Error);
}

TEST(LossErrors, SingleChannelSoftmaxIsIgnoredWithAWarning) {
  at::Tensor x = logits({2, 1, 4, 4}, 57), t = (logits({2, 1, 4, 4}, 58) > 0).to(at::kDouble);
  // MONAI warns and skips softmax for one channel; the loss is Dice on the raw values.
  at::Tensor i = (x * t).sum({2, 3}), d = x.sum({2, 3}) + t.sum({2, 3});
  expectClose(DiceLoss(DiceLossOptions().softmax(true))(x, t),
              (1 - (2 * i + 1e-5) / (d + 1e-5)).mean());
}

} // namespace
} // namespace med::losses::test
