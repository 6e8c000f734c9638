// The fused DiceLoss(softmax, to_onehot_y) forward + backward against the module's autograd.

#include <cmath>

#include "med/core/error.h"
#include "med/losses/dice.h"
#include "med/losses/dice_fused.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

void compareWithAutograd(std::vector<int64_t> shape, at::ScalarType dt, bool bg, double tol) {
  std::vector<int64_t> ls = shape;
  ls[1] = 1;
  at::Tensor x = logits(shape, 60).to(dt), lab = labels(ls, shape[1], 61).to(dt);
  at::Tensor xg = x.clone().set_requires_grad(true);
  DiceLoss module(DiceLossOptions().softmax(true).to_onehot_y(true).include_background(bg));
  at::Tensor loss = module(xg, lab);
  at::Tensor grad = torch::autograd::grad({loss}, {xg})[0];
  FusedDiceResult r = dice_softmax_fused(x, lab, bg);
  EXPECT_EQ(r.grad.scalar_type(), dt);
  EXPECT_NEAR(r.loss.item<double>(), loss.item<double>(), tol);
  double scale = grad.abs().max().item<double>();
  expectClose(r.grad, grad, tol * scale);
}

TEST(DiceSoftmaxFused, MatchesAutogradFloat64) {
  compareWithAutograd({2, 3, 9, 7}, at::kDouble, true, 1e-12);
  compareWithAutograd({3, 4, 6, 5, 4}, at::kDouble, false, 1e-12);
  // More voxels than one chunk (16384) per sample.
  compareWithAutograd({2, 3, 40, 30, 20}, at::kDouble, true, 1e-12);
}

TEST(DiceSoftmaxFused, MatchesAutogradFloat32) {
  compareWithAutograd({2, 3, 40, 30, 20}, at::kFloat, true, 1e-5);
  compareWithAutograd({2, 2, 12, 11}, at::kFloat, false, 1e-5);
  // More classes than the eight-voxel vector path takes (16): the scalar path throughout.
  compareWithAutograd({1, 17, 6, 5}, at::kFloat, true, 1e-5);
}

TEST(DiceSoftmaxFused, IndependentOfThreadCount) {
  at::Tensor x = logits({2, 3, 40, 30, 20}, 62).to(at::kFloat);
  at::Tensor lab = labels({2, 1, 40, 30, 20}, 3, 63).to(at::kFloat);
  auto run = [&] { return dice_softmax_fused(x, lab); };
  FusedDiceResult a = med::testing::withThreads(1, run), b = med::testing::withThreads(2, run);
  EXPECT_TRUE(at::equal(a.grad, b.grad));
  EXPECT_EQ(a.loss.item<float>(), b.loss.item<float>());
}

TEST(DiceSoftmaxFused, AutogradWrapperGivesTheModuleGradient) {
  at::Tensor x = logits({2, 3, 7, 6, 5}, 66), lab = labels({2, 1, 7, 6, 5}, 3, 67);
  at::Tensor a = x.clone().set_requires_grad(true), b = x.clone().set_requires_grad(true);
  DiceLoss module(DiceLossOptions().softmax(true).to_onehot_y(true).include_background(false));
  (3.0 * module(a, lab)).backward();
  (3.0 * dice_softmax_fused_loss(b, lab, false)).backward();
  expectClose(b.grad(), a.grad(), 1e-12);
}

TEST(DiceSoftmaxFused, BadInput) {
  at::Tensor x = logits({2, 3, 4, 4}, 64);
  EXPECT_THROW(dice_softmax_fused(x, at::full({2, 1, 4, 4}, 3.0, at::kDouble)), med::Error);
  EXPECT_THROW(dice_softmax_fused(x, at::zeros({2, 3, 4, 4}, at::kDouble)), med::Error);
  EXPECT_THROW(dice_softmax_fused(logits({2, 1, 4, 4}, 65), at::zeros({2, 1, 4, 4})), med::Error);
  // A NaN or negative label among float labels, in the vector part and in the scalar tail.
  for (int64_t at_voxel : {3, 17}) {
    at::Tensor xf = logits({1, 3, 3, 6}, 68).to(at::kFloat);
    for (float bad : {std::nanf(""), -1.0f}) {
      at::Tensor lab = at::zeros({1, 1, 3, 6}, at::kFloat);
      lab.view(-1)[at_voxel] = bad;
      EXPECT_THROW(dice_softmax_fused(xf, lab), med::Error);
    }
  }
}

} // namespace
} // namespace med::losses::test
