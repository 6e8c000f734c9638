// DiceLoss on the generated kernels (med.dice_sums forward, med.dice_grad backward, and their
// softmax forms) against its plain ATen formulation (dice_terms_eager: tensor sums, autograd
// backward), and the kernels themselves against ATen sums and hand-derived gradients.

#include <cmath>
#include <vector>

#include "med/core/error.h"
#include "med/kernels/losses.h"
#include "med/losses/combined.h"
#include "med/losses/dice.h"
#include "med/losses/tversky.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

namespace K = med::kernels;

/// (slabs, 3) sums by ATen in float64.
at::Tensor sumsRef(const at::Tensor &x, const at::Tensor &t, int64_t slabs, bool sigmoid,
                   bool squared) {
  at::Tensor p = (sigmoid ? at::sigmoid(x) : x).to(at::kDouble).reshape({slabs, -1});
  at::Tensor y = t.to(at::kDouble).reshape({slabs, -1});
  return at::stack(
      {(p * y).sum(1), squared ? (p * p).sum(1) : p.sum(1), squared ? (y * y).sum(1) : y.sum(1)},
      1);
}

TEST(DiceKernels, SumsMatchATenAcrossLengthsBlocksAndThreads) {
  // Slab lengths around the 16 lanes and the 65536-element blocks.
  for (int64_t len : {1, 15, 17, 65536 + 3, 2 * 65536 + 40})
    for (at::ScalarType dt : {at::kFloat, at::kDouble})
      for (bool sigmoid : {false, true})
        for (bool squared : {false, true}) {
          at::Tensor x = logits({3, len}, 70 + len).to(dt);
          at::Tensor t = (at::rand({3, len}, at::kDouble) > 0.5).to(dt);
          at::Tensor ref = sumsRef(x, t, 3, sigmoid, squared);
          at::Tensor one = K::dice_sums(x, t, 3, sigmoid, squared, 1, "Test");
          // Products in float32 summed in float64: within float32 rounding of each term.
          double tol = dt == at::kFloat ? 1e-6 * double(len) : 1e-9;
          expectClose(one, ref, tol);
          // Blocks are folded in order, so the thread count cannot change a bit.
          EXPECT_TRUE(at::equal(one, K::dice_sums(x, t, 3, sigmoid, squared, 2, "Test")));
        }
}

TEST(DiceKernels, GradientIsTheChainRuleOfTheSums) {
  at::Tensor x = logits({2, 70001}, 80),
             t = (at::rand({2, 70001}, at::kDouble) > 0.3).to(at::kDouble);
  at::Tensor coeff = at::tensor({0.25, -1.5, -0.75, 2.0}, at::kDouble).view({2, 2});
  for (bool sigmoid : {false, true})
    for (bool squared : {false, true}) {
      at::Tensor p = sigmoid ? at::sigmoid(x) : x;
      at::Tensor a = coeff.select(1, 0).view({2, 1}), b = coeff.select(1, 1).view({2, 1});
      at::Tensor want = a * t + b * (squared ? 2 * p : at::ones_like(p));
      if (sigmoid)
        want = want * p * (1 - p);
      for (int threads : {1, 2})
        expectClose(K::dice_grad(x, t, coeff, sigmoid, squared, threads, "Test"), want, 1e-12);
    }
}

TEST(DiceKernels, RefuseWhatTheyCannotRead) {
  at::Tensor x = at::zeros({2, 8}), t = at::zeros({2, 8});
  EXPECT_THROW(K::dice_sums(x, t.to(at::kDouble), 2, false, false, 1, "Test"), med::Error);
  EXPECT_THROW(K::dice_sums(x.to(at::kInt), t.to(at::kInt), 2, false, false, 1, "Test"),
               med::Error);
  EXPECT_THROW(K::dice_sums(x, t, 3, false, false, 1, "Test"), med::Error);
  EXPECT_THROW(K::dice_sums(x.t(), t, 2, false, false, 1, "Test"), med::Error);
  EXPECT_THROW(K::dice_grad(x, t, at::zeros({2, 3}, at::kDouble), false, false, 1, "Test"),
               med::Error);
}

