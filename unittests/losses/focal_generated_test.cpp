// FocalLoss and DiceFocalLoss on the generated kernels against float64 references written here
// from the textbook formulas (explicit per-class factors, one-hot by comparison): value and
// gradient (autograd through the reference) for every reduction, "none"'s map included, the
// fallbacks, label errors, and that the kernels were really used (the JIT session's counters).

#include <cmath>
#include <optional>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/losses/combined.h"
#include "med/losses/focal.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

/// Kernels asked of the JIT session so far (memory hits, compiles, disk loads): a loss on the
/// generated path asks for two per forward and backward, the ATen path for none.
int64_t kernelRequests() {
  compiler::JitStats s = compiler::JitSession::global().stats();
  return s.hits + s.misses + s.diskHits;
}

/// The options a reference needs.
struct Case {
  bool softmax = false, background = true, onehot = false;
  double gamma = 2.0;
  std::optional<double> alpha;
  std::vector<double> weight; // per kept class, empty for none
  std::string reduction = "mean";
};

/// FocalLoss in float64 from the textbook formulas, per element (B, C', *spatial) before the
/// reduction. Sigmoid: -[a t (1 - p)^g log p + (1 - a) (1 - t) p^g log(1 - p)] with a = alpha
/// (both factors 1 without alpha), for binary t. Softmax (over the kept channels only, as
/// MONAI drops the background first): -(1 - p_c)^g log p_c t_c times 1 - alpha for the first
/// kept class and alpha for the others. Then each class times its weight.
at::Tensor referenceMap(const Case &k, const at::Tensor &input, const at::Tensor &target) {
  const int64_t C = input.size(1);
  at::Tensor x = input.to(at::kDouble);
  at::Tensor t = k.onehot ? onehotRef(target.to(at::kDouble), C) : target.to(at::kDouble);
  if (!k.background) {
    x = x.slice(1, 1);
    t = t.slice(1, 1);
  }
  std::vector<at::Tensor> classes;
  for (int64_t c = 0; c < x.size(1); ++c) {
    at::Tensor loss;
    if (k.softmax) {
      at::Tensor logp = at::log_softmax(x, 1).select(1, c);
      loss = -at::pow(1 - logp.exp(), k.gamma) * logp * t.select(1, c);
      if (k.alpha && k.background)
        loss = loss * (c == 0 ? 1 - *k.alpha : *k.alpha);
    } else {
      at::Tensor xc = x.select(1, c), tc = t.select(1, c), p = at::sigmoid(xc);
      const double a = k.alpha.value_or(1.0), b = k.alpha ? 1 - *k.alpha : 1.0;
      loss = -(a * tc * at::pow(1 - p, k.gamma) * at::log_sigmoid(xc) +
               b * (1 - tc) * at::pow(p, k.gamma) * at::log_sigmoid(-xc));
    }
    classes.push_back(k.weight.empty() ? loss : loss * k.weight[c]);
  }
  return at::stack(classes, 1);
}

/// referenceMap reduced as MONAI reduces: "mean" over every element, "sum" the sum over items
/// and classes of the spatial means, "none" the map itself.
at::Tensor reference(const Case &k, const at::Tensor &input, const at::Tensor &target) {
  at::Tensor m = referenceMap(k, input, target);
  if (k.reduction == "none")
    return m;
  if (k.reduction == "mean")
    return m.mean();
  return m.flatten(2).mean(2).sum();
}

FocalLossOptions optionsOf(const Case &k) {
  return FocalLossOptions()
      .use_softmax(k.softmax)
      .include_background(k.background)
      .to_onehot_y(k.onehot)
      .gamma(k.gamma)
      .alpha(k.alpha)
      .weight(k.weight)
      .reduction(k.reduction);
}

