// DynUNet: parameter count of a tiny 2D configuration worked out by hand, its forward (with the
// deep-supervision head) against the same computation written with plain ATen ops, the
// "skip_layers" weight view, gradients and configuration errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/dynunet.h"
#include "net_test_util.h"

namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {

N::DynUNetOptions tiny() {
  return N::DynUNetOptions(2, 1, 1, {{3}, {3}, {3}}, {{1}, {2}, {2}}, {{2}, {2}})
      .filters({{2, 4, 8}});
}

} // namespace

TEST(DynUNet, TinyCountByHand) {
  auto net = N::DynUNet(tiny());
  // UnetBasicBlock(i -> o, k3) = bias-free convs 9*i*o + 9*o*o + two affine InstanceNorms 4*o.
  // input_block 1->2: 18 + 36 + 8 = 62; downsamples.0 2->4: 72 + 144 + 16 = 232;
  // bottleneck 4->8: 288 + 576 + 32 = 896.
  // upsamples.0: transposed conv 8->4 k2 (no bias) 128 + block 8->4: 288 + 144 + 16 -> 576;
  // upsamples.1: transposed 4->2: 32 + block 4->2: 72 + 36 + 8 -> 148; output_block 2->1: 3.
  EXPECT_EQ(countParams(*net), 62 + 232 + 896 + 576 + 148 + 3);
  auto deep = N::DynUNet(tiny().deep_supervision(true));
  EXPECT_EQ(countParams(*deep), 62 + 232 + 896 + 576 + 148 + 3 + 5); // head 4->1 with bias

  // MONAI's "skip_layers" keys exist as buffers that share the parameters' storage.
  auto buffers = deep->named_buffers();
  auto params = deep->named_parameters();
  ASSERT_TRUE(buffers.contains("skip_layers.downsample.conv1.conv.weight"));
  EXPECT_TRUE(buffers["skip_layers.downsample.conv1.conv.weight"].is_same(
      params["input_block.conv1.conv.weight"]));
  EXPECT_TRUE(buffers["skip_layers.next_layer.next_layer.conv2.conv.weight"].is_same(
      params["bottleneck.conv2.conv.weight"]));
  EXPECT_TRUE(buffers["skip_layers.next_layer.super_head.conv.conv.bias"].is_same(
      params["deep_supervision_heads.0.conv.conv.bias"]));
  // The view follows the parameters through a dtype / device change.
  deep->to(at::kDouble);
  EXPECT_EQ(deep->named_buffers()["skip_layers.downsample.conv1.conv.weight"].scalar_type(),
            at::kDouble);
  EXPECT_TRUE(deep->named_buffers()["skip_layers.downsample.conv1.conv.weight"].is_same(
      deep->named_parameters()["input_block.conv1.conv.weight"]));
}

TEST(DynUNet, ForwardMatchesPlainATen) {
  at::manual_seed(3);
  auto net = N::DynUNet(tiny().deep_supervision(true));
  auto P = net->named_parameters();
  auto block = [&](const at::Tensor &x, const std::string &pre, int64_t stride) {
    auto normAct = [&](const at::Tensor &h, const std::string &n) {
      at::Tensor y = at::instance_norm(h, P[pre + n + ".weight"], P[pre + n + ".bias"], {}, {},
                                       true, 0.1, 1e-5, false);
      return at::leaky_relu(y, 0.01);
    };
    at::Tensor h = normAct(at::conv2d(x, P[pre + "conv1.conv.weight"], {}, stride, 1), "norm1");
    return normAct(at::conv2d(h, P[pre + "conv2.conv.weight"], {}, 1, 1), "norm2");
  };
  at::Tensor x = at::randn({2, 1, 8, 8});
  at::Tensor d0 = block(x, "input_block.", 1);
  at::Tensor d1 = block(d0, "downsamples.0.", 2);
  at::Tensor b = block(d1, "bottleneck.", 2);
  at::Tensor u0 = at::conv_transpose2d(b, P["upsamples.0.transp_conv.conv.weight"], {}, 2);
  u0 = block(at::cat({u0, d1}, 1), "upsamples.0.conv_block.", 1);
  at::Tensor u1 = at::conv_transpose2d(u0, P["upsamples.1.transp_conv.conv.weight"], {}, 2);
  u1 = block(at::cat({u1, d0}, 1), "upsamples.1.conv_block.", 1);
  at::Tensor out =
      at::conv2d(u1, P["output_block.conv.conv.weight"], P["output_block.conv.conv.bias"]);
  at::Tensor head = at::conv2d(u0, P["deep_supervision_heads.0.conv.conv.weight"],
                               P["deep_supervision_heads.0.conv.conv.bias"]);
  head = at::upsample_nearest2d(head, {8, 8});

  torch::NoGradGuard g;
  net->eval();
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 1, 8, 8}));
  EXPECT_TRUE(at::allclose(y, out, 1e-4, 1e-5));
  net->train();
  at::Tensor yt = net->forward(x);
  ASSERT_EQ(yt.sizes(), at::IntArrayRef({2, 2, 1, 8, 8}));
  EXPECT_TRUE(at::allclose(yt.select(1, 0), out, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(yt.select(1, 1), head, 1e-4, 1e-5));
}

