// HausdorffDTLoss and LogHausdorffDTLoss against a brute-force reference (distance fields by
// comparing every pair of voxels), hand-checked values, float64 finite differences and errors;
// the generated kernels against the ATen formulation, across thread counts and double backward.
#include <cmath>
#include <limits>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/losses/hausdorff.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

/// Brute-force field of one binary mask (spatial only): for every voxel, the Euclidean distance
/// to the nearest voxel of the other class; zero everywhere for empty or full masks.
at::Tensor bruteField(const at::Tensor &mask) {
  at::Tensor m = (mask > 0.5).reshape(-1);
  int64_t n = m.numel();
  std::vector<int64_t> dims(mask.sizes().begin(), mask.sizes().end());
  auto coord = [&](int64_t i) {
    std::vector<int64_t> c(dims.size());
    for (int64_t d = int64_t(dims.size()) - 1; d >= 0; --d)
      c[d] = i % dims[d], i /= dims[d];
    return c;
  };
  at::Tensor out = at::zeros({n}, at::kDouble);
  int64_t fg = m.sum().item<int64_t>();
  if (fg == 0 || fg == n)
    return out.view(mask.sizes());
  for (int64_t i = 0; i < n; ++i) {
    double best = std::numeric_limits<double>::infinity();
    std::vector<int64_t> ci = coord(i);
    for (int64_t j = 0; j < n; ++j) {
      if (m[j].item<bool>() == m[i].item<bool>())
        continue;
      std::vector<int64_t> cj = coord(j);
      double s = 0;
      for (size_t d = 0; d < ci.size(); ++d)
        s += double((ci[d] - cj[d]) * (ci[d] - cj[d]));
      best = std::min(best, std::sqrt(s));
    }
    out[i] = best;
  }
  return out.view(mask.sizes());
}

/// Kernels asked of the JIT session so far (memory hits, compiles, disk loads).
int64_t kernelRequests() {
  compiler::JitStats st = compiler::JitSession::global().stats();
  return st.hits + st.misses + st.diskHits;
}

/// Loop reference for reduction "none": (B, C) (or (1, C) with batch) of the weighted means.
at::Tensor reference(const at::Tensor &p, const at::Tensor &t, double alpha, bool batch) {
  int64_t B = p.size(0), C = p.size(1);
  at::Tensor out = at::zeros({batch ? 1 : B, C}, at::kDouble);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t b = 0; b < B; ++b) {
      at::Tensor w = bruteField(p[b][c]).pow(alpha) + bruteField(t[b][c]).pow(alpha);
      at::Tensor term = ((p[b][c] - t[b][c]).pow(2) * w).mean();
      if (batch)
        out[0][c] += term / double(B);
      else
        out[b][c] = term;
    }
  return out;
}

TEST(HausdorffDTLoss, Matches2DBruteForceWithSoftmaxOneHot) {
  at::Tensor x = logits({2, 3, 6, 5}, 301), lab = labels({2, 1, 6, 5}, 3, 302);
  HausdorffDTLoss loss(HausdorffDTLossOptions().softmax(true).to_onehot_y(true).reduction("none"));
  at::Tensor out = loss(x, lab);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 2, 1, 1}));
  // Default include_background=false drops channel 0.
  at::Tensor ref =
      reference(at::softmax(x, 1).slice(1, 1), onehotRef(lab, 3).slice(1, 1), 2.0, false);
  expectClose(out.view({2, 2}), ref, 1e-5 * ref.abs().max().item<double>());
}

TEST(HausdorffDTLoss, Matches3DBruteForceWithSigmoidBatchAndAlpha) {
  at::Tensor x = logits({2, 2, 4, 3, 5}, 303);
  at::Tensor t = onehotRef(labels({2, 1, 4, 3, 5}, 2, 304), 2);
  for (bool batch : {false, true}) {
    HausdorffDTLoss loss(HausdorffDTLossOptions()
                             .sigmoid(true)
                             .include_background(true)
                             .alpha(1.5)
                             .batch(batch)
                             .reduction("none"));
    at::Tensor out = loss(x, t);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{batch ? 1 : 2, 2, 1, 1, 1}));
    at::Tensor ref = reference(at::sigmoid(x), t, 1.5, batch);
    expectClose(out.view({batch ? 1 : 2, 2}), ref, 1e-5 * ref.abs().max().item<double>());
  }
}

