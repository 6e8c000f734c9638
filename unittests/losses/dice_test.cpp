// DiceLoss, MaskedDiceLoss, GeneralizedDiceLoss and TverskyLoss against loop-based references.
#include "med/core/error.h"
#include "med/losses/dice.h"
#include "med/losses/tversky.h"
#include "reference.h"

namespace med::losses::test {
namespace {

struct DiceRefOpts {
  bool softmax = true, background = true, squared = false, jaccard = false, batch = false;
  double nr = 1e-5, dr = 1e-5;
  std::vector<double> weight;
};

/// (B, C) Dice losses (or (C) with batch) by explicit loops.
at::Tensor diceRef(const at::Tensor &x, const at::Tensor &lab, const DiceRefOpts &o) {
  int64_t B = x.size(0), C = x.size(1);
  at::Tensor p = o.softmax ? at::softmax(x, 1) : at::sigmoid(x);
  at::Tensor t = onehotRef(lab, C);
  int64_t c0 = o.background ? 0 : 1;
  std::vector<at::Tensor> rows;
  auto term = [&](at::Tensor pc, at::Tensor tc) {
    at::Tensor i = (pc * tc).sum();
    at::Tensor d = o.squared ? (pc * pc).sum() + (tc * tc).sum() : pc.sum() + tc.sum();
    if (o.jaccard)
      d = 2 * (d - i);
    return 1 - (2 * i + o.nr) / (d + o.dr);
  };
  if (o.batch) {
    std::vector<at::Tensor> r;
    for (int64_t c = c0; c < C; ++c)
      r.push_back(term(p.select(1, c), t.select(1, c)));
    return at::stack(r);
  }
  for (int64_t b = 0; b < B; ++b) {
    std::vector<at::Tensor> r;
    for (int64_t c = c0; c < C; ++c)
      r.push_back(term(p[b][c], t[b][c]));
    rows.push_back(at::stack(r));
  }
  return at::stack(rows);
}

TEST(DiceLoss, MatchesReference2D3D) {
  for (std::vector<int64_t> sp : {std::vector<int64_t>{9, 7}, std::vector<int64_t>{6, 5, 4}}) {
    std::vector<int64_t> xs = {3, 4}, ls = {3, 1};
    xs.insert(xs.end(), sp.begin(), sp.end());
    ls.insert(ls.end(), sp.begin(), sp.end());
    at::Tensor x = logits(xs, 1), lab = labels(ls, 4, 2, /*absent=*/2);
    for (bool bg : {true, false})
      for (bool sq : {false, true})
        for (bool jac : {false, true})
          for (bool batch : {false, true}) {
            DiceLoss loss(DiceLossOptions()
                              .softmax(true)
                              .to_onehot_y(true)
                              .include_background(bg)
                              .squared_pred(sq)
                              .jaccard(jac)
                              .batch(batch));
            DiceRefOpts o;
            o.background = bg, o.squared = sq, o.jaccard = jac, o.batch = batch;
            expectClose(loss(x, lab), diceRef(x, lab, o).mean());
          }
  }
}

TEST(DiceLoss, ReductionsAndWeights) {
  at::Tensor x = logits({2, 3, 8, 6}, 3), lab = labels({2, 1, 8, 6}, 3, 4);
  DiceRefOpts o;
  at::Tensor ref = diceRef(x, lab, o);
  DiceLoss none(DiceLossOptions().softmax(true).to_onehot_y(true).reduction("none"));
  expectClose(none(x, lab), ref.view({2, 3, 1, 1}));
  DiceLoss sum(
      DiceLossOptions().softmax(true).to_onehot_y(true).reduction("sum").weight({0.5, 1.0, 2.0}));
  at::Tensor w = at::tensor({0.5, 1.0, 2.0}, at::kDouble);
  expectClose(sum(x, lab), (ref * w).sum());
  DiceLoss scalar(DiceLossOptions().softmax(true).to_onehot_y(true).weight({3.0}));
  expectClose(scalar(x, lab), (ref * 3).mean());
}

TEST(DiceLoss, SigmoidEmptyAndFullMasks) {
  at::Tensor x = logits({2, 2, 5, 5, 3}, 5);
  at::Tensor t = at::zeros_like(x);
  t[0][1].fill_(1.0); // a full mask; sample 1 is empty in both channels
  DiceLoss loss(DiceLossOptions().sigmoid(true).reduction("none"));
  at::Tensor p = at::sigmoid(x), out = loss(x, t).view({2, 2});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 2; ++c) {
      double i = (p[b][c] * t[b][c]).sum().item<double>();
      double d = p[b][c].sum().item<double>() + t[b][c].sum().item<double>();
      EXPECT_NEAR(out[b][c].item<double>(), 1 - (2 * i + 1e-5) / (d + 1e-5), 1e-12);
    }
  // Perfect prediction of an empty target: the smoothing makes the loss ~0 only when p ~ 0.
  at::Tensor perfect = at::full({1, 1, 4, 4}, -40.0, at::kDouble);
  EXPECT_NEAR(
      DiceLoss(DiceLossOptions().sigmoid(true))(perfect, at::zeros_like(perfect)).item<double>(),
      0.0, 1e-6);
}

TEST(DiceLoss, OtherActivation) {
  at::Tensor x = logits({2, 3, 6, 6}, 6), t = onehotRef(labels({2, 1, 6, 6}, 3, 7), 3);
  DiceLoss loss(DiceLossOptions().other_act([](const at::Tensor &v) { return at::tanh(v); }));
  at::Tensor p = at::tanh(x);
  at::Tensor i = (p * t).sum({2, 3}), d = p.sum({2, 3}) + t.sum({2, 3});
  expectClose(loss(x, t), (1 - (2 * i + 1e-5) / (d + 1e-5)).mean());
}

TEST(MaskedDiceLoss, MaskedVoxelsDoNotCount) {
  at::Tensor x = logits({2, 2, 8, 8}, 8), t = onehotRef(labels({2, 1, 8, 8}, 2, 9), 2);
  at::Tensor mask = at::zeros({2, 1, 8, 8}, at::kDouble);
  mask.slice(2, 2, 6).fill_(1.0);
  MaskedDiceLoss loss(DiceLossOptions().sigmoid(true));
  at::Tensor p = at::sigmoid(x) * mask, tm = t * mask;
  at::Tensor i = (p * tm).sum({2, 3}), d = p.sum({2, 3}) + tm.sum({2, 3});
  expectClose(loss(x, t, mask), (1 - (2 * i + 1e-5) / (d + 1e-5)).mean());
  expectClose(loss(x, t), DiceLoss(DiceLossOptions().sigmoid(true))(x, t));
  // A mask with batch size 1 applies to every sample.
  at::Tensor one = mask.slice(0, 0, 1);
  expectClose(loss(x, t, one), loss(x, t, one.expand({2, 1, 8, 8}).contiguous()));
}

TEST(OneHot, TruncatesLikeMonaiAndChecksRange) {
  at::Tensor lab = at::tensor({0.0, 1.7, 2.0, 1.0}, at::kDouble).view({1, 1, 2, 2});
  at::Tensor oh = med::losses::one_hot(lab, 3);
  EXPECT_EQ(oh.scalar_type(), at::kFloat);
  at::Tensor expected =
      at::tensor({1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0}, at::kFloat).view({1, 3, 2, 2});
  EXPECT_TRUE(at::equal(oh, expected));
  EXPECT_THROW(med::losses::one_hot(lab, 2), med::Error);
  EXPECT_THROW(med::losses::one_hot(at::zeros({1, 2, 2, 2}), 3), med::Error);
}

/// Generalised Dice by loops: per sample, class weights from the ground-truth volume.
at::Tensor gdlRef(const at::Tensor &p, const at::Tensor &t, const std::string &wt) {
  int64_t B = p.size(0), C = p.size(1);
  std::vector<double> out;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> w(C), inter(C), den(C);
    double maxw = 0;
    for (int64_t c = 0; c < C; ++c) {
      double g = t[b][c].sum().item<double>();
      inter[c] = (p[b][c] * t[b][c]).sum().item<double>();
      den[c] = g + p[b][c].sum().item<double>();
      w[c] = wt == "uniform" ? 1.0 : (g == 0 ? -1.0 : (wt == "simple" ? 1 / g : 1 / (g * g)));
      maxw = std::max(maxw, w[c]);
    }
    double num = 0, dd = 0;
    for (int64_t c = 0; c < C; ++c) {
      double wc = w[c] < 0 ? maxw : w[c];
      num += wc * inter[c];
      dd += wc * den[c];
    }
    out.push_back(1 - (2 * num + 1e-5) / (dd + 1e-5));
  }
  return at::tensor(out, at::kDouble);
}

