// SwinUNETR and the Swin blocks: window partition round trip, the shifted-window mask and the
// relative position bias by hand, window attention against plain ATen, patch merging order,
// shapes in 2D and 3D, gradients and errors.
#include <gtest/gtest.h>

#include <string>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/blocks/swin.h"
#include "med/networks/nets/swin_unetr.h"

namespace B = med::networks::blocks;
namespace N = med::networks::nets;

namespace {
at::Tensor param(torch::nn::Module &m, const std::string &name) {
  return m.named_parameters()[name];
}
} // namespace

TEST(Swin, WindowPartitionRoundTrip) {
  at::Tensor x = at::randn({2, 4, 6, 3});
  at::Tensor w = B::swin::windowPartition(x, {2, 3});
  EXPECT_EQ(w.sizes(), (std::vector<int64_t>{2 * 2 * 2, 6, 3}));
  // Window 1 of batch 0 is rows 0-1, columns 3-5.
  EXPECT_TRUE(at::equal(w[1], x[0].slice(0, 0, 2).slice(1, 3, 6).reshape({6, 3})));
  EXPECT_TRUE(at::equal(B::swin::windowReverse(w, {2, 3}, {2, 4, 6}), x));
}

TEST(Swin, ShiftedWindowMaskByHand) {
  // 4x4 map, window 2, shift 1: regions per axis [0,2), [2,3), [3,4). The top-left window lies
  // in one region (no masking); the bottom-right window has four cells in four regions.
  at::Tensor m = B::swin::computeMask({4, 4}, {2, 2}, {1, 1}, at::kCPU);
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{4, 4, 4}));
  EXPECT_TRUE(at::equal(m[0], at::zeros({4, 4})));
  at::Tensor expect = at::full({4, 4}, -100.0f) + 100.0f * at::eye(4);
  EXPECT_TRUE(at::equal(m[3], expect));
  // Top-right window: columns 2 and 3 are different regions, rows share one.
  at::Tensor tr = at::tensor({0.f, -100.f, 0.f, -100.f, -100.f, 0.f, -100.f, 0.f, 0.f, -100.f, 0.f,
                              -100.f, -100.f, 0.f, -100.f, 0.f})
                      .reshape({4, 4});
  EXPECT_TRUE(at::equal(m[1], tr));
}

TEST(WindowAttention, MatchesPlainATenWithRelativeBias) {
  torch::NoGradGuard noGrad;
  auto wa = B::WindowAttention(4, 2, std::vector<int64_t>{2, 2}, /*qkv_bias=*/true);
  EXPECT_EQ(param(*wa, "relative_position_bias_table").sizes(), (std::vector<int64_t>{9, 2}));
  at::Tensor x = at::randn({3, 4, 4});
  at::Tensor qkv = at::linear(x, param(*wa, "qkv.weight"), param(*wa, "qkv.bias"));
  at::Tensor table = param(*wa, "relative_position_bias_table");
  // Cell i of a 2x2 window is (i / 2, i % 2); the bias of (i, j) is table[(dh + 1) * 3 + dw + 1].
  at::Tensor bias = at::zeros({2, 4, 4});
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      const int64_t dh = i / 2 - j / 2, dw = i % 2 - j % 2;
      bias.select(1, i).select(1, j).copy_(table[(dh + 1) * 3 + dw + 1]);
    }
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < 2; ++h) {
    at::Tensor q = qkv.slice(2, 2 * h, 2 * h + 2), k = qkv.slice(2, 4 + 2 * h, 6 + 2 * h);
    at::Tensor v = qkv.slice(2, 8 + 2 * h, 10 + 2 * h);
    at::Tensor att = at::bmm(q, k.transpose(1, 2)) / std::sqrt(2.0) + bias[h];
    heads.push_back(at::bmm(at::softmax(att, -1), v));
  }
  at::Tensor ref =
      at::linear(at::cat(heads, 2), param(*wa, "proj.weight"), param(*wa, "proj.bias"));
  EXPECT_TRUE(at::allclose(wa->forward(x), ref, 1e-5, 1e-6));
}

