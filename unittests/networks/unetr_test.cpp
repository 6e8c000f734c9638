// UNETR and the dynunet / UNETR blocks: UnetResBlock and UnetBasicBlock against plain ATen
// conv / instance-norm / leaky-ReLU, the padding rules by hand, hand-counted parameters, shapes in
// 2D and 3D, gradients and errors.
#include <gtest/gtest.h>

#include <string>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/blocks/dynunet_block.h"
#include "med/networks/blocks/unetr_block.h"
#include "med/networks/nets/unetr.h"
#include "net_test_util.h"

namespace B = med::networks::blocks;
namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {
at::Tensor param(torch::nn::Module &m, const std::string &name) {
  return m.named_parameters()[name];
}
at::Tensor inorm(const at::Tensor &x) {
  return at::instance_norm(x, {}, {}, {}, {}, true, 0.1, 1e-5, false);
}
} // namespace

TEST(DynUNetBlocks, PaddingRulesByHand) {
  // (k - s + 1) / 2: k3 s1 -> 1, k3 s2 -> 1, k2 s2 -> 0, k1 s1 -> 0
  EXPECT_EQ(B::dynunetPadding({3, 3, 2, 1}, {1, 2, 2, 1}, "t"), (std::vector<int64_t>{1, 1, 0, 0}));
  // output padding 2p + s - k: (k3 s2 p1) -> 1, (k2 s2 p0) -> 0
  EXPECT_EQ(B::dynunetOutputPadding({3, 2}, {2, 2}, {1, 0}, "t"), (std::vector<int64_t>{1, 0}));
  EXPECT_THROW(B::dynunetPadding({1}, {3}, "t"), med::Error);
}

TEST(UnetResBlock, MatchesPlainATenAndCountsByHand) {
  torch::NoGradGuard noGrad;
  auto blk = B::UnetResBlock(B::UnetBlockOptions(2, 2, 4, {3}, {2}, "instance"));
  // conv1 4*2*9 = 72, conv2 4*4*9 = 144, conv3 (1x1) 4*2 = 8; instance norms have no weights
  EXPECT_EQ(countParams(*blk), 72 + 144 + 8);
  at::Tensor x = at::randn({1, 2, 9, 7});
  at::Tensor y = at::conv2d(x, param(*blk, "conv1.conv.weight"), at::Tensor(),
                            at::IntArrayRef{2, 2}, at::IntArrayRef{1, 1});
  y = at::leaky_relu(inorm(y), 0.01);
  y = inorm(at::conv2d(y, param(*blk, "conv2.conv.weight"), at::Tensor(), at::IntArrayRef{1, 1},
                       at::IntArrayRef{1, 1}));
  at::Tensor res = inorm(at::conv2d(x, param(*blk, "conv3.conv.weight"), at::Tensor(),
                                    at::IntArrayRef{2, 2}, at::IntArrayRef{0, 0}));
  at::Tensor ref = at::leaky_relu(y + res, 0.01);
  at::Tensor out = blk->forward(x);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 4, 5, 4}));
  EXPECT_TRUE(at::allclose(out, ref, 1e-4, 1e-5));
  // Same channels, stride 1: identity residual, no conv3.
  auto same = B::UnetResBlock(B::UnetBlockOptions(2, 4, 4, {3}, {1}, "batch"));
  EXPECT_EQ(same->named_parameters().find("conv3.conv.weight"), nullptr);
}

TEST(UnetBasicBlock, MatchesPlainATen) {
  torch::NoGradGuard noGrad;
  auto blk = B::UnetBasicBlock(B::UnetBlockOptions(1, 3, 2, {3}, {1}, "instance"));
  at::Tensor x = at::randn({2, 3, 10});
  at::Tensor y = at::leaky_relu(inorm(at::conv1d(x, param(*blk, "conv1.conv.weight"), at::Tensor(),
                                                 at::IntArrayRef{1}, at::IntArrayRef{1})),
                                0.01);
  y = at::leaky_relu(inorm(at::conv1d(y, param(*blk, "conv2.conv.weight"), at::Tensor(),
                                      at::IntArrayRef{1}, at::IntArrayRef{1})),
                     0.01);
  EXPECT_TRUE(at::allclose(blk->forward(x), y, 1e-4, 1e-5));
}

TEST(UnetUpBlock, UpsamplesConcatenatesAndChecksSkip) {
  auto up = B::UnetUpBlock(B::UnetUpBlockOptions(3, 8, 4, {3}, {2}, "instance"));
  at::Tensor y = up->forward(at::randn({1, 8, 3, 3, 3}), at::randn({1, 4, 6, 6, 6}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 4, 6, 6, 6}));
  EXPECT_THROW(up->forward(at::randn({1, 8, 3, 3, 3}), at::randn({1, 4, 5, 6, 6})), med::Error);
  auto out = B::UnetOutBlock(3, 4, 2);
  EXPECT_EQ(countParams(*out), 4 * 2 + 2);
}

TEST(UnetrPrUpBlock, EachStageDoublesTheSize) {
  auto blk = B::UnetrPrUpBlock(
      B::UnetrBlockOptions(2, 6, 4).num_layer(2).conv_block(true).res_block(true));
  EXPECT_EQ(blk->forward(at::randn({1, 6, 2, 3})).sizes(), (std::vector<int64_t>{1, 4, 16, 24}));
  auto plain = B::UnetrPrUpBlock(B::UnetrBlockOptions(2, 6, 4).num_layer(1));
  // transp_conv_init 6*4*2*2 = 96 + one transposed conv 4*4*2*2 = 64, no biases
  EXPECT_EQ(countParams(*plain), 96 + 64);
}

N::UNETROptions tinyUNETR(int64_t dims) {
  return N::UNETROptions(1, 2, std::vector<int64_t>(dims, 32))
      .feature_size(4)
      .hidden_size(16)
      .mlp_dim(32)
      .num_heads(2)
      .spatial_dims(dims);
}

TEST(UNETR, ShapesIn2DAnd3DAndBackward) {
  {
    torch::NoGradGuard noGrad;
    auto net3 = N::UNETR(tinyUNETR(3));
    net3->eval();
    EXPECT_EQ(net3->forward(at::randn({1, 1, 32, 32, 32})).sizes(),
              (std::vector<int64_t>{1, 2, 32, 32, 32}));
  }
  auto net2 = N::UNETR(tinyUNETR(2).res_block(false).norm_name(B::LayerSpec("batch")));
  at::Tensor y = net2->forward(at::randn({2, 1, 32, 32}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 2, 32, 32}));
  y.pow(2).mean().backward();
  for (const auto &p : net2->named_parameters()) {
    if (p.key().find("cross_attn") != std::string::npos)
      continue; // MONAI's unused cross-attention weights
    EXPECT_TRUE(p.value().grad().defined()) << p.key();
  }
}

TEST(UNETR, InvalidConfigurationsThrow) {
  EXPECT_THROW(N::UNETR(tinyUNETR(3).img_size({24, 32, 32})), med::Error);
  EXPECT_THROW(N::UNETR(tinyUNETR(3).num_heads(3)), med::Error);
  EXPECT_THROW(N::UNETR(tinyUNETR(3).dropout_rate(-0.1)), med::Error);
  EXPECT_THROW(N::UNETR(tinyUNETR(3).spatial_dims(4)), med::Error);
}