/// The module's value and input gradient against the reference's (autograd in float64), both
/// relative to 1e-5 (FocalLoss computes in float32), and that the kernels ran. A map (reduction
/// "none") is differentiated along a random incoming gradient.
void compare(const Case &k, const at::Tensor &x, const at::Tensor &target) {
  FocalLoss loss(optionsOf(k));
  at::Tensor xg = x.detach().clone().set_requires_grad(true);
  const int64_t before = kernelRequests();
  at::Tensor v = loss(xg, target);
  at::Tensor up =
      k.reduction == "none" ? at::rand(v.sizes(), at::kFloat) + 0.5 : at::ones({}, at::kFloat);
  at::Tensor g = torch::autograd::grad({v}, {xg}, {up})[0];
  EXPECT_EQ(kernelRequests() - before, 2) << "the generated kernels did not run";
  EXPECT_EQ(v.scalar_type(), at::kFloat); // MONAI's float32 whatever the input
  EXPECT_EQ(g.scalar_type(), x.scalar_type());
  at::Tensor xr = x.detach().to(at::kDouble).set_requires_grad(true);
  at::Tensor r = reference(k, xr, target);
  at::Tensor gr = torch::autograd::grad({r}, {xr}, {up.to(at::kDouble)})[0];
  expectClose(v, r, 1e-5 * std::max(1.0, r.abs().max().item<double>()));
  expectClose(g, gr, 1e-5 * std::max(1e-3, gr.abs().max().item<double>()));
}

TEST(FocalLossGenerated, MatchesReferenceForEveryOption) {
  for (std::vector<int64_t> sp : {std::vector<int64_t>{9, 7}, std::vector<int64_t>{6, 5, 4}})
    for (at::ScalarType dt : {at::kFloat, at::kDouble}) {
      std::vector<int64_t> xs = {2, 3}, ls = {2, 1};
      xs.insert(xs.end(), sp.begin(), sp.end());
      ls.insert(ls.end(), sp.begin(), sp.end());
      at::Tensor x = logits(xs, 130).to(dt), lab = labels(ls, 3, 131);
      at::Tensor onehot = onehotRef(lab, 3);
      for (bool softmax : {false, true})
        for (bool bg : {true, false})
          for (bool toOnehot : {false, true})
            for (double gamma : {0.0, 2.0, 0.5})
              for (std::optional<double> alpha :
                   {std::optional<double>(), std::optional<double>(0.25)})
                for (bool weighted : {false, true})
                  for (const char *red : {"mean", "sum", "none"}) {
                    Case k{softmax, bg, toOnehot, gamma, alpha, {}, red};
                    if (weighted)
                      k.weight =
                          bg ? std::vector<double>{0.5, 1.5, 2.0} : std::vector<double>{1.5, 0.5};
                    SCOPED_TRACE(::testing::Message()
                                 << c10::toString(dt) << " rank " << sp.size() << " softmax "
                                 << softmax << " bg " << bg << " onehot " << toOnehot << " gamma "
                                 << gamma << " alpha " << alpha.has_value() << " weighted "
                                 << weighted << " " << red);
                    compare(k, x, toOnehot ? lab : onehot);
                  }
    }
}

TEST(FocalLossGenerated, SoftTargetsAndIntegerLabels) {
  at::Tensor x = logits({2, 3, 8, 6}, 132), lab = labels({2, 1, 8, 6}, 3, 133);
  // Soft per-class targets: the softmax form is linear in t, so the reference holds as is.
  Case soft{true, true, false, 0.5, 0.4, {1.0, 2.0, 0.5}, "sum"};
  compare(soft, x, at::rand({2, 3, 8, 6}, at::kDouble));
  // Integer and float64 label maps give what float32 labels give.
  FocalLoss loss(FocalLossOptions().use_softmax(true).to_onehot_y(true));
  at::Tensor want = loss(x, lab.to(at::kFloat));
  expectClose(loss(x, lab.to(at::kLong)), want, 0.0);
  expectClose(loss(x, lab + 0.5), want, 0.0); // trunc(v + 0.5) is v's class
}

