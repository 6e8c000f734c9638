// Dice, IoU, generalized Dice, confusion-matrix metrics and the reductions against explicit
// per-voxel counting loops and hand-checked values.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "error_where.h"
#include "med/core/error.h"
#include "med/metrics/confusion_matrix.h"
#include "med/metrics/meandice.h"

namespace M = med::metrics;
using med::testing::errorWhere;

namespace {

struct Counts {
  double tp = 0, fp = 0, tn = 0, fn = 0;
};

/// Explicit loop over the voxels of one (item, class).
Counts count(const at::Tensor &p, const at::Tensor &y) {
  at::Tensor pf = p.flatten().to(at::kDouble).contiguous(),
             yf = y.flatten().to(at::kDouble).contiguous();
  Counts c;
  for (int64_t i = 0; i < pf.numel(); ++i) {
    bool a = pf.data_ptr<double>()[i] != 0, b = yf.data_ptr<double>()[i] != 0;
    c.tp += a && b, c.fp += a && !b, c.tn += !a && !b, c.fn += !a && b;
  }
  return c;
}

at::Tensor onehot(at::IntArrayRef shape, int64_t seed) {
  at::manual_seed(seed);
  at::Tensor labels = at::randint(shape[1], {shape[0]}, at::kLong);
  std::vector<int64_t> spatial(shape.begin() + 2, shape.end());
  std::vector<int64_t> lshape = {shape[0]};
  lshape.insert(lshape.end(), spatial.begin(), spatial.end());
  at::Tensor l = at::randint(shape[1], lshape, at::kLong);
  return at::one_hot(l, shape[1]).movedim(-1, 1).to(at::kFloat);
}

} // namespace

TEST(Overlap, DiceAndIoUMatchLoops2DAnd3D) {
  for (auto shape : {std::vector<int64_t>{3, 3, 7, 6, 5}, std::vector<int64_t>{2, 4, 9, 8}}) {
    at::Tensor p = onehot(shape, 1), y = onehot(shape, 2);
    at::Tensor d = M::compute_dice(p, y, true), iou = M::compute_iou(p, y, true);
    for (int64_t b = 0; b < shape[0]; ++b)
      for (int64_t c = 0; c < shape[1]; ++c) {
        Counts k = count(p[b][c], y[b][c]);
        EXPECT_NEAR(d[b][c].item<double>(), 2 * k.tp / (2 * k.tp + k.fp + k.fn), 1e-6);
        EXPECT_NEAR(iou[b][c].item<double>(), k.tp / (k.tp + k.fp + k.fn), 1e-6);
      }
    EXPECT_EQ(M::compute_dice(p, y, false).size(1), shape[1] - 1);
  }
}

TEST(Overlap, DiceEmptyConventionsAndLabelMaps) {
  at::Tensor y = at::zeros({1, 2, 4, 4}), p = at::zeros({1, 2, 4, 4});
  y[0][0].fill_(1);
  EXPECT_TRUE(std::isnan(M::compute_dice(p, y)[0][1].item<double>()));     // both empty
  EXPECT_EQ(M::compute_dice(p, y, true, false)[0][1].item<double>(), 1.0); // both empty
  EXPECT_EQ(M::compute_dice(p, y, true, true)[0][0].item<double>(), 0.0);  // pred empty
  at::Tensor p2 = p.clone();
  p2[0][1][0][0] = 1;
  EXPECT_TRUE(std::isnan(M::compute_dice(p2, y)[0][1].item<double>())); // gt empty
  EXPECT_EQ(M::compute_dice(p2, y, true, false)[0][1].item<double>(), 0.0);
  // Label maps with num_classes equal their one-hot form.
  at::Tensor lp = at::randint(3, {2, 1, 6, 5}, at::kLong).to(at::kFloat);
  at::Tensor ly = at::randint(3, {2, 1, 6, 5}, at::kLong).to(at::kFloat);
  auto oh = [](const at::Tensor &l) {
    return at::one_hot(l.squeeze(1).to(at::kLong), 3).movedim(-1, 1).to(at::kFloat);
  };
  EXPECT_TRUE(at::allclose(M::compute_dice(lp, ly, false, true, 3),
                           M::compute_dice(oh(lp), oh(ly), false), 1e-6, 1e-6, true));
}