TEST(PatchMerging, ConcatenatesNeighboursInMonaiOrder) {
  torch::NoGradGuard noGrad;
  auto pm = B::PatchMerging(2, 2, false);
  at::Tensor x = at::randn({1, 4, 4, 2});
  auto s = [&](int64_t a, int64_t b) {
    return x.slice(1, a, c10::nullopt, 2).slice(2, b, c10::nullopt, 2);
  };
  at::Tensor cat = at::cat({s(0, 0), s(1, 0), s(0, 1), s(1, 1)}, -1);
  at::Tensor ref =
      at::linear(at::layer_norm(cat, {8}, param(*pm, "norm.weight"), param(*pm, "norm.bias")),
                 param(*pm, "reduction.weight"));
  EXPECT_TRUE(at::allclose(pm->forward(x), ref, 1e-5, 1e-6));
  // Odd sizes are padded: 5x3 -> 3x2.
  EXPECT_EQ(pm->forward(at::randn({1, 5, 3, 2})).sizes(), (std::vector<int64_t>{1, 3, 2, 4}));
  auto pm3 = B::PatchMerging(3, 3, true);
  EXPECT_EQ(param(*pm3, "reduction.weight").sizes(), (std::vector<int64_t>{6, 24}));
}

TEST(SwinUNETR, ShapesIn2DAnd3DAndBackward) {
  {
    torch::NoGradGuard noGrad;
    auto net3 = N::SwinUNETR(
        N::SwinUNETROptions(1, 2).feature_size(12).img_size(std::vector<int64_t>{64, 64, 64}));
    net3->eval();
    EXPECT_EQ(net3->forward(at::randn({1, 1, 64, 64, 64})).sizes(),
              (std::vector<int64_t>{1, 2, 64, 64, 64}));
  }
  auto net2 = N::SwinUNETR(N::SwinUNETROptions(2, 3)
                               .feature_size(12)
                               .spatial_dims(2)
                               .use_v2(true)
                               .downsample("mergingv2")
                               .dropout_path_rate(0.1));
  at::Tensor y = net2->forward(at::randn({2, 2, 64, 96}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 64, 96}));
  y.pow(2).mean().backward();
  for (const auto &p : net2->named_parameters())
    EXPECT_TRUE(p.value().grad().defined()) << p.key();
  EXPECT_NE(net2->named_parameters().find("swinViT.layers1c.0.layer.conv1.conv.weight"), nullptr);
}

TEST(SwinUNETR, InvalidConfigurationsThrow) {
  EXPECT_THROW(N::SwinUNETR(N::SwinUNETROptions(1, 2).feature_size(16)), med::Error);
  EXPECT_THROW(N::SwinUNETR(N::SwinUNETROptions(1, 2).img_size(std::vector<int64_t>{48, 64, 64})),
               med::Error);
  EXPECT_THROW(N::SwinUNETR(N::SwinUNETROptions(1, 2).spatial_dims(1)), med::Error);
  EXPECT_THROW(N::SwinUNETR(N::SwinUNETROptions(1, 2).drop_rate(2.0)), med::Error);
  EXPECT_THROW(N::SwinUNETR(N::SwinUNETROptions(1, 2).downsample("pool")), med::Error);
  auto net = N::SwinUNETR(N::SwinUNETROptions(1, 2).feature_size(12).spatial_dims(2));
  torch::NoGradGuard noGrad;
  EXPECT_THROW(net->forward(at::randn({1, 1, 48, 64})), med::Error);
  // 32^3 leaves a 1-voxel bottleneck that instance norm cannot normalise (MONAI raises too).
  EXPECT_THROW(net->forward(at::randn({1, 1, 32, 32})), med::Error);
}
