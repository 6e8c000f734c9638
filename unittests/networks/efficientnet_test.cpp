// EfficientNet: an MBConv block against plain ATen ("same" padding, depthwise conv, batch norm in
// eval mode, swish, projection, residual), the width rounding by hand, shapes in 1D/2D/3D,
// gradients and errors.
#include <gtest/gtest.h>

#include <string>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/efficientnet.h"

namespace N = med::networks::nets;

namespace {
at::Tensor param(torch::nn::Module &m, const std::string &name) {
  return m.named_parameters()[name];
}
} // namespace

TEST(MBConvBlock, MatchesPlainATenInEvalMode) {
  torch::NoGradGuard noGrad;
  // Expansion 1 and no squeeze-excitation: pad -> depthwise conv -> BN -> swish -> 1x1 -> BN (+x).
  auto blk = N::MBConvBlock(N::MBConvBlockOptions(2, 3, 3, 3, 1, {6, 5}, 1).se_ratio(0.0));
  blk->eval();
  at::Tensor x = at::randn({2, 3, 6, 5});
  // Fresh BN statistics (mean 0, var 1) with weight 1, bias 0: division by sqrt(1 + eps).
  const double bn = 1.0 / std::sqrt(1.0 + 1e-3);
  at::Tensor y = at::constant_pad_nd(x, {1, 1, 1, 1});
  y = at::conv2d(y, param(*blk, "_depthwise_conv.weight"), at::Tensor(), at::IntArrayRef{1, 1},
                 at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, 3) *
      bn;
  y = y * at::sigmoid(y);
  y = at::conv2d(y, param(*blk, "_project_conv.weight")) * bn + x;
  EXPECT_TRUE(at::allclose(blk->forward(x), y, 1e-4, 1e-5));
}

TEST(MBConvBlock, StridedSamePaddingPutsTheOddPixelLast) {
  torch::NoGradGuard noGrad;
  // k3 s2 on size 6: need (3 - 1) * 2 + 3 - 6 = 1 pixel, all of it at the end.
  auto blk = N::MBConvBlock(N::MBConvBlockOptions(1, 2, 4, 3, 2, {6}, 2));
  blk->eval();
  EXPECT_EQ(blk->forward(at::randn({1, 2, 6})).sizes(), (std::vector<int64_t>{1, 4, 3}));
  // expand 2*4 = 4 (1x1), depthwise 4*3 = 12, SE: reduce 4 -> max(1, int(2 * 0.25)) = 1:
  // 4 + 1, expand 1 -> 4: 4 + 4, project 4*4 = 16, 3 BNs 2*4 + 2*4 + 2*4 = 24
  int64_t n = 0;
  for (const auto &p : blk->parameters())
    n += p.numel();
  EXPECT_EQ(n, 8 + 12 + 5 + 8 + 16 + 24);
}

TEST(EfficientNetBN, WidthRoundingAndShapes) {
  torch::NoGradGuard noGrad;
  // b2 width 1.1: stem 32 * 1.1 = 35.2 -> int(35.2 + 4) // 8 * 8 = 32; head 1280 * 1.1 = 1408.
  auto b2 = N::EfficientNetBN(N::EfficientNetBNOptions("efficientnet-b2").num_classes(5));
  EXPECT_EQ(param(*b2, "_conv_stem.weight").size(0), 32);
  EXPECT_EQ(param(*b2, "_fc.weight").sizes(), (std::vector<int64_t>{5, 1408}));
  b2->eval();
  EXPECT_EQ(b2->forward(at::randn({2, 3, 64, 64})).sizes(), (std::vector<int64_t>{2, 5}));
  for (int64_t d : {1, 3}) {
    auto net = N::EfficientNetBN(
        N::EfficientNetBNOptions("efficientnet-b0").spatial_dims(d).in_channels(1).num_classes(2));
    net->eval();
    std::vector<int64_t> shape{1, 1};
    for (int64_t i = 0; i < d; ++i)
      shape.push_back(32);
    EXPECT_EQ(net->forward(at::randn(shape)).sizes(), (std::vector<int64_t>{1, 2}));
  }
}

TEST(EfficientNetBN, BackwardInTraining) {
  auto net =
      N::EfficientNetBN(N::EfficientNetBNOptions("efficientnet-b0").in_channels(1).num_classes(3));
  net->train();
  at::Tensor y = net->forward(at::randn({2, 1, 32, 32}));
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    EXPECT_TRUE(p.value().grad().defined()) << p.key();
}

TEST(EfficientNetBN, InvalidConfigurationsThrow) {
  EXPECT_THROW(N::EfficientNetBN(N::EfficientNetBNOptions("efficientnet-b9")), med::Error);
  EXPECT_THROW(N::EfficientNetBN(N::EfficientNetBNOptions("efficientnet-b0").pretrained(true)),
               med::Error);
  EXPECT_THROW(N::EfficientNetBN(N::EfficientNetBNOptions("efficientnet-b0").spatial_dims(4)),
               med::Error);
  EXPECT_THROW(N::EfficientNet(N::EfficientNetOptions({"r1_k3_x"})), med::Error);
  auto net = N::EfficientNetBN(N::EfficientNetBNOptions("efficientnet-b0"));
  EXPECT_THROW(net->forward(at::randn({1, 1, 32, 32})), med::Error);
}