TEST(DynUNet, ShapesGradientsAndDefaults) {
  auto net = N::DynUNet(
      N::DynUNetOptions(3, 2, 3, {{3}, {3}, {3}, {3}}, {{1}, {2}, {2}, {2}}, {{2}, {2}, {2}})
          .res_block(true)
          .dropout(med::networks::layers::LayerSpec("DROPOUT", {{"p", 0.1}})));
  EXPECT_EQ(net->filters(), (std::vector<int64_t>{32, 64, 128, 256}));
  at::manual_seed(0);
  at::Tensor y = net->forward(at::randn({1, 2, 16, 16, 16}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({1, 3, 16, 16, 16}));
  y.mean().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  // Anisotropic per-axis kernels and strides in 2D.
  auto aniso = N::DynUNet(N::DynUNetOptions(2, 1, 2, {{3, 1}, {3, 3}, {3, 3}},
                                            {{1, 1}, {2, 1}, {2, 2}}, {{2, 1}, {2, 2}}));
  EXPECT_EQ(aniso->forward(at::randn({1, 1, 8, 4})).sizes(), at::IntArrayRef({1, 2, 8, 4}));
  // Filters cap at 320 in 3D.
  auto deep = N::DynUNet(N::DynUNetOptions(3, 1, 1, std::vector<std::vector<int64_t>>(6, {3}),
                                           {{1}, {2}, {2}, {2}, {2}, {2}},
                                           std::vector<std::vector<int64_t>>(5, {2})));
  EXPECT_EQ(deep->filters().back(), 320);
}

TEST(DynUNet, Errors) {
  using O = N::DynUNetOptions;
  EXPECT_THROW(N::DynUNet(O(3, 1, 1, {{3}, {3}}, {{1}, {2}}, {{2}})), med::Error); // < 3 levels
  EXPECT_THROW(N::DynUNet(O(3, 1, 1, {{3}, {3}, {3}}, {{1}, {2}}, {{2}})), med::Error);
  EXPECT_THROW(N::DynUNet(O(3, 1, 1, {{3}, {3}, {3}}, {{1}, {2}, {2}}, {{2}})), med::Error);
  EXPECT_THROW(N::DynUNet(O(3, 1, 1, {{3, 3}, {3}, {3}}, {{1}, {2}, {2}}, {{2}, {2}})),
               med::Error); // 2 values in 3D
  EXPECT_THROW(N::DynUNet(tiny().filters({{2, 4}})), med::Error);
  EXPECT_THROW(N::DynUNet(tiny().deep_supervision(true).deep_supr_num(2)), med::Error);
  EXPECT_THROW(N::DynUNet(tiny().deep_supervision(true).deep_supr_num(0)), med::Error);
  auto net = N::DynUNet(tiny());
  EXPECT_THROW(net->forward(at::randn({1, 2, 8, 8})), med::Error);
  EXPECT_THROW(net->forward(at::randn({1, 1, 8, 8, 8})), med::Error);
}
