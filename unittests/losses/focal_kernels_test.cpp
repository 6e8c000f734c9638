// The generated focal kernels (med.focal_sums, med.focal_grad and their softmax forms) against
// float64 references written here: sums against ATen sums of the focal term, gradients against
// autograd on those references and against central differences of the sums kernels.

#include <cmath>
#include <optional>
#include <vector>

#include "med/core/error.h"
#include "med/kernels/losses.h"
#include "reference.h"

namespace med::losses::test {
namespace {

namespace K = med::kernels;

/// MONAI's sigmoid focal term per element, in float64: BCE with logits times
/// exp(gamma logsigmoid(-x (2 t - 1))), alpha-weighted per element.
at::Tensor sigmoidTerm(const at::Tensor &x, const at::Tensor &t, double gamma,
                       std::optional<double> alpha) {
  at::Tensor bce = x - x * t - at::log_sigmoid(x);
  at::Tensor term = at::exp(gamma * at::log_sigmoid(-x * (2 * t - 1))) * bce;
  return alpha ? (t * *alpha + (1 - t) * (1 - *alpha)) * term : term;
}

/// The softmax focal term per (item, kept class, voxel), in float64: logits (B, C, N) over the
/// classes first.. C - 1 and their one-hot or per-class targets.
at::Tensor softmaxTerm(const at::Tensor &x, const at::Tensor &target, int64_t first, double gamma) {
  at::Tensor t = target.size(1) == 1 ? onehotRef(at::trunc(target), x.size(1)) : target;
  at::Tensor logp = at::log_softmax(x.slice(1, first), 1);
  return -at::pow(1 - logp.exp(), gamma) * logp * t.slice(1, first);
}

/// Relative closeness: |a - b| <= tol * max(1, max |b|).
void expectRelClose(const at::Tensor &a, const at::Tensor &b, double tol) {
  expectClose(a, b, tol * std::max(1.0, b.abs().max().item<double>()));
}

const std::vector<double> kGammas = {0.0, 2.0, 0.5};

TEST(FocalKernels, SigmoidSumsMatchReferenceAcrossLengthsBlocksAndThreads) {
  for (int64_t len : {1, 17, 65536 + 3})
    for (at::ScalarType dt : {at::kDouble, at::kFloat})
      for (double gamma : kGammas)
        for (std::optional<double> alpha : {std::optional<double>(), std::optional<double>(0.3)}) {
          SCOPED_TRACE(::testing::Message()
                       << "len " << len << " " << c10::toString(dt) << " gamma " << gamma
                       << " alpha " << alpha.has_value());
          at::Tensor x = logits({3, len}, 110 + len).to(dt);
          at::Tensor t = at::rand({3, len}, at::kDouble).to(dt); // soft targets too
          at::Tensor ref = sigmoidTerm(x.to(at::kDouble), t.to(at::kDouble), gamma, alpha).sum(1);
          at::Tensor one = K::focal_sums(x, t, 3, gamma, alpha, 1, "Test");
          expectRelClose(one, ref, dt == at::kDouble ? 1e-12 : 1e-5);
          EXPECT_TRUE(at::equal(one, K::focal_sums(x, t, 3, gamma, alpha, 2, "Test")));
        }
}

TEST(FocalKernels, SigmoidGradientMatchesAutogradOfTheReference) {
  const int64_t len = 70001;
  at::Tensor coeff = at::tensor({0.25, -1.5}, at::kDouble);
  for (at::ScalarType dt : {at::kDouble, at::kFloat})
    for (double gamma : kGammas)
      for (std::optional<double> alpha : {std::optional<double>(), std::optional<double>(0.7)}) {
        at::Tensor x = logits({2, len}, 112).to(dt);
        at::Tensor t = (at::rand({2, len}, at::kDouble) > 0.4).to(dt);
        at::Tensor xg = x.to(at::kDouble).set_requires_grad(true);
        at::Tensor f = (sigmoidTerm(xg, t.to(at::kDouble), gamma, alpha).sum(1) * coeff).sum();
        at::Tensor want = torch::autograd::grad({f}, {xg})[0];
        for (int threads : {1, 2})
          expectRelClose(K::focal_grad(x, t, coeff, gamma, alpha, threads, "Test"), want,
                         dt == at::kDouble ? 1e-12 : 1e-5);
      }
}

TEST(FocalKernels, SigmoidGradientMatchesCentralDifferencesInFloat64) {
  at::Tensor x = logits({2, 40}, 113), t = at::rand({2, 40}, at::kDouble);
  for (double gamma : kGammas)
    for (std::optional<double> alpha : {std::optional<double>(), std::optional<double>(0.25)}) {
      // d (sum over slab 1 of the term) / dx: coefficients [0, 1].
      at::Tensor g = K::focal_grad(x, t, at::tensor({0.0, 1.0}, at::kDouble), gamma, alpha, 1, "T");
      EXPECT_EQ(g[0].abs().max().item<double>(), 0.0);
      for (int64_t k : {0, 7, 23, 39}) {
        const double h = 1e-6;
        at::Tensor xp = x.clone(), xm = x.clone();
        xp[1][k] += h;
        xm[1][k] -= h;
        const double fd = (K::focal_sums(xp, t, 2, gamma, alpha, 1, "T")[1].item<double>() -
                           K::focal_sums(xm, t, 2, gamma, alpha, 1, "T")[1].item<double>()) /
                          (2 * h);
        EXPECT_NEAR(g[1][k].item<double>(), fd, 1e-7 * std::max(1.0, std::abs(fd)))
            << "gamma " << gamma << " element " << k;
      }
    }
}

TEST(SoftmaxFocalKernels, SumsMatchReferenceAcrossLengthsBlocksAndThreads) {
  for (int64_t len : {1, 17, 65536 + 3})
    for (int64_t C : {2, 4})
      for (at::ScalarType dt : {at::kDouble, at::kFloat})
        for (bool onehot : {true, false})
          for (int64_t first : {0, 1})
            for (double gamma : kGammas) {
              SCOPED_TRACE(::testing::Message()
                           << "len " << len << " C " << C << " " << c10::toString(dt) << " labels "
                           << onehot << " first " << first << " gamma " << gamma);
              at::Tensor x = logits({2, C, len}, 120 + len).to(dt);
              at::Tensor t = onehot ? labels({2, 1, len}, C, 121).to(dt)
                                    : at::rand({2, C, len}, at::kDouble).to(dt);
              at::Tensor ref =
                  softmaxTerm(x.to(at::kDouble), t.to(at::kDouble), first, gamma).sum(2);
              at::Tensor one = K::softmax_focal_sums(x, t, first, gamma, 1, "Test");
              ASSERT_EQ(one.size(1), C - first + (onehot ? 1 : 0));
              expectRelClose(one.slice(1, 0, C - first), ref, dt == at::kDouble ? 1e-12 : 1e-5);
              if (onehot) // every label names a class: the item's voxel count
                EXPECT_TRUE(
                    at::equal(one.select(1, C - first), at::full({2}, double(len), at::kDouble)));
              EXPECT_TRUE(at::equal(one, K::softmax_focal_sums(x, t, first, gamma, 2, "Test")));
            }
}

TEST(SoftmaxFocalKernels, StrayLabelsAreCountedOut) {
  // trunc: -0.5 and 0.9 are class 0, 2.99 class 2; 3 (with C = 3), -1, NaN and inf no class.
  const double nan = std::nan("");
  at::Tensor lab =
      at::tensor({-0.5, 0.9, 2.99, 1.0, 3.0, -1.0, nan, INFINITY}, at::kFloat).view({1, 1, 8});
  at::Tensor x = logits({1, 3, 8}, 122).to(at::kFloat);
  for (int64_t first : {0, 1}) {
    at::Tensor s = K::softmax_focal_sums(x, lab, first, 2.0, 1, "Test");
    EXPECT_EQ(s[0][3 - first].item<double>(), 4.0) << s;
  }
}

TEST(SoftmaxFocalKernels, GradientMatchesAutogradOfTheReference) {
  const int64_t C = 3, len = 70001;
  at::Tensor x = logits({2, C, len}, 123), lab = labels({2, 1, len}, C, 124);
  for (at::ScalarType dt : {at::kDouble, at::kFloat})
    for (bool onehot : {true, false})
      for (int64_t first : {0, 1})
        for (double gamma : kGammas) {
          SCOPED_TRACE(::testing::Message() << c10::toString(dt) << " labels " << onehot
                                            << " first " << first << " gamma " << gamma);
          at::Tensor t = onehot ? lab : at::rand({2, C, len}, at::kDouble);
          at::Tensor coeff = at::randn({2, C - first}, at::kDouble);
          at::Tensor xg = x.clone().set_requires_grad(true);
          at::Tensor f = (softmaxTerm(xg, t, first, gamma).sum(2) * coeff).sum();
          at::Tensor want = torch::autograd::grad({f}, {xg})[0];
          for (int threads : {1, 2}) {
            at::Tensor g =
                K::softmax_focal_grad(x.to(dt), t.to(dt), coeff, first, gamma, threads, "Test");
            expectRelClose(g, want, dt == at::kDouble ? 1e-12 : 1e-5);
            if (first) // the dropped channel is not in the loss
              EXPECT_EQ(g.select(1, 0).abs().max().item<double>(), 0.0);
          }
        }
}

TEST(SoftmaxFocalKernels, GradientMatchesCentralDifferencesInFloat64) {
  const int64_t C = 3;
  at::Tensor x = logits({2, C, 5, 6}, 125), lab = labels({2, 1, 5, 6}, C, 126);
  at::Tensor coeff = at::tensor({0.5, -1.0, 2.0, 1.5, 0.25, -0.75}, at::kDouble).view({2, C});
  for (int64_t first : {0, 1})
    for (double gamma : kGammas) {
      at::Tensor k = coeff.slice(1, first);
      auto value = [&](const at::Tensor &v) {
        return (K::softmax_focal_sums(v, lab, first, gamma, 1, "T").slice(1, 0, C - first) * k)
            .sum()
            .item<double>();
      };
      at::Tensor g = K::softmax_focal_grad(x, lab, k, first, gamma, 1, "T").reshape(-1);
      for (int64_t e : {0, 31, 64, 97, 150, 179}) {
        const double h = 1e-6;
        at::Tensor xp = x.clone(), xm = x.clone();
        xp.view(-1)[e] += h;
        xm.view(-1)[e] -= h;
        const double fd = (value(xp) - value(xm)) / (2 * h);
        EXPECT_NEAR(g[e].item<double>(), fd, 1e-7 * std::max(1.0, std::abs(fd)))
            << "first " << first << " gamma " << gamma << " element " << e;
      }
    }
}

TEST(FocalKernels, RefuseWhatTheyCannotRead) {
  at::Tensor x = at::zeros({2, 8}), t = at::zeros({2, 8});
  EXPECT_THROW(K::focal_sums(x, t.to(at::kDouble), 2, 2.0, {}, 1, "Test"), med::Error);
  EXPECT_THROW(K::focal_sums(x.to(at::kInt), t.to(at::kInt), 2, 2.0, {}, 1, "Test"), med::Error);
  EXPECT_THROW(K::focal_sums(x, t, 3, 2.0, {}, 1, "Test"), med::Error);
  EXPECT_THROW(K::focal_grad(x, t, at::zeros({2, 2}, at::kDouble), 2.0, {}, 1, "Test"), med::Error);
  at::Tensor lx = at::zeros({2, 3, 8}), lab = at::zeros({2, 1, 8});
  EXPECT_THROW(K::softmax_focal_sums(lx, lab.to(at::kDouble), 0, 2.0, 1, "Test"), med::Error);
  EXPECT_THROW(K::softmax_focal_sums(lx, lab, 3, 2.0, 1, "Test"), med::Error);
  EXPECT_THROW(K::softmax_focal_sums(lx, at::zeros({2, 2, 8}), 0, 2.0, 1, "Test"), med::Error);
  EXPECT_THROW(K::softmax_focal_grad(lx, lab, at::zeros({2, 3}, at::kDouble), 1, 2.0, 1, "Test"),
               med::Error);
}

} // namespace
} // namespace med::losses::test