/// Softmax over channels and one-hot targets by ATen in float64: (p, t) for logits (B, C, N) and
/// a label map (B, 1, N) read as MONAI's one_hot reads it (class trunc(v); none outside
/// (-1, C) or for NaN), or per-class targets (B, C, N) taken as they are.
std::pair<at::Tensor, at::Tensor> softmaxRef(const at::Tensor &x, const at::Tensor &target) {
  at::Tensor p = at::softmax(x.to(at::kDouble), 1);
  if (target.size(1) != 1)
    return {p, target.to(at::kDouble)};
  at::Tensor cls = at::trunc(target.to(at::kDouble));
  std::vector<at::Tensor> ch;
  for (int64_t c = 0; c < x.size(1); ++c)
    ch.push_back((cls == double(c)).to(at::kDouble));
  return {p, at::cat(ch, 1)};
}

TEST(SoftmaxDiceKernels, SumsMatchATenAcrossLengthsBlocksAndThreads) {
  for (int64_t len : {1, 15, 17, 65536 + 3, 2 * 65536 + 40})
    for (int64_t C : {2, 4})
      for (at::ScalarType dt : {at::kFloat, at::kDouble})
        for (bool onehot : {true, false})
          for (bool squared : {false, true}) {
            SCOPED_TRACE(::testing::Message()
                         << "len " << len << " C " << C << " " << c10::toString(dt) << " labels "
                         << onehot << " squared " << squared);
            at::Tensor x = logits({2, C, len}, 60 + len).to(dt);
            at::Tensor t = onehot ? labels({2, 1, len}, C, 61).to(dt)
                                  : at::rand({2, C, len}, at::kDouble).to(dt);
            auto [p, y] = softmaxRef(x, t);
            at::Tensor ref = at::stack({(p * y).sum(2), squared ? (p * p).sum(2) : p.sum(2),
                                        squared ? (y * y).sum(2) : y.sum(2)},
                                       1);
            at::Tensor one = K::softmax_dice_sums(x, t, squared, 1, "Test");
            expectClose(one, ref, dt == at::kFloat ? 1e-6 * double(len) : 1e-9);
            EXPECT_TRUE(at::equal(one, K::softmax_dice_sums(x, t, squared, 2, "Test")));
          }
}

TEST(SoftmaxDiceKernels, LabelsAreTruncatedAndStrayLabelsCountNowhere) {
  // trunc: -0.5 and 0.9 are class 0, 2.99 class 2; 3 (with C = 3), -1, NaN and inf no class.
  const double nan = std::nan("");
  at::Tensor lab =
      at::tensor({-0.5, 0.9, 2.99, 1.0, 3.0, -1.0, nan, INFINITY}, at::kFloat).view({1, 1, 8});
  at::Tensor x = logits({1, 3, 8}, 62).to(at::kFloat);
  at::Tensor s = K::softmax_dice_sums(x, lab, false, 1, "Test");
  EXPECT_TRUE(at::equal(s.select(1, 2), at::tensor({2.0, 1.0, 1.0}, at::kDouble).view({1, 3})))
      << s;
  // NaN logits give NaN probabilities everywhere, as ATen's softmax does.
  x[0][1][3] = nan;
  EXPECT_TRUE(std::isnan(K::softmax_dice_sums(x, lab, false, 1, "Test")[0][1][0].item<double>()));
}

TEST(SoftmaxDiceKernels, GradientIsTheSoftmaxBackwardOfTheChainRule) {
  const int64_t C = 3, len = 70001;
  at::Tensor x = logits({2, C, len}, 63), lab = labels({2, 1, len}, C, 64);
  at::Tensor coeff = at::randn({2, 2, C}, at::kDouble);
  for (bool onehot : {true, false})
    for (bool squared : {false, true}) {
      at::Tensor t = onehot ? lab : at::rand({2, C, len}, at::kDouble);
      auto [p, y] = softmaxRef(x, t);
      at::Tensor a = coeff.select(1, 0).unsqueeze(2), b = coeff.select(1, 1).unsqueeze(2);
      at::Tensor g = a * y + b * (squared ? 2 * p : at::ones_like(p)); // d loss / d p
      at::Tensor want = p * (g - (p * g).sum(1, true));
      for (int threads : {1, 2})
        expectClose(K::softmax_dice_grad(x, t, coeff, squared, threads, "Test"), want, 1e-12);
    }
}

