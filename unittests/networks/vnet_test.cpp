// VNet: the input transition against plain ATen ops, the residual/skip widths, PReLU's
// per-channel parameters, shapes, gradients and errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/vnet.h"

namespace N = med::networks::nets;

TEST(VNet, InputTransitionMatchesPlainATen) {
  at::manual_seed(11);
  N::VNetInputTransition tr(2, 4, 16, N::LayerSpec("elu", {{"inplace", true}}), false);
  tr->eval();
  auto P = tr->named_parameters();
  auto Bf = tr->named_buffers();
  at::Tensor x = at::randn({2, 4, 8, 8});
  at::Tensor h = at::conv2d(x, P["conv_block.conv.weight"], {}, 1, 2);
  h = at::batch_norm(h, P["conv_block.adn.N.weight"], P["conv_block.adn.N.bias"],
                     Bf["conv_block.adn.N.running_mean"], Bf["conv_block.adn.N.running_var"], false,
                     0.1, 1e-5, false);
  at::Tensor ref = at::elu(h + at::cat({x, x, x, x}, 1));
  torch::NoGradGuard g;
  EXPECT_TRUE(at::allclose(tr->forward(x), ref, 1e-4, 1e-5));
}

TEST(VNet, ShapesWidthsAndGradients) {
  auto net = N::VNet(
      N::VNetOptions().spatial_dims(2).in_channels(2).out_channels(3).act(N::LayerSpec("prelu")));
  auto P = net->named_parameters();
  // Widths double 16 -> 256 down; up stages concatenate half their width from below with the
  // skip (e.g. up_tr128: 256 -> 64 by the transposed conv, + 64 skip = 128).
  EXPECT_EQ(P["down_tr256.down_conv.weight"].sizes(), at::IntArrayRef({256, 128, 2, 2}));
  EXPECT_EQ(P["up_tr128.up_conv.weight"].sizes(), at::IntArrayRef({256, 64, 2, 2}));
  EXPECT_EQ(P["up_tr128.ops.1.conv_block.conv.weight"].sizes(), at::IntArrayRef({128, 128, 5, 5}));
  EXPECT_EQ(P["out_tr.conv2.weight"].sizes(), at::IntArrayRef({3, 3, 1, 1}));
  // MONAI's "prelu" has one slope per channel.
  EXPECT_EQ(P["in_tr.act_function.weight"].sizes(), at::IntArrayRef({16}));
  EXPECT_EQ(P["up_tr256.act_function1.weight"].sizes(), at::IntArrayRef({128}));

  at::manual_seed(0);
  at::Tensor x = at::randn({2, 2, 32, 16});
  net->eval();
  {
    torch::NoGradGuard g;
    at::Tensor a = net->forward(x), b = net->forward(x); // dropout off in eval
    EXPECT_EQ(a.sizes(), at::IntArrayRef({2, 3, 32, 16}));
    EXPECT_TRUE(at::equal(a, b));
  }
  net->train();
  net->forward(x).sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  // Dropout sits in the two deepest stages each way; the upper up stages drop only the skip.
  auto mods = N::VNet()->named_modules();
  EXPECT_TRUE(mods.contains("down_tr128.dropout"));
  EXPECT_FALSE(mods.contains("down_tr64.dropout"));
  EXPECT_TRUE(mods.contains("up_tr128.dropout"));
  EXPECT_FALSE(mods.contains("up_tr64.dropout"));
  EXPECT_TRUE(mods.contains("up_tr64.dropout2"));
  auto nodrop = N::VNet(N::VNetOptions()
                            .dropout_prob_down(std::nullopt)
                            .dropout_prob_up(N::VNetUpDropout{std::nullopt, 0.0}))
                    ->named_modules();
  EXPECT_FALSE(nodrop.contains("down_tr128.dropout"));
  EXPECT_FALSE(nodrop.contains("up_tr256.dropout"));
  EXPECT_TRUE(nodrop.contains("up_tr256.dropout2"));
}

TEST(VNet, Errors) {
  EXPECT_THROW(N::VNet(N::VNetOptions().spatial_dims(1)), med::Error);
  EXPECT_THROW(N::VNet(N::VNetOptions().in_channels(3)), med::Error); // 16 % 3 != 0
  EXPECT_THROW(N::VNet(N::VNetOptions().dropout_dim(4)), med::Error);
  auto net = N::VNet(N::VNetOptions().spatial_dims(2));
  EXPECT_THROW(net->forward(at::randn({1, 1, 24, 16})), med::Error); // 24 % 16 != 0
  EXPECT_THROW(net->forward(at::randn({1, 2, 16, 16})), med::Error);
}