TEST(GeneralizedDiceLoss, MatchesReferenceWithAbsentClass) {
  at::Tensor x = logits({3, 4, 7, 6, 3}, 10), lab = labels({3, 1, 7, 6, 3}, 4, 11, 1);
  at::Tensor p = at::softmax(x, 1), t = onehotRef(lab, 4);
  for (std::string wt : {"square", "simple", "uniform"}) {
    GeneralizedDiceLoss loss(
        GeneralizedDiceLossOptions().softmax(true).to_onehot_y(true).w_type(wt));
    // Weights are float32 in MONAI: compare at float32 precision.
    expectClose(loss(x, lab), gdlRef(p, t, wt).mean(), 1e-6);
  }
}

TEST(TverskyLoss, MatchesReference) {
  at::Tensor x = logits({2, 3, 6, 5}, 12), lab = labels({2, 1, 6, 5}, 3, 13);
  at::Tensor p = at::softmax(x, 1), t = onehotRef(lab, 3);
  TverskyLoss loss(
      TverskyLossOptions().softmax(true).to_onehot_y(true).alpha(0.3).beta(0.7).reduction("none"));
  at::Tensor out = loss(x, lab);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 3}));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 3; ++c) {
      double tp = 0, fp = 0, fn = 0;
      auto pa = p[b][c].reshape(-1), ta = t[b][c].reshape(-1);
      for (int64_t k = 0; k < pa.numel(); ++k) {
        double pv = pa[k].item<double>(), tv = ta[k].item<double>();
        tp += pv * tv, fp += pv * (1 - tv), fn += (1 - pv) * tv;
      }
      EXPECT_NEAR(out[b][c].item<double>(), 1 - (tp + 1e-5) / (tp + 0.3 * fp + 0.7 * fn + 1e-5),
                  1e-12);
    }
  // alpha = beta = 0.5 is Dice, up to how the smoothing terms enter (1e-5 here).
  TverskyLoss half(TverskyLossOptions().softmax(true).to_onehot_y(true));
  expectClose(half(x, lab), DiceLoss(DiceLossOptions().softmax(true).to_onehot_y(true))(x, lab),
              1e-5);
}

} // namespace
} // namespace med::losses::test
