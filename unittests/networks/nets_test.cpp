// Regressor, Classifier, Discriminator, AutoEncoder, VarAutoEncoder and Generator: parameter
// counts worked out by hand for tiny configurations, the tiny Regressor's forward against plain
// ATen ops, output shapes, gradients, and errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/autoencoder.h"
#include "med/networks/nets/generator.h"
#include "med/networks/nets/regressor.h"
#include "net_test_util.h"

namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {

int64_t countModules(torch::nn::Module &m, const std::string &suffix) {
  int64_t n = 0;
  for (const auto &c : m.modules(false)) {
    const std::string &name = c->name();
    n += name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return n;
}

void expectGradients(torch::nn::Module &m, const at::Tensor &out) {
  out.sum().backward();
  for (const auto &p : m.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(at::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
}

N::Regressor tinyRegressor() {
  return N::Regressor(N::RegressorOptions({1, 8, 8}, {2}, {2, 4}, {2, 2}).num_res_units(0));
}

} // namespace

TEST(Regressor, TinyCountAndForwardMatchesPlainATen) {
  auto net = tinyRegressor();
  // layer_0 Conv2d(1->2, k3, s2) 2*9 + 2 = 20, PReLU 1 -> 21
  // layer_1 Conv2d(2->4, k3, s2), last so conv only: 4*2*9 + 4 = 76
  // 8 -> 4 -> 2, so final Linear(4*2*2 = 16 -> 2): 32 + 2 = 34
  EXPECT_EQ(countParams(*net), 21 + 76 + 34);
  net->eval();
  at::manual_seed(5);
  at::Tensor x = at::randn({3, 1, 8, 8});
  auto P = net->named_parameters();
  at::Tensor c =
      at::conv2d(x, P["net.layer_0.conv.weight"], P["net.layer_0.conv.bias"], {2, 2}, {1, 1});
  at::Tensor n = (c - c.mean({2, 3}, true)) / at::sqrt(c.var({2, 3}, false, true) + 1e-5);
  at::Tensor d = at::prelu(n, P["net.layer_0.adn.A.weight"]);
  at::Tensor e =
      at::conv2d(d, P["net.layer_1.conv.weight"], P["net.layer_1.conv.bias"], {2, 2}, {1, 1});
  at::Tensor ref = at::linear(e.reshape({3, -1}), P["final.1.weight"], P["final.1.bias"]);
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({3, 2}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(Regressor, ResidualShapesGradientsAndErrors) {
  auto net = N::Regressor(N::RegressorOptions({2, 16, 12, 8}, {2, 3}, {4, 8}, {2, 2}));
  at::manual_seed(1);
  at::Tensor y = net->forward(at::randn({2, 2, 16, 12, 8}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 2, 3}));
  expectGradients(*net, y);
  EXPECT_THROW(net->forward(at::randn({2, 2, 16, 12, 9})), med::Error);
  EXPECT_THROW(N::Regressor(N::RegressorOptions({1, 8, 8}, {2}, {2, 4}, {2})), med::Error);
  EXPECT_THROW(N::Regressor(N::RegressorOptions({8}, {2}, {2}, {2})), med::Error);
}

TEST(Classifier, LastActAndDiscriminatorDefaults) {
  auto c = N::Classifier(
      N::ClassifierOptions({1, 16, 16}, 4, {2, 4}, {2, 2}).last_act(N::LayerSpec("SOFTMAX")));
  c->eval();
  torch::NoGradGuard g;
  at::Tensor p = c->forward(at::randn({3, 1, 16, 16}));
  ASSERT_EQ(p.sizes(), at::IntArrayRef({3, 4}));
  EXPECT_TRUE(at::allclose(p.sum(1), at::ones({3})));

  auto d = N::Discriminator(N::DiscriminatorOptions({1, 16, 16}, {2, 4}, {2, 2}));
  // dropout 0.25 in every Convolution that has an ADN: 2 + 1 (the last unit is conv only).
  EXPECT_EQ(countModules(*d, "DropoutImpl"), 3);
  d->eval();
  at::Tensor q = d->forward(at::randn({3, 1, 16, 16}));
  ASSERT_EQ(q.sizes(), at::IntArrayRef({3, 1}));
  EXPECT_TRUE(((q > 0) & (q < 1)).all().item<bool>());
}

TEST(AutoEncoder, TinyCountShapesGradients) {
  auto net = N::AutoEncoder(N::AutoEncoderOptions(2, 1, 1, {2, 4}, {2, 2}));
  // encode_0 Conv(1->2) 18 + 2 + PReLU 1 = 21; encode_1 Conv(2->4) 72 + 4 + 1 = 77
  // decode_0 ConvT(4->2) 72 + 2 + 1 = 75; decode_1 ConvT(2->1), conv only: 18 + 1 = 19
  EXPECT_EQ(countParams(*net), 21 + 77 + 75 + 19);
  at::Tensor y = net->forward(at::randn({2, 1, 8, 12}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 1, 8, 12}));
  expectGradients(*net, y);

  auto inter = N::AutoEncoder(N::AutoEncoderOptions(2, 1, 2, {2, 4}, {2, 2})
                                  .num_res_units(1)
                                  .inter_channels({6, 4})
                                  .inter_dilations({1, 2}));
  EXPECT_TRUE(inter->named_parameters().contains("intermediate.inter_1.conv.unit0.conv.weight"));
  EXPECT_TRUE(inter->named_parameters().contains("decode.decode_1.resunit.conv.unit0.conv.weight"));
  EXPECT_EQ(inter->forward(at::randn({1, 1, 8, 8})).sizes(), at::IntArrayRef({1, 2, 8, 8}));
  EXPECT_THROW(N::AutoEncoder(N::AutoEncoderOptions(2, 1, 1, {2, 4}, {2})), med::Error);
  EXPECT_THROW(inter->forward(at::randn({1, 3, 8, 8})), med::Error);
}

TEST(VarAutoEncoder, TinyCountAndLatent) {
  auto net = N::VarAutoEncoder(N::VarAutoEncoderOptions(2, {1, 8, 8}, 1, 3, {2, 4}, {2, 2}));
  // AutoEncoder part as above 192; 8 -> 4 -> 2 so linear size 4*2*2 = 16:
  // mu 16*3 + 3 = 51, logvar 51, decodeL 3*16 + 16 = 64
  EXPECT_EQ(countParams(*net), 192 + 51 + 51 + 64);
  at::Tensor x = at::randn({2, 1, 8, 8});
  net->eval();
  {
    torch::NoGradGuard g;
    auto [rec, mu, logvar, z] = net->forward(x);
    EXPECT_EQ(rec.sizes(), at::IntArrayRef({2, 1, 8, 8}));
    EXPECT_EQ(mu.sizes(), at::IntArrayRef({2, 3}));
    // MONAI's eval mode keeps the standard deviation and drops only the noise.
    EXPECT_TRUE(at::allclose(z, mu + at::exp(0.5 * logvar)));
    EXPECT_TRUE(((rec > 0) & (rec < 1)).all().item<bool>());
  }
  net->train();
  auto [rec, mu, logvar, z] = net->forward(x);
  EXPECT_FALSE(at::equal(z, mu));
  expectGradients(*net, rec.sum() + mu.sum() + logvar.sum());
  EXPECT_THROW(net->forward(at::randn({2, 1, 8, 9})), med::Error);
}

TEST(Generator, TinyCountShapesGradients) {
  auto net = N::Generator(N::GeneratorOptions({3}, {2, 2, 2}, {2, 1}, {2, 2}).num_res_units(0));
  // linear 3 -> 2*2*2: 24 + 8 = 32
  // layer_0 ConvT(2->2) 36 + 2 + PReLU 1 = 39; layer_1 ConvT(2->1), conv only: 18 + 1 = 19
  EXPECT_EQ(countParams(*net), 32 + 39 + 19);
  at::Tensor y = net->forward(at::randn({4, 3}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({4, 1, 8, 8}));
  expectGradients(*net, y);
  auto res = N::Generator(N::GeneratorOptions({4, 2}, {4, 2, 2, 2}, {4, 2}, {2, 2}));
  EXPECT_EQ(res->forward(at::randn({1, 4, 2})).sizes(), at::IntArrayRef({1, 2, 8, 8, 8}));
  EXPECT_THROW(res->forward(at::randn({1, 8})), med::Error);
  EXPECT_THROW(N::Generator(N::GeneratorOptions({3}, {2, 2, 2}, {2, 1}, {2})), med::Error);
}
