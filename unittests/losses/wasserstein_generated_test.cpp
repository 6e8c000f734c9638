// GeneralizedWassersteinDiceLoss on the generated kernels against a float64 reference written
// here from the paper's formulas (one-hot by comparison, the distance matrix's rows picked by a
// product with it): value and gradient (autograd through the reference and central
// differences), empty and full classes, stray labels, NaN, thread counts, double backward, and
// that the kernels were really used (the JIT session's counters).

#include <cmath>
#include <string>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/losses/wasserstein.h"
#include "reference.h"
#include "with_threads.h"

namespace med::losses::test {
namespace {

int64_t kernelRequests() {
  compiler::JitStats s = compiler::JitSession::global().stats();
  return s.hits + s.misses + s.diskHits;
}

/// An asymmetric class-distance matrix of entries 0.5, 1 and 2 off the diagonal, largest 2 (the
/// loss scales it to 1, exactly in float32, where it keeps the matrix).
at::Tensor distances(int64_t C) {
  const double levels[3] = {0.5, 1.0, 2.0};
  at::Tensor m = at::zeros({C, C}, at::kDouble);
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = 0; j < C; ++j)
      m[i][j] = i == j ? 0.0 : levels[(i + 2 * j) % 3];
  return m;
}

/// The per-item loss in float64 (an autograd graph of x): p the softmax over the channels, at
/// each voxel of class k the distance w = sum_c (M / max M)[k][c] p_c and the weight a_k
/// (default: 0 for the background, else 1; GDL: 1 / (voxels of class k + 1)); tp = sum a (1 -
/// w), and 1 - (2 tp + 1e-5) / (d + 1e-5) with d = sum a (2 - w) (GDL) or 2 tp + sum w.
at::Tensor referenceLoss(const at::Tensor &x, const at::Tensor &lab, const at::Tensor &m,
                         bool gdl) {
  const int64_t B = x.size(0), C = x.size(1);
  at::Tensor p = at::softmax(x.to(at::kDouble), 1).reshape({B, C, -1});
  at::Tensor t = onehotRef(lab.to(at::kDouble), C).reshape({B, C, -1});
  at::Tensor mn = (m / m.max()).to(at::kDouble);
  at::Tensor rows = at::einsum("kc,bkv->bcv", {mn, t});
  at::Tensor w = (rows * p).sum(1);
  at::Tensor a;
  if (gdl) {
    a = 1.0 / (t.sum(2) + 1.0);
  } else {
    a = at::ones({B, C}, at::kDouble);
    a.select(1, 0).zero_();
  }
  at::Tensor av = (t * a.unsqueeze(2)).sum(1);
  at::Tensor tp = (av * (1 - w)).sum(1);
  at::Tensor d = gdl ? (av * (2 - w)).sum(1) : 2 * tp + w.sum(1);
  return 1 - (2 * tp + 1e-5) / (d + 1e-5);
}

at::Tensor reduced(const at::Tensor &perItem, const std::string &reduction) {
  return reduction == "mean" ? perItem.mean() : reduction == "sum" ? perItem.sum() : perItem;
}

GeneralizedWassersteinDiceLoss lossOf(int64_t C, bool gdl, const std::string &reduction = "mean") {
  return GeneralizedWassersteinDiceLoss(GeneralizedWassersteinDiceLossOptions(distances(C))
                                            .weighting_mode(gdl ? "GDL" : "default")
                                            .reduction(reduction));
}

TEST(WassersteinGenerated, ValueAndGradientMatchReference) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 3, 6, 5}, {3, 4, 5, 4, 3}, {1, 2, 33, 41}};
  for (const auto &shape : shapes) {
    const int64_t C = shape[1];
    std::vector<int64_t> ls = shape;
    ls[1] = 1;
    at::Tensor x = logits(shape, 150).to(at::kFloat), lab = labels(ls, C, 151);
    for (bool gdl : {false, true})
      for (std::string reduction : {"mean", "sum", "none"}) {
        GeneralizedWassersteinDiceLoss loss = lossOf(C, gdl, reduction);
        at::Tensor xg = x.clone().set_requires_grad(true);
        const int64_t before = kernelRequests();
        at::Tensor v = loss(xg, lab);
        at::Tensor up = at::rand(v.sizes(), at::kFloat) + 0.5;
        at::Tensor g = torch::autograd::grad({v}, {xg}, {up})[0];
        EXPECT_EQ(kernelRequests() - before, 2) << "forward and backward on the kernels";
        EXPECT_EQ(v.scalar_type(), at::kFloat);
        at::Tensor xr = x.to(at::kDouble).set_requires_grad(true);
        at::Tensor r = reduced(referenceLoss(xr, lab, distances(C), gdl), reduction);
        at::Tensor gr = torch::autograd::grad({r}, {xr}, {up.to(at::kDouble)})[0];
        expectClose(v, r, 2e-6);
        expectClose(g, gr, 2e-6);
      }
  }
}