TEST(SoftmaxDiceKernels, RefuseWhatTheyCannotRead) {
  at::Tensor x = at::zeros({2, 3, 8}), lab = at::zeros({2, 1, 8});
  EXPECT_THROW(K::softmax_dice_sums(x, lab.to(at::kDouble), false, 1, "Test"), med::Error);
  EXPECT_THROW(K::softmax_dice_sums(at::zeros({2, 1, 8}), lab, false, 1, "Test"), med::Error);
  EXPECT_THROW(K::softmax_dice_sums(x, at::zeros({2, 2, 8}), false, 1, "Test"), med::Error);
  EXPECT_THROW(K::softmax_dice_sums(x, at::zeros({2, 1, 7}), false, 1, "Test"), med::Error);
  EXPECT_THROW(
      K::softmax_dice_sums(x.transpose(1, 2).contiguous().transpose(1, 2), lab, false, 1, "Test"),
      med::Error);
  EXPECT_THROW(K::softmax_dice_grad(x, lab, at::zeros({2, 2, 2}, at::kDouble), false, 1, "Test"),
               med::Error);
}

/// Loss value and input gradient of `f` at x.
std::pair<at::Tensor, at::Tensor>
valueAndGrad(const std::function<at::Tensor(const at::Tensor &)> &f, const at::Tensor &x) {
  at::Tensor xg = x.detach().clone().set_requires_grad(true);
  at::Tensor v = f(xg);
  at::Tensor g = torch::autograd::grad({v.sum()}, {xg})[0];
  return {v.detach(), g};
}

/// DiceLoss(o) for `target` formed by dice_terms_eager (DiceLoss's plain formulation).
std::function<at::Tensor(const at::Tensor &)> diceEager(DiceLoss &module, const DiceLossOptions &o,
                                                        const at::Tensor &target) {
  return [&module, o, target](const at::Tensor &v) {
    SegInputs p = prepare_seg(
        "DiceLoss",
        {o.include_background(), o.to_onehot_y(), o.sigmoid(), o.softmax(), o.other_act()}, v,
        target);
    return module->finish(module->dice_terms_eager(p.input, p.target), v.dim() - 2);
  };
}

/// DiceLoss(o) through the module (generated kernels) against the same options evaluated with
/// dice_terms_eager, value and gradient.
void compareWithEager(const DiceLossOptions &o, const at::Tensor &x, const at::Tensor &target,
                      double tol) {
  DiceLoss module(o);
  auto eager = diceEager(module, o, target);
  auto [value, grad] = valueAndGrad([&](const at::Tensor &v) { return module(v, target); }, x);
  auto [valueRef, gradRef] = valueAndGrad(eager, x);
  EXPECT_EQ(value.scalar_type(), valueRef.scalar_type());
  expectClose(value, valueRef, tol);
  expectClose(grad, gradRef, tol * std::max(1.0, gradRef.abs().max().item<double>()));
}

TEST(DiceLossGenerated, MatchesEagerForEveryOption) {
  for (std::vector<int64_t> sp : {std::vector<int64_t>{9, 7}, std::vector<int64_t>{6, 5, 4}})
    for (at::ScalarType dt : {at::kDouble, at::kFloat}) {
      std::vector<int64_t> xs = {2, 3}, ls = {2, 1};
      xs.insert(xs.end(), sp.begin(), sp.end());
      ls.insert(ls.end(), sp.begin(), sp.end());
      at::Tensor x = logits(xs, 90).to(dt), lab = labels(ls, 3, 91).to(dt);
      const double tol = dt == at::kDouble ? 1e-12 : 2e-6;
      for (int act = 0; act < 3; ++act) // none, sigmoid, softmax
        for (bool bg : {true, false})
          for (bool sq : {false, true})
            for (bool jac : {false, true})
              for (bool batch : {false, true})
                for (const char *red : {"mean", "sum", "none"}) {
                  DiceLossOptions o = DiceLossOptions()
                                          .sigmoid(act == 1)
                                          .softmax(act == 2)
                                          .to_onehot_y(true)
                                          .include_background(bg)
                                          .squared_pred(sq)
                                          .jaccard(jac)
                                          .batch(batch)
                                          .reduction(red)
                                          .weight(bg ? std::vector<double>{0.5, 1.5, 2.0}
                                                     : std::vector<double>{1.5, 0.5});
                  SCOPED_TRACE(::testing::Message()
                               << "act " << act << " bg " << bg << " sq " << sq << " jac " << jac
                               << " batch " << batch << " " << red);
                  // Without an activation the input holds probabilities, as it would in use.
                  compareWithEager(o, act == 0 ? at::sigmoid(x) : x, lab, tol);
                }
    }
}

