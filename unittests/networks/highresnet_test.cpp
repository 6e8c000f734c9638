// HighResNet: parameter count of a tiny 2D configuration worked out by hand, its eval-mode
// forward against plain ATen ops (dilations, channel padding), ChannelPad, gradients, errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/highresnet.h"
#include "net_test_util.h"

namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {

N::HighResNetOptions tiny() {
  return N::HighResNetOptions().spatial_dims(2).in_channels(1).out_channels(2).layer_params(
      {{"conv_0", 4, 3, {}, 1},
       {"res_1", 4, 1, {3}, 1},
       {"res_2", 6, 1, {3, 3}, 1},
       {"conv_1", 5, 1, {}, 1},
       {"conv_2", 0, 1, {}, 1}});
}

} // namespace

TEST(HighResNet, TinyCountAndForwardMatchesPlainATen) {
  auto net = N::HighResNet(tiny());
  // blocks.0: conv 1->4 k3 (no bias) 36 + BN(4) 8 = 44.
  // blocks.1 (4->4, dilation 1): BN(4) 8 + conv 144 = 152.
  // blocks.2 (4->6, dilation 2): BN(4) 8 + conv 4->6 216 + BN(6) 12 + conv 6->6 324 = 560.
  // blocks.3: conv 6->5 k1 30 + BN(5) 10 = 40; blocks.4: conv 5->2 10 + BN(2) 4 = 14.
  EXPECT_EQ(countParams(*net), 44 + 152 + 560 + 40 + 14);

  at::manual_seed(13);
  med::networks::testing::randomizeRunningMeans(*net);
  net->eval();
  auto P = net->named_parameters();
  auto Bf = net->named_buffers();
  auto bnRelu = [&](const at::Tensor &h, const std::string &n) {
    return at::relu(at::batch_norm(h, P[n + ".weight"], P[n + ".bias"], Bf[n + ".running_mean"],
                                   Bf[n + ".running_var"], false, 0.1, 1e-5, false));
  };
  at::Tensor x = at::randn({2, 1, 12, 10});
  at::Tensor h0 = bnRelu(at::conv2d(x, P["blocks.0.conv.weight"], {}, 1, 1), "blocks.0.adn.N");
  at::Tensor b1 =
      at::conv2d(bnRelu(h0, "blocks.1.layers.0.N"), P["blocks.1.layers.1.conv.weight"], {}, 1, 1) +
      h0;
  at::Tensor t = at::conv2d(bnRelu(b1, "blocks.2.layers.0.N"), P["blocks.2.layers.1.conv.weight"],
                            {}, 1, 2, 2);
  t = at::conv2d(bnRelu(t, "blocks.2.layers.2.N"), P["blocks.2.layers.3.conv.weight"], {}, 1, 2, 2);
  at::Tensor zero = at::zeros({2, 1, 12, 10});
  at::Tensor b2 = t + at::cat({zero, b1, zero}, 1); // 4 -> 6 channels: one zero channel each side
  at::Tensor h3 = bnRelu(at::conv2d(b2, P["blocks.3.conv.weight"]), "blocks.3.adn.N");
  at::Tensor ref = bnRelu(at::conv2d(h3, P["blocks.4.conv.weight"]), "blocks.4.adn.N");
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 2, 12, 10}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(HighResNet, ChannelPadDefaultsAndGradients) {
  at::Tensor x = at::randn({1, 6, 3, 3});
  N::ChannelPad crop(2, 6, 3, "pad"); // (3 - 6) // 2 = -2 in front, -1 behind
  EXPECT_TRUE(at::equal(crop->forward(x), x.slice(1, 2, 5)));
  N::ChannelPad proj(2, 6, 3, "project");
  EXPECT_EQ(countParams(*proj), 6 * 3 + 3);
  EXPECT_EQ(proj->forward(x).sizes(), at::IntArrayRef({1, 3, 3, 3}));

  auto net = N::HighResNet(N::HighResNetOptions().in_channels(2).out_channels(3));
  EXPECT_EQ(net->named_parameters()["blocks.10.conv.weight"].sizes(),
            at::IntArrayRef({80, 64, 1, 1, 1}));
  at::Tensor y = net->forward(at::randn({1, 2, 9, 8, 7}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({1, 3, 9, 8, 7}));
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  auto projected = N::HighResNet(tiny().channel_matching("project"));
  EXPECT_EQ(countParams(*projected), 810 + 4 * 6 + 6);
}

TEST(HighResNet, Errors) {
  EXPECT_THROW(N::HighResNet(tiny().channel_matching("crop")), med::Error);
  EXPECT_THROW(N::HighResNet(tiny().spatial_dims(0)), med::Error);
  auto short_ = tiny();
  short_.layer_params({{"conv_0", 4, 3, {}, 1}, {"conv_1", 5, 1, {}, 1}});
  EXPECT_THROW((void)N::HighResNet(short_), med::Error);
  auto noKernels = tiny();
  noKernels.layer_params()[1].kernels.clear();
  EXPECT_THROW((void)N::HighResNet(noKernels), med::Error);
  auto net = N::HighResNet(tiny());
  EXPECT_THROW(net->forward(at::randn({1, 1, 8, 8, 8})), med::Error);
}
