// SegResNet: parameter count worked out by hand for a tiny 2D configuration, its forward against
// the same computation written with plain ATen ops, shapes, gradients and errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/segresnet.h"

namespace N = med::networks::nets;

namespace {

N::SegResNetOptions tinyOptions() {
  return N::SegResNetOptions()
      .spatial_dims(2)
      .init_filters(2)
      .in_channels(1)
      .out_channels(1)
      .norm(N::LayerSpec("GROUP", {{"num_groups", 1}}))
      .blocks_down({1, 1})
      .blocks_up({1});
}

} // namespace

TEST(SegResNet, TinyCountAndForwardMatchesPlainATen) {
  auto net = N::SegResNet(tinyOptions());
  int64_t n = 0;
  for (const auto &p : net->parameters())
    n += p.numel();
  // convInit Conv(1->2, k3, no bias) 18
  // ResBlock(c) = 2 GroupNorms (2c each) + 2 bias-free Conv(c->c, k3): 4c + 18c^2
  // down_layers.0: ResBlock(2) = 8 + 72 = 80
  // down_layers.1: Conv(2->4, k3, s2) 72 + ResBlock(4) = 16 + 288 -> 376
  // up_layers.0: ResBlock(2) 80; up_samples.0: Conv(4->2, k1) 8
  // conv_final: GroupNorm(2) 4 + Conv(2->1, k1, bias) 3 = 7
  EXPECT_EQ(n, 18 + 80 + 376 + 80 + 8 + 7);

  net->eval();
  at::manual_seed(4);
  at::Tensor x = at::randn({2, 1, 8, 6});
  auto P = net->named_parameters();
  auto resBlock = [&](const at::Tensor &in, const std::string &pre) {
    at::Tensor h = at::relu(at::group_norm(in, 1, P[pre + "norm1.weight"], P[pre + "norm1.bias"]));
    h = at::conv2d(h, P[pre + "conv1.conv.weight"], {}, 1, 1);
    h = at::relu(at::group_norm(h, 1, P[pre + "norm2.weight"], P[pre + "norm2.bias"]));
    return at::conv2d(h, P[pre + "conv2.conv.weight"], {}, 1, 1) + in;
  };
  at::Tensor h0 = at::conv2d(x, P["convInit.conv.weight"], {}, 1, 1);
  at::Tensor d0 = resBlock(h0, "down_layers.0.1.");
  at::Tensor d1 = at::conv2d(d0, P["down_layers.1.0.conv.weight"], {}, 2, 1);
  d1 = resBlock(d1, "down_layers.1.1.");
  at::Tensor u = at::conv2d(d1, P["up_samples.0.0.conv.weight"]);
  u = at::upsample_bilinear2d(u, {8, 6}, /*align_corners=*/false);
  u = resBlock(u + d0, "up_layers.0.0.");
  u = at::relu(at::group_norm(u, 1, P["conv_final.0.weight"], P["conv_final.0.bias"]));
  at::Tensor ref = at::conv2d(u, P["conv_final.2.conv.weight"], P["conv_final.2.conv.bias"]);
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 1, 8, 6}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(SegResNet, DefaultShapesGradientsAndErrors) {
  auto net = N::SegResNet(N::SegResNetOptions().in_channels(2).out_channels(3).dropout_prob(0.2));
  at::manual_seed(1);
  at::Tensor y = net->forward(at::randn({1, 2, 16, 8, 8}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({1, 3, 16, 8, 8}));
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  EXPECT_THROW(net->forward(at::randn({1, 2, 12, 8, 8})), med::Error); // 12 % 8 != 0
  EXPECT_THROW(N::SegResNet(N::SegResNetOptions().spatial_dims(1)), med::Error);
  EXPECT_THROW(N::SegResNet(N::SegResNetOptions().norm_name("batch")), med::Error);
  EXPECT_THROW(N::SegResNet(N::SegResNetOptions().blocks_up({1, 1, 1, 1})), med::Error);
  EXPECT_THROW(N::SegResNet(N::SegResNetOptions().upsample_mode("pixelshuffle")), med::Error);
  auto deconv = N::SegResNet(tinyOptions().upsample_mode("deconv").use_conv_final(false));
  EXPECT_TRUE(deconv->named_parameters().contains("up_samples.0.1.deconv.weight"));
  EXPECT_EQ(deconv->forward(at::randn({1, 1, 4, 4})).sizes(), at::IntArrayRef({1, 2, 4, 4}));
}
