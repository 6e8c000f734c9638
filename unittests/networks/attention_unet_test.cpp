// AttentionUnet: parameter count worked out by hand for a tiny 2D configuration, its eval-mode
// forward against the same computation written with plain ATen ops, shapes, gradients, errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/attention_unet.h"

namespace N = med::networks::nets;

TEST(AttentionUnet, TinyCountAndForwardMatchesPlainATen) {
  auto net = N::AttentionUnet(N::AttentionUnetOptions(2, 1, 1, {2, 4}, {2}));
  int64_t n = 0;
  for (const auto &p : net->parameters())
    n += p.numel();
  // head ConvBlock(1->2): Conv 18 + 2, BN 4 -> 24; Conv(2->2) 36 + 2 + 4 -> 42; = 66
  // model.1 AttentionLayer(in 2, out 4):
  //   attention (f_int 1): W_g 1x1 conv 2 + 1, BN 2 -> 5; W_x 5; psi 1 + 1, BN 2 -> 4; = 14
  //   upconv ConvT(4->2, k3) 72 + 2, BN 4 -> 78
  //   merge Conv(4->2, k3) 72 + 2, InstanceNorm (no affine), PReLU 1 -> 75
  //   submodule ConvBlock(2->4, stride 2): 72 + 4 + 8 = 84; 144 + 4 + 8 = 156 -> 240
  // model.2 1x1 Conv(2->1) 2 + 1 = 3
  EXPECT_EQ(n, 66 + (14 + 78 + 75 + 240) + 3);

  net->eval();
  at::manual_seed(6);
  at::Tensor x = at::randn({2, 1, 8, 6});
  auto P = net->named_parameters();
  auto Bf = net->named_buffers();
  auto bn = [&](const at::Tensor &t, const std::string &pre) {
    return at::batch_norm(t, P[pre + "weight"], P[pre + "bias"], Bf[pre + "running_mean"],
                          Bf[pre + "running_var"], false, 0.1, 1e-5, false);
  };
  auto unit = [&](const at::Tensor &t, const std::string &pre, int64_t stride) {
    at::Tensor c = at::conv2d(t, P[pre + "conv.weight"], P[pre + "conv.bias"], stride, 1);
    return at::relu(bn(c, pre + "adn.N."));
  };
  at::Tensor h = unit(unit(x, "model.0.conv.0.", 1), "model.0.conv.1.", 1);
  const std::string L = "model.1.";
  at::Tensor low = unit(unit(h, L + "submodule.conv.0.", 2), L + "submodule.conv.1.", 1);
  at::Tensor up = at::conv_transpose2d(low, P[L + "upconv.up.conv.weight"],
                                       P[L + "upconv.up.conv.bias"], 2, 1, 1);
  up = at::relu(bn(up, L + "upconv.up.adn.N."));
  auto proj = [&](const at::Tensor &t, const std::string &pre) {
    return bn(at::conv2d(t, P[pre + "0.conv.weight"], P[pre + "0.conv.bias"]), pre + "1.");
  };
  at::Tensor a = at::relu(proj(up, L + "attention.W_g.") + proj(h, L + "attention.W_x."));
  at::Tensor att = h * at::sigmoid(proj(a, L + "attention.psi."));
  at::Tensor m =
      at::conv2d(at::cat({att, up}, 1), P[L + "merge.conv.weight"], P[L + "merge.conv.bias"], 1, 1);
  m = (m - m.mean({2, 3}, true)) / at::sqrt(m.var({2, 3}, false, true) + 1e-5);
  m = at::prelu(m, P[L + "merge.adn.A.weight"]);
  at::Tensor ref = at::conv2d(m, P["model.2.conv.weight"], P["model.2.conv.bias"]);
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 1, 8, 6}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(AttentionUnet, DeeperShapesGradientsAndErrors) {
  auto net = N::AttentionUnet(N::AttentionUnetOptions(3, 2, 3, {4, 8, 16}, {2, 2}).dropout(0.1));
  at::manual_seed(2);
  at::Tensor y = net->forward(at::randn({2, 2, 8, 4, 12}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 3, 8, 4, 12}));
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  EXPECT_THROW(net->forward(at::randn({1, 2, 8, 4, 6})), med::Error); // 6 % 4 != 0
  EXPECT_THROW(N::AttentionUnet(N::AttentionUnetOptions(3, 1, 1, {4, 8}, {2, 2})), med::Error);
  EXPECT_THROW(N::AttentionUnet(N::AttentionUnetOptions(3, 1, 1, {4}, {})), med::Error);
}