TEST(FocalLossGenerated, FallbacksAgreeWithTheKernels) {
  at::Tensor x = logits({2, 3, 7, 6}, 134), lab = labels({2, 1, 7, 6}, 3, 135);
  at::Tensor t = onehotRef(lab, 3);
  for (bool softmax : {false, true}) {
    Case k{softmax, false, false, 2.0, 0.25, {2.0, 0.5}, "mean"};
    FocalLoss loss(optionsOf(k));
    // Reduction "none" runs its map kernel (MatchesReferenceForEveryOption checks it in full),
    // and agrees with forward_eager.
    FocalLoss none(optionsOf(k).reduction("none"));
    int64_t before = kernelRequests();
    at::Tensor map = none(x, t);
    EXPECT_EQ(kernelRequests(), before + 1);
    expectClose(map, referenceMap(k, x, t), 1e-5);
    expectClose(map, none->forward_eager(x, t), 1e-5);
    // A target that needs a gradient takes the ATen path and gets one; the input's gradient
    // agrees with the kernels'.
    at::Tensor tg = t.clone().set_requires_grad(true), xg = x.clone().set_requires_grad(true);
    before = kernelRequests();
    at::Tensor v = loss(xg, tg);
    auto grads = torch::autograd::grad({v}, {xg, tg});
    EXPECT_EQ(kernelRequests(), before);
    EXPECT_GT(grads[1].abs().sum().item<double>(), 0.0);
    at::Tensor xk = x.clone().set_requires_grad(true);
    at::Tensor vk = loss(xk, t);
    expectClose(vk, v, 1e-6);
    expectClose(torch::autograd::grad({vk}, {xk})[0], grads[0], 1e-6);
    // forward_eager is MONAI's formulation: the same loss.
    expectClose(loss->forward_eager(x, t), vk, 1e-6);
  }
  // Integer inputs (no gradient) run on ATen too.
  FocalLoss plain{FocalLossOptions()};
  at::Tensor xi = (x * 3).to(at::kInt);
  const int64_t before = kernelRequests();
  expectClose(plain(xi, t), plain->forward_eager(xi, t), 0.0);
  EXPECT_EQ(kernelRequests(), before);
}

TEST(FocalLossGenerated, LabelErrorsBackwardTwiceAndThreadCounts) {
  at::Tensor x = logits({2, 3, 6, 5}, 136), lab = labels({2, 1, 6, 5}, 3, 137);
  for (bool bg : {true, false})
    for (const char *red : {"mean", "none"}) {
      FocalLoss loss(
          FocalLossOptions().use_softmax(true).to_onehot_y(true).include_background(bg).reduction(
              red));
      expectStrayLabelsRejected([&](const at::Tensor &l) { return loss(x, l); }, lab, "FocalLoss");
    }
  FocalLoss loss(FocalLossOptions().use_softmax(true).to_onehot_y(true).alpha(0.3));
  at::Tensor big = logits({2, 3, 40, 40, 50}, 138).to(at::kFloat);
  at::Tensor bigLab = labels({2, 1, 40, 40, 50}, 3, 139);
  at::Tensor xg = big.clone().set_requires_grad(true);
  at::Tensor v = loss(xg, bigLab);
  at::Tensor g1 = torch::autograd::grad({v}, {xg}, {}, /*retain_graph=*/true)[0];
  at::Tensor g2 = torch::autograd::grad({v}, {xg})[0];
  EXPECT_TRUE(at::equal(g1, g2));
  for (bool softmax : {false, true})
    for (const char *red : {"mean", "none"}) {
      FocalLoss f(FocalLossOptions().use_softmax(softmax).to_onehot_y(true).reduction(red));
      auto run = [&] {
        at::Tensor xr = big.clone().set_requires_grad(true);
        at::Tensor value = f(xr, bigLab);
        at::Tensor up = at::full(value.sizes(), 0.75, at::kFloat);
        return at::cat(
            {value.reshape(-1), torch::autograd::grad({value}, {xr}, {up})[0].reshape(-1)});
      };
      EXPECT_TRUE(at::equal(med::testing::withThreads(1, run), med::testing::withThreads(2, run)))
          << red;
    }
}