TEST(Overlap, ReductionsAndCumulativeBuffer) {
  at::Tensor p = onehot({5, 3, 6, 6, 4}, 3), y = onehot({5, 3, 6, 6, 4}, 4);
  M::DiceMetric whole(M::DiceMetricOptions().include_background(false));
  whole(p, y);
  M::DiceMetric parts(M::DiceMetricOptions().include_background(false));
  parts(p.slice(0, 0, 2), y.slice(0, 0, 2));
  parts(p.slice(0, 2, 5), y.slice(0, 2, 5));
  EXPECT_TRUE(at::allclose(parts.get_buffer(), whole.get_buffer()));
  at::Tensor buf = whole.get_buffer().to(at::kDouble);
  EXPECT_NEAR(parts.aggregate().item<double>(), buf.mean().item<double>(), 1e-6);
  EXPECT_TRUE(at::allclose(parts.aggregate("mean_batch").to(at::kDouble), buf.mean(0), 1e-6));
  EXPECT_TRUE(at::allclose(parts.aggregate("sum_channel").to(at::kDouble), buf.sum(1), 1e-5));
  EXPECT_NEAR(parts.aggregate("sum").item<double>(), buf.sum().item<double>(), 1e-4);
  // nan entries are skipped: item 0 = mean(0.5), item 1 = mean(0.2, 0.4) -> (0.5 + 0.3) / 2.
  at::Tensor f = at::tensor({0.5, NAN, 0.2, 0.4}).view({2, 2});
  auto [v, n] = M::do_metric_reduction(f, "mean");
  EXPECT_NEAR(v.item<double>(), 0.4, 1e-7);
  EXPECT_EQ(v.sizes(), at::IntArrayRef({1}));
  EXPECT_NEAR(M::do_metric_reduction(f, "mean_batch").first[1].item<double>(), 0.4, 1e-7);
  EXPECT_THROW(M::do_metric_reduction(f, "median"), med::Error);
}

TEST(Overlap, ConfusionMatrixAndEveryMetricName) {
  at::Tensor p = onehot({2, 3, 5, 6, 4}, 5), y = onehot({2, 3, 5, 6, 4}, 6);
  at::Tensor cm = M::get_confusion_matrix(p, y, true);
  ASSERT_EQ(cm.sizes(), at::IntArrayRef({2, 3, 4}));
  Counts k = count(p[1][2], y[1][2]);
  EXPECT_EQ(cm[1][2][0].item<double>(), k.tp);
  EXPECT_EQ(cm[1][2][1].item<double>(), k.fp);
  EXPECT_EQ(cm[1][2][2].item<double>(), k.tn);
  EXPECT_EQ(cm[1][2][3].item<double>(), k.fn);
  const double tp = k.tp, fp = k.fp, tn = k.tn, fn = k.fn, P = tp + fn, N = fp + tn;
  const double tpr = tp / P, tnr = tn / N, ppv = tp / (tp + fp), npv = tn / (tn + fn);
  std::vector<std::pair<std::string, double>> expected = {
      {"sensitivity", tpr},
      {"tpr", tpr},
      {"specificity", tnr},
      {"precision", ppv},
      {"negative predictive value", npv},
      {"miss rate", fn / P},
      {"fall out", fp / N},
      {"false discovery rate", fp / (fp + tp)},
      {"false omission rate", fn / (fn + tn)},
      {"prevalence threshold", (std::sqrt(tpr * (1 - tnr)) + tnr - 1) / (tpr + tnr - 1)},
      {"threat score", tp / (tp + fn + fp)},
      {"accuracy", (tp + tn) / (P + N)},
      {"balanced accuracy", (tpr + tnr) / 2},
      {"f1 score", 2 * tp / (2 * tp + fn + fp)},
      {"F1", 2 * tp / (2 * tp + fn + fp)},
      {"matthews correlation coefficient",
       (tp * tn - fp * fn) / std::sqrt((tp + fp) * P * N * (tn + fn))},
      {"fowlkes mallows index", std::sqrt(ppv * tpr)},
      {"informedness", tpr + tnr - 1},
      {"markedness", ppv + npv - 1}};
  for (auto &[name, value] : expected)
    EXPECT_NEAR(M::compute_confusion_matrix_metric(name, cm[1][2].to(at::kDouble)).item<double>(),
                value, 1e-6)
        << name;
  EXPECT_THROW(M::check_confusion_matrix_metric_name("dice"), med::Error);
  // compute_sample=false reduces the counts first; true averages the per-item metric.
  M::ConfusionMatrixMetric pooled(M::ConfusionMatrixMetricOptions().metric_name({"sensitivity"}));
  EXPECT_THROW(pooled.aggregate(), med::Error); // nothing accumulated yet
  M::ConfusionMatrixMetric m(M::ConfusionMatrixMetricOptions().metric_name({"recall", "ppv"}));
  m(p, y);
  at::Tensor sums = cm.sum(at::IntArrayRef{0, 1}).to(at::kDouble);
  EXPECT_NEAR(m.aggregate()[0].item<double>(), (sums[0] / (sums[0] + sums[3])).item<double>(),
              1e-6);
  at::Tensor perItem = cm.select(-1, 0) / (cm.select(-1, 0) + cm.select(-1, 3));
  EXPECT_NEAR(m.aggregate(true)[0].item<double>(), perItem.mean().item<double>(), 1e-6);
}

