// DenseNet: parameter count of a tiny 2D configuration worked out by hand, its eval-mode forward
// against plain ATen ops, the factories' depths, gradients and errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/densenet.h"
#include "net_test_util.h"

namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {

N::DenseNetOptions tiny() {
  return N::DenseNetOptions(2, 1, 3).init_features(4).growth_rate(2).block_config({{1, 1}}).bn_size(
      2);
}

} // namespace

TEST(DenseNet, TinyCountAndForwardMatchesPlainATen) {
  auto net = N::DenseNet(tiny());
  // conv0 1->4 k7: 196, norm0 8.
  // denseblock1 (in 4): norm1 8, conv1 4->4 (bn_size * growth) 16, norm2 8, conv2 4->2 k3 72 = 104.
  // transition1 (6 -> 3): norm 12, conv 18 = 30.
  // denseblock2 (in 3): norm1 6, conv1 3->4 12, norm2 8, conv2 72 = 98; norm5 (5) 10; out 5*3+3
  // = 18.
  EXPECT_EQ(countParams(*net), 196 + 8 + 104 + 30 + 98 + 10 + 18);

  at::manual_seed(5);
  for (auto &b : net->named_buffers())
    if (b.key().find("running_var") != std::string::npos)
      b.value().uniform_(0.5, 2.0);
  net->eval();
  auto P = net->named_parameters();
  auto Bf = net->named_buffers();
  auto normRelu = [&](const at::Tensor &h, const std::string &n) {
    return at::relu(at::batch_norm(h, P[n + ".weight"], P[n + ".bias"], Bf[n + ".running_mean"],
                                   Bf[n + ".running_var"], false, 0.1, 1e-5, false));
  };
  auto dense = [&](const at::Tensor &x, const std::string &pre) {
    at::Tensor h = at::conv2d(normRelu(x, pre + "norm1"), P[pre + "conv1.weight"]);
    h = at::conv2d(normRelu(h, pre + "norm2"), P[pre + "conv2.weight"], {}, 1, 1);
    return at::cat({x, h}, 1);
  };
  at::Tensor x = at::randn({2, 1, 32, 32});
  at::Tensor h = normRelu(at::conv2d(x, P["features.conv0.weight"], {}, 2, 3), "features.norm0");
  h = at::max_pool2d(h, 3, 2, 1);
  h = dense(h, "features.denseblock1.denselayer1.layers.");
  h = at::conv2d(normRelu(h, "features.transition1.norm"), P["features.transition1.conv.weight"]);
  h = at::avg_pool2d(h, 2, 2);
  h = dense(h, "features.denseblock2.denselayer1.layers.");
  h = normRelu(h, "features.norm5"); // norm5, then class_layers.relu
  at::Tensor ref =
      at::linear(h.mean({2, 3}), P["class_layers.out.weight"], P["class_layers.out.bias"]);
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 3}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(DenseNet, FactoriesGradientsAndErrors) {
  auto n121 = N::DenseNet121(N::DenseNetOptions(2, 1, 2));
  auto n169 = N::DenseNet169(N::DenseNetOptions(2, 1, 2));
  EXPECT_TRUE(
      n121->named_parameters().contains("features.denseblock4.denselayer16.layers.conv2.weight"));
  EXPECT_FALSE(
      n121->named_parameters().contains("features.denseblock4.denselayer17.layers.conv2.weight"));
  EXPECT_TRUE(
      n169->named_parameters().contains("features.denseblock4.denselayer32.layers.conv2.weight"));
  // 1024 features before the classifier in both (DenseNet's halving transitions).
  EXPECT_EQ(n121->named_parameters()["class_layers.out.weight"].sizes(),
            at::IntArrayRef({2, 1024}));
  EXPECT_EQ(n169->named_parameters()["class_layers.out.weight"].sizes(),
            at::IntArrayRef({2, 1664}));
  auto drop = N::DenseNet(tiny().dropout_prob(0.3).spatial_dims(3));
  at::Tensor y = drop->forward(at::randn({2, 1, 16, 16, 16}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 3}));
  y.sum().backward();
  for (const auto &p : drop->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();

  EXPECT_THROW(N::DenseNet(tiny().spatial_dims(0)), med::Error);
  EXPECT_THROW(N::DenseNet(tiny().block_config(std::vector<int64_t>{})), med::Error);
  EXPECT_THROW(N::DenseNet(tiny().block_config(std::vector<int64_t>{1, 0})), med::Error);
  EXPECT_THROW(N::DenseNet(tiny().growth_rate(0)), med::Error);
  EXPECT_THROW(N::DenseNet(tiny().dropout_prob(1.5)), med::Error);
  auto net = N::DenseNet(tiny());
  EXPECT_THROW(net->forward(at::randn({1, 1, 16, 16, 16})), med::Error);
}