TEST(DiceLossGenerated, CombinedLossesAndFallbacks) {
  at::Tensor x = logits({2, 3, 8, 7}, 92), lab = labels({2, 1, 8, 7}, 3, 93);
  // DiceCELoss reuses dice_terms: its gradient still matches central differences.
  DiceCELoss dce(DiceCELossOptions().sigmoid(true).to_onehot_y(true));
  checkGrad([&](const at::Tensor &v) { return dce(v, lab); }, x);
  DiceLoss dice(DiceLossOptions().sigmoid(true).to_onehot_y(true).squared_pred(true));
  checkGrad([&](const at::Tensor &v) { return dice(v, lab); }, x);
  // A target that needs a gradient takes the ATen path and gets one.
  at::Tensor t = at::rand({2, 3, 8, 7}, at::kDouble).set_requires_grad(true);
  DiceLoss plain{DiceLossOptions()};
  at::Tensor gt = torch::autograd::grad({plain(at::sigmoid(x), t)}, {t})[0];
  EXPECT_GT(gt.abs().sum().item<double>(), 0.0);
  // float32 logits against a float64 target: the reference computes in float64, so does the
  // loss (the ATen path), as MONAI's type promotion gives.
  EXPECT_EQ(DiceLoss(DiceLossOptions().sigmoid(true))(x.to(at::kFloat), t.detach()).scalar_type(),
            at::kDouble);
}

TEST(DiceLossGenerated, BackwardTwiceAndThreadCounts) {
  at::Tensor x = logits({2, 2, 30, 40, 60}, 94).to(at::kFloat);
  at::Tensor lab = labels({2, 1, 30, 40, 60}, 2, 95).to(at::kFloat);
  DiceLoss loss(DiceLossOptions().softmax(true).to_onehot_y(true));
  at::Tensor xg = x.clone().set_requires_grad(true);
  at::Tensor v = loss(xg, lab);
  at::Tensor g1 = torch::autograd::grad({v}, {xg}, {}, /*retain_graph=*/true)[0];
  at::Tensor g2 = torch::autograd::grad({v}, {xg})[0];
  EXPECT_TRUE(at::equal(g1, g2));
  auto run = [&] { return loss(x, lab); };
  EXPECT_TRUE(at::equal(med::testing::withThreads(1, run), med::testing::withThreads(2, run)));
}

TEST(DiceLossGenerated, DoubleBackwardMatchesEager) {
  // backward with create_graph: the generated path's gradient has a graph of its own, and its
  // second derivatives are those of the eager formulation.
  at::Tensor x = logits({2, 3, 5, 4}, 100), lab = labels({2, 1, 5, 4}, 3, 101);
  at::Tensor v = at::randn(x.sizes(), at::kDouble);
  for (int act = 0; act < 3; ++act)
    for (bool bg : {true, false}) {
      DiceLossOptions o = DiceLossOptions()
                              .sigmoid(act == 1)
                              .softmax(act == 2)
                              .to_onehot_y(true)
                              .include_background(bg)
                              .squared_pred(act == 1);
      SCOPED_TRACE(::testing::Message() << "act " << act << " bg " << bg);
      DiceLoss module(o);
      auto eager = diceEager(module, o, lab);
      at::Tensor in = act == 0 ? at::sigmoid(x) : x;
      auto [g, h] = gradAndHvp([&](const at::Tensor &t) { return module(t, lab); }, in, v);
      auto [gRef, hRef] = gradAndHvp(eager, in, v);
      expectClose(g, gRef, 1e-12);
      expectClose(h, hRef, 1e-10 * std::max(1.0, hRef.abs().max().item<double>()));
      EXPECT_GT(hRef.abs().max().item<double>(), 0.0);
    }
}

