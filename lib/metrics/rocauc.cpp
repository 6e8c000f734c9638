// ROC AUC through the rank-sum (Mann-Whitney) statistic, ties counted one half.
#include "med/metrics/rocauc.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "med/core/error.h"

namespace med::metrics {

namespace {

const char *kOwner = "ROCAUCMetric";

void checkAverage(const std::string &a) {
  if (a != "macro" && a != "weighted" && a != "micro" && a != "none")
    throw Error(std::string(kOwner) + ".average",
                "expected 'macro', 'weighted', 'micro' or 'none', got '" + a + "'");
}

/// AUC of one class: P(score_pos > score_neg) + 0.5 P(equal), by sorting once and walking tie
/// groups.
double aucOf(const at::Tensor &scores, const at::Tensor &labels) {
  at::Tensor s = scores.to(at::kDouble).contiguous(), l = labels.to(at::kDouble).contiguous();
  const int64_t n = s.numel();
  const double *sp = s.data_ptr<double>(), *lp = l.data_ptr<double>();
  int64_t pos = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (lp[i] != 0 && lp[i] != 1)
      throw Error(std::string(kOwner) + ".y",
                  "expected labels 0 or 1, got " + std::to_string(lp[i]));
    pos += lp[i] == 1;
  }
  const int64_t neg = n - pos;
  if (pos == 0 || neg == 0)
    return std::numeric_limits<double>::quiet_NaN();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sp[a] < sp[b]; });
  double negBelow = 0, wins = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    double gPos = 0, gNeg = 0;
    while (j < n && sp[order[j]] == sp[order[i]]) {
      (lp[order[j]] == 1 ? gPos : gNeg) += 1;
      ++j;
    }
    wins += gPos * (negBelow + 0.5 * gNeg);
    negBelow += gNeg;
    i = j;
  }
  return wins / (double(pos) * double(neg));
}

} // namespace

at::Tensor compute_roc_auc(const at::Tensor &y_pred_in, const at::Tensor &y_in,
                           const std::string &average) {
  checkAverage(average);
  detail::check_finite_input(y_pred_in, kOwner, "y_pred");
  detail::check_finite_input(y_in, kOwner, "y");
  at::Tensor y_pred = y_pred_in.cpu(), y = y_in.cpu();
  if (y_pred.dim() < 1 || y_pred.dim() > 2)
    throw Error(std::string(kOwner) + ".y_pred", "expected shape (batch,) or (batch, classes)");
  if (y.dim() < 1 || y.dim() > 2)
    throw Error(std::string(kOwner) + ".y", "expected shape (batch,) or (batch, classes)");
  if (y_pred.dim() == 2 && y_pred.size(1) == 1)
    y_pred = y_pred.squeeze(-1);
  if (y.dim() == 2 && y.size(1) == 1)
    y = y.squeeze(-1);
  if (y_pred.dim() == 1) {
    if (y.dim() != 1 || y.size(0) != y_pred.size(0))
      throw Error(std::string(kOwner) + ".y", "expected one label per score");
    return at::scalar_tensor(aucOf(y_pred, y), at::kDouble);
  }
  if (!y.sizes().equals(y_pred.sizes()))
    throw Error(std::string(kOwner) + ".y",
                "expected the shape of y_pred " + std::string(c10::str(y_pred.sizes())));
  if (average == "micro")
    return at::scalar_tensor(aucOf(y_pred.flatten(), y.flatten()), at::kDouble);
  const int64_t C = y_pred.size(1);
  std::vector<double> aucs(C), weights(C);
  for (int64_t c = 0; c < C; ++c) {
    aucs[c] = aucOf(y_pred.select(1, c), y.select(1, c));
    weights[c] = y.select(1, c).to(at::kDouble).sum().item<double>();
  }
  if (average == "none")
    return at::tensor(aucs, at::kDouble);
  double num = 0, den = 0;
  for (int64_t c = 0; c < C; ++c) {
    double w = average == "weighted" ? weights[c] : 1.0;
    num += w * aucs[c];
    den += w;
  }
  return at::scalar_tensor(num / den, at::kDouble);
}

ROCAUCMetric::ROCAUCMetric(ROCAUCMetricOptions options_)
    : CumulativeIterationMetric("ROCAUCMetric"), options(options_) {
  checkAverage(options.average());
}

std::vector<at::Tensor> ROCAUCMetric::compute(const at::Tensor &y_pred, const at::Tensor &y) {
  detail::check_finite_input(y_pred, name_, "y_pred");
  detail::check_finite_input(y, name_, "y");
  return {y_pred, y};
}

at::Tensor ROCAUCMetric::aggregate(const std::string &average) const {
  std::vector<at::Tensor> b = get_buffers();
  return compute_roc_auc(b[0], b[1], average.empty() ? options.average() : average);
}

} // namespace med::metrics