TEST(FocalLossGenerated, DoubleBackwardMatchesEager) {
  // backward with create_graph: the generated path's gradient has a graph of its own, and its
  // second derivatives are those of MONAI's formulation (forward_eager).
  at::Tensor x = logits({2, 3, 5, 4}, 130), lab = labels({2, 1, 5, 4}, 3, 131);
  at::Tensor v = at::randn(x.sizes(), at::kDouble);
  for (bool softmax : {false, true})
    for (bool bg : {true, false})
      for (std::optional<double> alpha : {std::optional<double>(), std::optional<double>(0.3)}) {
        FocalLossOptions o = FocalLossOptions()
                                 .use_softmax(softmax)
                                 .to_onehot_y(true)
                                 .include_background(bg)
                                 .gamma(1.5)
                                 .weight({1.0, 2.0, 0.5});
        if (alpha && !(softmax && !bg))
          o.alpha(*alpha);
        if (!bg)
          o.weight({2.0, 0.5});
        SCOPED_TRACE(::testing::Message() << "softmax " << softmax << " bg " << bg);
        for (const char *red : {"mean", "none"}) {
          FocalLoss loss(FocalLossOptions(o).reduction(red));
          // The map is weighted by a fixed random tensor, so its incoming gradient varies.
          at::Tensor w = at::rand({2, bg ? 3 : 2, 5, 4}, at::kDouble);
          auto scalar = [&](const at::Tensor &m) { return red[0] == 'n' ? (m * w).sum() : m; };
          auto [g, h] = gradAndHvp([&](const at::Tensor &t) { return scalar(loss(t, lab)); }, x, v);
          auto [gRef, hRef] = gradAndHvp(
              [&](const at::Tensor &t) { return scalar(loss->forward_eager(t, lab)); }, x, v);
          expectClose(g, gRef, 1e-6);
          expectClose(h, hRef, 1e-5 * std::max(1.0, hRef.abs().max().item<double>()));
          EXPECT_GT(hRef.abs().max().item<double>(), 0.0);
        }
      }
}

TEST(DiceFocalLossGenerated, FocalTermRunsOnTheKernels) {
  at::Tensor x = logits({2, 3, 6, 5, 4}, 140), lab = labels({2, 1, 6, 5, 4}, 3, 141);
  at::Tensor t = onehotRef(lab, 3);
  DiceFocalLoss loss(DiceFocalLossOptions()
                         .sigmoid(true)
                         .to_onehot_y(true)
                         .gamma(0.5)
                         .alpha(0.25)
                         .lambda_focal(2.0)
                         .focal_weight({1.0, 2.0, 0.5}));
  at::Tensor xg = x.clone().set_requires_grad(true);
  const int64_t before = kernelRequests();
  at::Tensor v = loss(xg, lab);
  at::Tensor g = torch::autograd::grad({v}, {xg})[0];
  EXPECT_EQ(kernelRequests() - before, 4); // Dice's two kernels and the focal term's two
  // Reference: sigmoid Dice (weights as focal_weight, MONAI's DiceFocalLoss passes them to
  // both terms) plus 2 x the sigmoid focal loss.
  at::Tensor xr = x.clone().set_requires_grad(true);
  at::Tensor p = at::sigmoid(xr);
  at::Tensor i = (p * t).sum({2, 3, 4}), d = p.sum({2, 3, 4}) + t.sum({2, 3, 4});
  at::Tensor w = at::tensor({1.0, 2.0, 0.5}, at::kDouble);
  at::Tensor dice = ((1 - (2 * i + 1e-5) / (d + 1e-5)) * w).mean();
  Case k{false, true, false, 0.5, 0.25, {1.0, 2.0, 0.5}, "mean"};
  at::Tensor r = dice + 2.0 * reference(k, xr, t);
  at::Tensor gr = torch::autograd::grad({r}, {xr})[0];
  expectClose(v, r, 1e-5);
  expectClose(g, gr, 1e-5 * gr.abs().max().item<double>());
}

} // namespace
} // namespace med::losses::test