TEST(HausdorffDTLoss, HandCheckedValuesAndEmptyMasks) {
  // pred [1,1,0,0] has field [2,1,1,2]; target [1,0,0,0] has field [1,1,2,3]; the only error is
  // at voxel 1 with weight 1 + 1: mean 2 / 4.
  auto opts = HausdorffDTLossOptions().include_background(true);
  at::Tensor p = at::tensor({1.0, 1.0, 0.0, 0.0}, at::kDouble).view({1, 1, 1, 4});
  at::Tensor t = at::tensor({1.0, 0.0, 0.0, 0.0}, at::kDouble).view({1, 1, 1, 4});
  EXPECT_NEAR(HausdorffDTLoss(opts)(p, t).item<double>(), 0.5, 1e-12);
  EXPECT_NEAR(LogHausdorffDTLoss(opts)(p, t).item<double>(), std::log(1.5), 1e-12);
  // Empty target: its field is zero, so only the prediction's field weighs: (4 + 1) / 4.
  at::Tensor empty = at::zeros({1, 1, 1, 4}, at::kDouble);
  EXPECT_NEAR(HausdorffDTLoss(opts)(p, empty).item<double>(), 1.25, 1e-12);
  // Full prediction against an empty target: both fields are zero (MONAI's convention).
  EXPECT_EQ(HausdorffDTLoss(opts)(at::ones_like(empty), empty).item<double>(), 0.0);
  // Identical masks: no error anywhere.
  EXPECT_EQ(HausdorffDTLoss(opts)(p, p).item<double>(), 0.0);
}

TEST(HausdorffDTLoss, DistanceFieldSumsInsideAndOutside) {
  at::Tensor m = at::zeros({1, 1, 5, 5}, at::kDouble);
  m[0][0][2][2] = 1.0;
  at::Tensor f = hausdorff_distance_field(m);
  EXPECT_EQ(f.scalar_type(), at::kFloat);
  EXPECT_EQ(f[0][0][2][2].item<float>(), 1.0f);                   // inside: 1 to the background
  EXPECT_NEAR(f[0][0][0][0].item<float>(), std::sqrt(8.0), 1e-6); // outside: to (2, 2)
  EXPECT_EQ(f[0][0][2][4].item<float>(), 2.0f);
  EXPECT_EQ(hausdorff_distance_field(at::ones_like(m)).abs().sum().item<float>(), 0.0f);
}

TEST(HausdorffDTLoss, ReductionsAndLog) {
  at::Tensor x = logits({2, 3, 5, 6}, 305), lab = labels({2, 1, 5, 6}, 3, 306);
  auto opts = HausdorffDTLossOptions().softmax(true).to_onehot_y(true);
  at::Tensor none = HausdorffDTLoss(opts.reduction("none"))(x, lab);
  expectClose(HausdorffDTLoss(opts.reduction("mean"))(x, lab), none.mean(), 1e-12);
  expectClose(HausdorffDTLoss(opts.reduction("sum"))(x, lab), none.sum(), 1e-12);
  expectClose(LogHausdorffDTLoss(opts.reduction("none"))(x, lab), (none + 1).log(), 1e-12);
  expectClose(LogHausdorffDTLoss(opts.reduction("mean"))(x, lab), (none.mean() + 1).log(), 1e-12);
}

TEST(HausdorffDTLoss, GradientMatchesFiniteDifferences) {
  at::Tensor x = logits({2, 2, 5, 4}, 307);
  at::Tensor t = onehotRef(labels({2, 1, 5, 4}, 2, 308), 2);
  // Keep every probability away from the 0.5 threshold so that +-eps never flips a mask.
  x = at::where(x.abs() < 0.05, x.sign() * 0.05 + 0.05, x);
  auto opts = HausdorffDTLossOptions().sigmoid(true).include_background(true);
  checkGrad([&](const at::Tensor &v) { return HausdorffDTLoss(opts)(v, t); }, x, 12);
  checkGrad([&](const at::Tensor &v) { return LogHausdorffDTLoss(opts)(v, t); }, x, 12);
  checkGrad([&](const at::Tensor &v) { return HausdorffDTLoss(opts.batch(true))(v, t); }, x, 8);
}