TEST(DiceLossGenerated, SoftmaxGradientsAndLabelErrors) {
  at::Tensor x = logits({2, 3, 6, 5}, 98), lab = labels({2, 1, 6, 5}, 3, 99);
  // Central differences through the softmax kernels, with and without the background, with
  // labels and with per-class targets.
  for (bool bg : {true, false}) {
    DiceLoss onehot(DiceLossOptions().softmax(true).to_onehot_y(true).include_background(bg));
    checkGrad([&](const at::Tensor &v) { return onehot(v, lab); }, x);
    DiceLoss targets(DiceLossOptions().softmax(true).include_background(bg).squared_pred(true));
    at::Tensor t = at::rand({2, 3, 6, 5}, at::kDouble);
    checkGrad([&](const at::Tensor &v) { return targets(v, t); }, x);
  }
  // Labels that name no class fail as the one-hot encoder fails, naming the loss and the range.
  DiceLoss loss(DiceLossOptions().softmax(true).to_onehot_y(true));
  expectStrayLabelsRejected([&](const at::Tensor &l) { return loss(x, l); }, lab, "DiceLoss");
  // Integer label maps run on the kernels too (they promote to the logits' dtype).
  expectClose(loss(x, lab.to(at::kLong)), loss(x, lab), 1e-15);
}

TEST(OverlapLossesGenerated, GeneralizedDiceAndTverskyMatchTheirEagerPath) {
  // A target that needs a gradient sends a loss down its ATen path: the same loss, same
  // formula, sums by tensor reductions. Value and input gradient must agree.
  for (at::ScalarType dt : {at::kDouble, at::kFloat}) {
    at::Tensor x = logits({2, 3, 7, 6, 5}, 96).to(dt);
    at::Tensor t = onehotRef(labels({2, 1, 7, 6, 5}, 3, 97, /*absent=*/1), 3).to(dt);
    at::Tensor tg = t.clone().set_requires_grad(true);
    const double tol = dt == at::kDouble ? 1e-12 : 2e-6;
    // Value and input gradient with the plain target (kernels) and with `tg` (ATen path).
    auto agree =
        [&](const std::function<at::Tensor(const at::Tensor &, const at::Tensor &)> &loss) {
          auto [v, g] = valueAndGrad([&](const at::Tensor &a) { return loss(a, t); }, x);
          auto [ve, ge] = valueAndGrad([&](const at::Tensor &a) { return loss(a, tg); }, x);
          expectClose(v, ve, tol * std::max(1.0, ve.abs().max().item<double>()));
          expectClose(g, ge, tol * std::max(1.0, ge.abs().max().item<double>()));
        };
    for (bool softmax : {false, true})
      for (bool batch : {false, true})
        for (const char *red : {"mean", "sum"}) {
          SCOPED_TRACE(::testing::Message() << c10::toString(dt) << " softmax " << softmax
                                            << " batch " << batch << " " << red);
          for (const char *w : {"square", "simple", "uniform"}) {
            GeneralizedDiceLoss gdl(GeneralizedDiceLossOptions()
                                        .sigmoid(!softmax)
                                        .softmax(softmax)
                                        .w_type(w)
                                        .batch(batch)
                                        .reduction(red));
            agree([&](const at::Tensor &a, const at::Tensor &b) { return gdl(a, b); });
          }
          TverskyLoss tv(TverskyLossOptions()
                             .sigmoid(!softmax)
                             .softmax(softmax)
                             .alpha(0.3)
                             .beta(0.7)
                             .batch(batch)
                             .reduction(red));
          agree([&](const at::Tensor &a, const at::Tensor &b) { return tv(a, b); });
        }
  }
}

} // namespace
} // namespace med::losses::test
