// VanillaGrad / SmoothGrad against gradients derived by hand.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/visualize/gradient_based.h"

namespace V = med::visualize;

namespace {

/// logits (N, 3): [sum x^2, sum x, sum(w * x)] -> gradients 2x, 1, w.
at::Tensor weightsLike(const at::Tensor &x) {
  return at::arange(x[0].numel(), x.options()).reshape(x[0].sizes()) * 0.1 - 0.3;
}
at::Tensor model(const at::Tensor &x) {
  at::Tensor f = x.reshape({x.size(0), -1});
  at::Tensor w = weightsLike(x).reshape({1, -1});
  return at::stack({(f * f).sum(1), f.sum(1), (f * w).sum(1)}, 1);
}

TEST(VanillaGrad, HandGradients) {
  at::Tensor x = at::rand({1, 2, 3, 4}) + 1.0; // sum x^2 > sum x > sum w x: argmax is class 0
  V::VanillaGrad vg(model);
  EXPECT_TRUE(at::allclose(vg(x), 2 * x));
  EXPECT_TRUE(at::allclose(vg(x, 1), at::ones_like(x)));
  EXPECT_TRUE(at::allclose(vg(x, 2), weightsLike(x).unsqueeze(0)));
  EXPECT_THROW(vg(at::rand({2, 1, 3, 3})), med::Error);
  EXPECT_THROW(vg(x, 3), med::Error);
}

TEST(SmoothGrad, ZeroNoiseEqualsPlainGradient) {
  at::Tensor x = at::rand({1, 1, 5, 5}) + 1.0;
  V::SmoothGrad plain(model,
                      V::SmoothGradOptions().stdev_spread(0.0).n_samples(4).magnitude(false));
  EXPECT_TRUE(at::allclose(plain(x), 2 * x, 1e-5, 1e-6));
  // magnitude: sqrt(sum g^2) / n = |g| / sqrt(n)
  V::SmoothGrad mag(model, V::SmoothGradOptions().stdev_spread(0.0).n_samples(4));
  EXPECT_TRUE(at::allclose(mag(x), 2 * x.abs() / 2.0, 1e-5, 1e-6));
}

TEST(SmoothGrad, NoiseAveragesTheGradient) {
  at::Tensor x = at::rand({1, 1, 4, 4});
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1234);
  // Linear class: gradient is w whatever the noise.
  V::SmoothGrad lin(model, V::SmoothGradOptions().n_samples(6).magnitude(false).generator(gen));
  EXPECT_TRUE(at::allclose(lin(x, 2), weightsLike(x).unsqueeze(0), 1e-5, 1e-6));
  // Quadratic class: mean of 2 (x + noise_i); recompute the same noise with the same seed.
  const int n = 50;
  const double spread = 0.2;
  at::Generator g1 = at::make_generator<at::CPUGeneratorImpl>(99);
  V::SmoothGrad quad(
      model,
      V::SmoothGradOptions().n_samples(n).stdev_spread(spread).magnitude(false).generator(g1));
  at::Tensor got = quad(x, 0);
  at::Generator g2 = at::make_generator<at::CPUGeneratorImpl>(99);
  const double sd = spread * (x.max() - x.min()).item<double>();
  at::Tensor expect = at::zeros_like(x);
  for (int i = 0; i < n; ++i)
    expect += 2 * (x + at::normal(0.0, sd, x.sizes(), g2, x.options()));
  EXPECT_TRUE(at::allclose(got, expect / n, 1e-4, 1e-5));
  EXPECT_THROW(V::SmoothGrad(model, V::SmoothGradOptions().n_samples(0)), med::Error);
}

} // namespace