TEST(WassersteinGenerated, Float64GradientMatchesFiniteDifferences) {
  at::Tensor x = logits({2, 3, 4, 5}, 152), lab = labels({2, 1, 4, 5}, 3, 153);
  for (bool gdl : {false, true}) {
    GeneralizedWassersteinDiceLoss loss = lossOf(3, gdl, "none");
    const int64_t before = kernelRequests();
    checkGrad([&](const at::Tensor &xi) { return loss(xi, lab); }, x, 8, 1e-6, 1e-7);
    EXPECT_GT(kernelRequests(), before);
    // GDL's class weights are float32, as MONAI forms them; the reference's are float64.
    at::Tensor r = referenceLoss(x, lab, distances(3), gdl);
    expectClose(loss(x, lab), r, gdl ? 1e-8 : 1e-12);
  }
}

TEST(WassersteinGenerated, EmptyAndFullClassesAndLabelForms) {
  at::Tensor x = logits({2, 3, 7, 6}, 154).to(at::kFloat);
  for (double only : {0.0, 2.0}) { // every voxel one class: the others empty
    at::Tensor lab = at::full({2, 1, 7, 6}, only, at::kDouble);
    for (bool gdl : {false, true}) {
      at::Tensor xg = x.clone().set_requires_grad(true);
      at::Tensor v = lossOf(3, gdl, "none")(xg, lab);
      at::Tensor g = torch::autograd::grad({v.sum()}, {xg})[0];
      at::Tensor xr = x.to(at::kDouble).set_requires_grad(true);
      at::Tensor r = referenceLoss(xr, lab, distances(3), gdl);
      at::Tensor gr = torch::autograd::grad({r.sum()}, {xr})[0];
      expectClose(v, r, 2e-6);
      expectClose(g, gr, 2e-6);
    }
  }
  // Labels as int64 without the channel axis, and float labels that truncate to a class.
  at::Tensor lab = labels({2, 1, 7, 6}, 3, 155);
  at::Tensor expected = lossOf(3, true)(x, lab);
  EXPECT_TRUE(at::equal(lossOf(3, true)(x, lab.to(at::kLong).squeeze(1)), expected));
  EXPECT_TRUE(at::equal(lossOf(3, true)(x, lab + 0.75), expected));
}

TEST(WassersteinGenerated, StrayLabelsNaNAndThreads) {
  at::Tensor x = logits({2, 3, 5, 6}, 156).to(at::kFloat), lab = labels({2, 1, 5, 6}, 3, 157);
  GeneralizedWassersteinDiceLoss loss = lossOf(3, false);
  expectStrayLabelsRejected([&](const at::Tensor &l) { return loss(x, l); }, lab,
                            "GeneralizedWassersteinDiceLoss");
  at::Tensor bad = x.clone();
  bad[1][2][3][4] = std::nan("");
  at::Tensor v = lossOf(3, false, "none")(bad, lab);
  EXPECT_FALSE(std::isnan(v[0].item<double>()));
  EXPECT_TRUE(std::isnan(v[1].item<double>()));
  // Sums fold in fixed blocks: the same bits for one and two threads, value and gradient.
  at::Tensor big = logits({2, 4, 40, 40, 50}, 158).to(at::kFloat);
  at::Tensor bigLab = labels({2, 1, 40, 40, 50}, 4, 159);
  GeneralizedWassersteinDiceLoss gdl = lossOf(4, true);
  auto run = [&] {
    at::Tensor xg = big.clone().set_requires_grad(true);
    at::Tensor value = gdl(xg, bigLab);
    return at::cat({value.reshape(1), torch::autograd::grad({value}, {xg})[0].reshape(-1)});
  };
  EXPECT_TRUE(at::equal(med::testing::withThreads(1, run), med::testing::withThreads(2, run)));
}

TEST(WassersteinGenerated, DoubleBackwardMatchesReference) {
  at::Tensor x = logits({2, 3, 5, 4}, 160), lab = labels({2, 1, 5, 4}, 3, 161);
  at::Tensor v = at::randn(x.sizes(), at::kDouble);
  for (bool gdl : {false, true}) {
    GeneralizedWassersteinDiceLoss loss = lossOf(3, gdl);
    auto [g, h] = gradAndHvp([&](const at::Tensor &xi) { return loss(xi, lab); }, x, v);
    auto [gr, hr] = gradAndHvp(
        [&](const at::Tensor &xi) { return referenceLoss(xi, lab, distances(3), gdl).mean(); }, x,
        v);
    expectClose(g, gr, gdl ? 1e-8 : 1e-12); // GDL: float32 class weights, as above
    expectClose(h, hr, gdl ? 1e-8 : 1e-10);
  }
}

} // namespace
} // namespace med::losses::test
