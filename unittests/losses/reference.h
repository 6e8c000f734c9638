// Plain, loop-based references for the loss tests: written independently of lib/losses (explicit
// loops over samples and classes, one-hot by comparison), so a test compares two code paths.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "med/core/error.h"
#include "with_threads.h"

namespace med::losses::test {

/// Random logits (B, C, *spatial) in float64.
inline at::Tensor logits(std::vector<int64_t> shape, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn(shape, at::kDouble) * 2;
}

/// Random labels (B, 1, *spatial) in [0, C) as float64; class `absent` (if >= 0) never occurs.
inline at::Tensor labels(std::vector<int64_t> shape, int64_t classes, uint64_t seed,
                         int64_t absent = -1) {
  at::manual_seed(seed);
  at::Tensor l = at::randint(0, classes, shape, at::kDouble);
  if (absent >= 0)
    l.masked_fill_(l == double(absent), double((absent + 1) % classes));
  return l;
}

/// One-hot by comparison: channel c is (labels == c).
inline at::Tensor onehotRef(const at::Tensor &lab, int64_t classes) {
  std::vector<at::Tensor> ch;
  for (int64_t c = 0; c < classes; ++c)
    ch.push_back((lab == double(c)).to(at::kDouble));
  return at::cat(ch, 1);
}

/// Sum of x over every axis but the first two, for sample b, channel c.
inline at::Tensor sumBC(const at::Tensor &x, int64_t b, int64_t c) { return x[b][c].sum(); }

/// Gradient (taken with create_graph) and Hessian-vector product of `f` at x along v: what a
/// double backward through a loss gives.
inline std::pair<at::Tensor, at::Tensor>
gradAndHvp(const std::function<at::Tensor(const at::Tensor &)> &f, const at::Tensor &x,
           const at::Tensor &v) {
  at::Tensor xg = x.detach().clone().set_requires_grad(true);
  at::Tensor g = torch::autograd::grad({f(xg)}, {xg}, {}, /*retain_graph=*/true,
                                       /*create_graph=*/true)[0];
  at::Tensor h = torch::autograd::grad({(g * v).sum()}, {xg})[0];
  return {g.detach(), h};
}

/// Element-wise closeness with a readable failure.
inline void expectClose(const at::Tensor &a, const at::Tensor &b, double tol = 1e-10) {
  ASSERT_EQ(a.sizes(), b.sizes());
  double err = (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(err, tol) << "max abs difference " << err;
}

/// Checks autograd's gradient of f at x against central differences on `count` elements.
inline void checkGrad(const std::function<at::Tensor(const at::Tensor &)> &f, at::Tensor x,
                      int count = 6, double eps = 1e-6, double tol = 1e-6) {
  x = x.to(at::kDouble).detach().clone().set_requires_grad(true);
  at::Tensor y = f(x);
  at::Tensor g = torch::autograd::grad({y.sum()}, {x})[0];
  at::Tensor flat = x.detach().reshape(-1);
  int64_t n = flat.numel();
  for (int i = 0; i < count; ++i) {
    int64_t k = (i * 7919 + 13) % n;
    at::Tensor xp = x.detach().clone(), xm = x.detach().clone();
    xp.view(-1)[k] += eps;
    xm.view(-1)[k] -= eps;
    double fd = (f(xp).sum().item<double>() - f(xm).sum().item<double>()) / (2 * eps);
    double an = g.reshape(-1)[k].item<double>();
    EXPECT_NEAR(an, fd, tol * std::max(1.0, std::abs(fd))) << "element " << k;
  }
}

/// `loss` of x = p and its gradient by x, on one and on two threads: bitwise equal.
inline void expectSameOnOneAndTwoThreads(const std::function<at::Tensor(const at::Tensor &)> &loss,
                                         const at::Tensor &p) {
  auto run = [&](int threads) {
    return testing::withThreads(threads, [&] {
      at::Tensor x = p.clone().requires_grad_(true);
      at::Tensor l = loss(x);
      return std::make_pair(l.detach(), torch::autograd::grad({l}, {x})[0]);
    });
  };
  auto one = run(1), two = run(2);
  EXPECT_TRUE(at::equal(one.first, two.first));
  EXPECT_TRUE(at::equal(one.second, two.second));
}

/// The inputs a loss's kernels leave to its ATen path give what `eager` gives: with a target
/// that needs a gradient, both gradients (within `tol`: the kernels take only the prediction's);
/// under double backward, the gradient (within `tol`) and a Hessian-vector product (within
/// `hvpTol` of its largest entry).
inline void
expectAtenPaths(const std::function<at::Tensor(const at::Tensor &, const at::Tensor &)> &loss,
                const std::function<at::Tensor(const at::Tensor &, const at::Tensor &)> &eager,
                const at::Tensor &p, const at::Tensor &t, double tol, double hvpTol) {
  at::Tensor pa = p.clone().requires_grad_(true), ta = t.clone().requires_grad_(true);
  auto grads = torch::autograd::grad({loss(pa, ta)}, {pa, ta});
  at::Tensor pe = p.clone().requires_grad_(true), te = t.clone().requires_grad_(true);
  auto refs = torch::autograd::grad({eager(pe, te)}, {pe, te});
  expectClose(grads[0], refs[0], tol);
  expectClose(grads[1], refs[1], tol);
  at::Tensor v = at::randn(p.sizes(), p.options());
  auto [g, h] = gradAndHvp([&](const at::Tensor &x) { return loss(x, t); }, p, v);
  auto [gr, hr] = gradAndHvp([&](const at::Tensor &x) { return eager(x, t); }, p, v);
  expectClose(g, gr, tol);
  expectClose(h, hr, hvpTol * hr.abs().max().item<double>());
}

/// f() must throw a med::Error whose message contains `part`.
inline void expectMedError(const std::function<void()> &f, const std::string &part) {
  try {
    f();
    ADD_FAILURE() << "accepted: " << part;
  } catch (const med::Error &e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

/// A label map (B, 1, ...) of `lab` with element [1][0][2][3] set to 3, -1 and NaN in turn
/// (labels that name no class of 3) must make `loss` throw a med::Error naming `owner`.target and
/// the range [0, 3), as the one-hot encoder does.
inline void expectStrayLabelsRejected(const std::function<at::Tensor(const at::Tensor &)> &loss,
                                      const at::Tensor &lab, const std::string &owner) {
  for (double bad : {3.0, -1.0, std::nan("")}) {
    at::Tensor l = lab.clone();
    l[1][0][2][3] = bad;
    try {
      loss(l);
      ADD_FAILURE() << owner << ": label " << bad << " accepted";
    } catch (const med::Error &e) {
      EXPECT_NE(std::string(e.what()).find(owner + ".target"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("[0, 3)"), std::string::npos) << e.what();
    }
  }
}

} // namespace med::losses::test
