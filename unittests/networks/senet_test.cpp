// SENet: an SE residual block's parameter count worked out by hand and its eval-mode forward
// against plain ATen ops, the presets' shapes, gradients and errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/blocks/squeeze_and_excitation.h"
#include "med/networks/nets/senet.h"
#include "net_test_util.h"

namespace B = med::networks::blocks;
namespace N = med::networks::nets;

using med::networks::testing::countParams;

TEST(SENet, ResidualBlockCountAndForwardMatchesPlainATen) {
  at::manual_seed(7);
  B::SEResidualBlock blk(B::SEBottleneckKind::SEResNetBottleneck, 2, 8, 4, 1, 4, 1,
                         torch::nn::AnyModule());
  // conv1 1x1 8->4: 32 + bn 8; conv2 3x3 4->4: 144 + bn 8; conv3 1x1 4->16: 64 + bn 32;
  // se: Linear(16, 4) 68 + Linear(4, 16) 80; project 1x1 8->16 with bias 144.
  EXPECT_EQ(countParams(*blk), 40 + 152 + 96 + 148 + 144);

  med::networks::testing::randomizeRunningMeans(*blk);
  blk->eval();
  auto P = blk->named_parameters();
  auto Bf = blk->named_buffers();
  auto bn = [&](const at::Tensor &h, const std::string &c) {
    const std::string n = c + ".adn.N";
    return at::batch_norm(h, P[n + ".weight"], P[n + ".bias"], Bf[n + ".running_mean"],
                          Bf[n + ".running_var"], false, 0.1, 1e-5, false);
  };
  at::Tensor x = at::randn({2, 8, 6, 5});
  at::Tensor h = at::relu(bn(at::conv2d(x, P["conv1.conv.weight"]), "conv1"));
  h = at::relu(bn(at::conv2d(h, P["conv2.conv.weight"], {}, 1, 1), "conv2"));
  h = bn(at::conv2d(h, P["conv3.conv.weight"]), "conv3");
  at::Tensor g =
      at::relu(at::linear(h.mean({2, 3}), P["se_layer.fc.0.weight"], P["se_layer.fc.0.bias"]));
  g = at::sigmoid(at::linear(g, P["se_layer.fc.2.weight"], P["se_layer.fc.2.bias"]));
  h = h * g.view({2, 16, 1, 1});
  at::Tensor ref = at::relu(h + at::conv2d(x, P["project.weight"], P["project.bias"]));
  torch::NoGradGuard guard;
  at::Tensor y = blk->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 16, 6, 5}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(SENet, PresetsShapesAndGradients) {
  auto r50 = N::SEResNet50(2, 1, 3);
  EXPECT_EQ(r50->forward(at::randn({1, 1, 64, 64})).sizes(), at::IntArrayRef({1, 3}));
  // SE-ResNeXt: grouped 3x3 convs of width floor(64 * 4 / 64) * 32 = 128 in stage 1.
  auto x50 = N::SEResNext50(2, 2, 4);
  EXPECT_EQ(x50->named_parameters()["layer1.0.conv2.conv.weight"].sizes(),
            at::IntArrayRef({128, 4, 3, 3}));
  // A small SENet-154 style network: three-conv stem, se_bottleneck, dropout.
  auto small = N::SENet(
      N::SENetOptions(3, 1, "se_bottleneck", {1, 1, 1, 1}, 4, 16).inplanes(16).num_classes(2));
  EXPECT_TRUE(small->named_parameters().contains("layer0.conv3.weight"));
  EXPECT_EQ(small->named_parameters()["layer2.0.project.conv.weight"].sizes(),
            at::IntArrayRef({512, 256, 3, 3, 3})); // downsample_kernel_size 3 after stage 1
  at::Tensor y = small->forward(at::randn({2, 1, 32, 32, 32}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 2}));
  y.sum().backward();
  for (const auto &p : small->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
}

TEST(SENet, Errors) {
  EXPECT_THROW(N::SENet(N::SENetOptions(3, 1, "se_wide", {1, 1, 1, 1}, 1, 16)), med::Error);
  EXPECT_THROW(N::SENet(N::SENetOptions(3, 1, "se_bottleneck", {1, 1, 1}, 1, 16)), med::Error);
  EXPECT_THROW(N::SENet(N::SENetOptions(4, 1, "se_bottleneck", {1, 1, 1, 1}, 1, 16)), med::Error);
  // groups must divide the grouped conv's channels (2 * 64 = 128 is not divisible by 3).
  EXPECT_THROW(N::SENet(N::SENetOptions(2, 1, "se_bottleneck", {1, 1, 1, 1}, 3, 16)), med::Error);
  EXPECT_THROW(B::ChannelSELayer(2, 8, 16), med::Error); // 8 / 16 < 1
  auto net = N::SEResNet50(2, 1, 3);
  EXPECT_THROW(net->forward(at::randn({1, 2, 32, 32})), med::Error);
}