TEST(Overlap, FBetaAndGeneralizedDice) {
  at::Tensor p = onehot({2, 3, 6, 5}, 7), y = onehot({2, 3, 6, 5}, 8);
  M::FBetaScore f2(M::FBetaScoreOptions().beta(2.0));
  f2(p, y);
  at::Tensor s = M::get_confusion_matrix(p, y).mean(at::IntArrayRef{0, 1}).to(at::kDouble);
  double tp = s[0].item<double>(), fp = s[1].item<double>(), fn = s[3].item<double>();
  EXPECT_NEAR(f2.aggregate().item<double>(), 5 * tp / (5 * tp + 4 * fn + fp), 1e-6);
  at::Tensor g = M::compute_generalized_dice(p, y);
  for (int64_t b = 0; b < 2; ++b) {
    double num = 0, den = 0;
    for (int64_t c = 0; c < 3; ++c) {
      Counts k = count(p[b][c], y[b][c]);
      double yo = k.tp + k.fn, po = k.tp + k.fp, w = 1 / (yo * yo);
      num += 2 * w * k.tp, den += w * (yo + po);
    }
    EXPECT_NEAR(g[b].item<double>(), num / den, 1e-6);
  }
  M::GeneralizedDiceScore gds;
  EXPECT_EQ(gds(p, y).sizes(), at::IntArrayRef({2, 1}));
}

TEST(Overlap, BadInputThrowsNamingMetricAndParameter) {
  at::Tensor a = at::zeros({1, 2, 4, 4}), b = at::zeros({1, 2, 4, 5});
  M::DiceMetric dice;
  EXPECT_EQ(errorWhere([&] { dice(a, b); }), "DiceMetric.y");
  EXPECT_EQ(errorWhere([&] { dice(a + 0.5, a); }), "DiceMetric.y_pred");
  EXPECT_EQ(errorWhere([&] { dice(a.to(at::kBool), a + 0.5); }), "DiceMetric.y"); // mixed dtypes
  EXPECT_EQ(errorWhere([&] { dice(at::zeros({4, 4}), at::zeros({4, 4})); }), "DiceMetric.y_pred");
  at::Tensor n = a.clone();
  n[0][0][0][0] = NAN;
  EXPECT_EQ(errorWhere([&] { dice(a, n); }), "DiceMetric.y");
  EXPECT_EQ(errorWhere([] { M::DiceMetric(M::DiceMetricOptions().reduction("avg")); }),
            "DiceMetric.reduction");
  M::MeanIoU iou;
  EXPECT_EQ(errorWhere([&] { iou(a, b); }), "MeanIoU.y");
  M::ConfusionMatrixMetric cm;
  EXPECT_EQ(errorWhere([&] { cm(a, a * 2 + 2); }), "ConfusionMatrixMetric.y");
  EXPECT_EQ(errorWhere([] {
              M::ConfusionMatrixMetric(M::ConfusionMatrixMetricOptions().metric_name({"auc"}));
            }),
            "ConfusionMatrixMetric.metric_name");
}