TEST(HausdorffDTLoss, BadInputThrows) {
  at::Tensor x = logits({2, 3, 5, 6}, 309);
  EXPECT_THROW(HausdorffDTLoss(HausdorffDTLossOptions().reduction("avg")), med::Error);
  EXPECT_THROW(HausdorffDTLoss(HausdorffDTLossOptions().sigmoid(true).softmax(true)), med::Error);
  EXPECT_THROW(LogHausdorffDTLoss(HausdorffDTLossOptions().reduction("")), med::Error);
  HausdorffDTLoss loss;
  EXPECT_THROW(loss(logits({2, 3, 5}, 1), logits({2, 3, 5}, 2)), med::Error); // 1-D spatial
  EXPECT_THROW(loss(logits({1, 2, 2, 2, 2, 2}, 1), logits({1, 2, 2, 2, 2, 2}, 2)), med::Error);
  EXPECT_THROW(loss(x, logits({2, 3, 5, 5}, 3)), med::Error); // shape mismatch
  EXPECT_THROW(HausdorffDTLoss(HausdorffDTLossOptions().to_onehot_y(true))(x, x), med::Error);
  try {
    LogHausdorffDTLoss()(x, logits({2, 3, 4, 6}, 3));
    FAIL() << "expected med::Error";
  } catch (const med::Error &e) {
    EXPECT_NE(std::string(e.what()).find("LogHausdorffDTLoss"), std::string::npos) << e.what();
  }
}

TEST(HausdorffDTLoss, GeneratedKernelsAgreeWithAtenThreadsAndDoubleBackward) {
  at::Tensor x = logits({2, 3, 9, 7, 5}, 310).to(at::kFloat);
  at::Tensor t = onehotRef(labels({2, 1, 9, 7, 5}, 3, 311), 3).to(at::kFloat);
  for (bool batch : {false, true}) {
    auto opts = HausdorffDTLossOptions().sigmoid(true).batch(batch).alpha(1.5).reduction("none");
    HausdorffDTLoss loss(opts);
    at::Tensor xg = x.clone().set_requires_grad(true);
    const int64_t before = kernelRequests();
    at::Tensor v = loss(xg, t);
    at::Tensor up = at::rand(v.sizes(), at::kFloat) + 0.5;
    at::Tensor g = torch::autograd::grad({v}, {xg}, {up})[0];
    EXPECT_EQ(kernelRequests() - before, 2) << "forward and backward on the kernels";
    // A target that needs a gradient takes the ATen formulation: the same value and gradient.
    at::Tensor xa = x.clone().set_requires_grad(true), ta = t.clone().set_requires_grad(true);
    at::Tensor va = loss(xa, ta);
    at::Tensor ga = torch::autograd::grad({va}, {xa}, {up})[0];
    expectClose(v, va, 1e-5 * std::max(1.0, va.abs().max().item<double>()));
    expectClose(g, ga, 1e-5 * std::max(1e-3, ga.abs().max().item<double>()));
    // Sums fold in fixed blocks: one and two threads give the same bits.
    auto run = [&] {
      at::Tensor xr = x.clone().set_requires_grad(true);
      at::Tensor value = loss(xr, t);
      return at::cat(
          {value.reshape(-1), torch::autograd::grad({value}, {xr}, {up})[0].reshape(-1)});
    };
    EXPECT_TRUE(at::equal(med::testing::withThreads(1, run), med::testing::withThreads(2, run)));
  }
  // Double backward: the generated path's gradient has a graph of its own (the ATen sums).
  at::Tensor xd = x.to(at::kDouble), td = t.to(at::kDouble);
  at::Tensor dir = at::randn(xd.sizes(), at::kDouble);
  auto opts = HausdorffDTLossOptions().softmax(true);
  auto [gk, hk] =
      gradAndHvp([&](const at::Tensor &v) { return HausdorffDTLoss(opts)(v, td); }, xd, dir);
  auto [gr, hr] = gradAndHvp(
      [&](const at::Tensor &v) { return HausdorffDTLoss(opts)(v, td.clone().requires_grad_()); },
      xd, dir);
  // The kernels raise the fields to alpha in the input dtype, the ATen formulation (as MONAI)
  // in float32 before promoting: float32 rounding apart.
  expectClose(gk, gr, 1e-6 * gr.abs().max().item<double>());
  expectClose(hk, hr, 1e-6 * hr.abs().max().item<double>());
  EXPECT_GT(hr.abs().max().item<double>(), 0.0);
}

} // namespace
} // namespace med::losses::test
