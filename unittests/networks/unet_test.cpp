// UNet and BasicUNet: parameter names and counts worked out by hand for tiny configurations,
// the tiny UNet's forward against the same computation written with plain ATen ops, output
// shapes, gradients reaching every parameter, and the errors for invalid configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/basic_unet.h"
#include "med/networks/nets/unet.h"
#include "net_test_util.h"

namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {

std::vector<std::string> paramNames(torch::nn::Module &m) {
  std::vector<std::string> out;
  for (const auto &p : m.named_parameters())
    out.push_back(p.key());
  return out;
}

/// backward() of sum(out) gives every parameter a finite gradient, and not all of them zero.
void expectGradients(torch::nn::Module &m, const at::Tensor &out) {
  out.sum().backward();
  double total = 0.0;
  for (const auto &p : m.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(at::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    total += p.value().grad().abs().sum().item<double>();
  }
  EXPECT_GT(total, 0.0);
}

N::UNet tinyUNet() { return N::UNet(N::UNetOptions(2, 1, 2).channels({4, 8}).strides({2})); }

} // namespace

TEST(UNet, TinyParameterNamesAndCount) {
  auto net = tinyUNet();
  // model.0 down Conv2d(1->4, k3): 4*1*9 + 4 = 40, PReLU 1          -> 41
  // model.1 bottom Conv2d(4->8, k3, stride 1): 8*4*9 + 8 = 296, PReLU 1 -> 297
  // model.2 top ConvTranspose2d(4+8=12 -> 2, k3), conv only: 12*2*9 + 2  -> 218
  EXPECT_EQ(countParams(*net), 41 + 297 + 218);
  std::vector<std::string> expected = {
      "model.0.conv.weight",         "model.0.conv.bias",
      "model.0.adn.A.weight",        "model.1.submodule.conv.weight",
      "model.1.submodule.conv.bias", "model.1.submodule.adn.A.weight",
      "model.2.conv.weight",         "model.2.conv.bias"};
  EXPECT_EQ(paramNames(*net), expected);
}

TEST(UNet, TinyForwardMatchesPlainATen) {
  auto net = tinyUNet();
  net->eval();
  at::manual_seed(3);
  at::Tensor x = at::randn({2, 1, 8, 6});
  auto P = net->named_parameters();
  auto block = [&](const at::Tensor &in, const std::string &pre, int64_t stride) {
    at::Tensor c =
        at::conv2d(in, P[pre + "conv.weight"], P[pre + "conv.bias"], {stride, stride}, {1, 1});
    // InstanceNorm (no affine): per sample and channel over the spatial axes, biased variance.
    at::Tensor mean = c.mean({2, 3}, true);
    at::Tensor var = c.var({2, 3}, /*unbiased=*/false, true);
    at::Tensor n = (c - mean) / at::sqrt(var + 1e-5);
    return at::prelu(n, P[pre + "adn.A.weight"]);
  };
  at::Tensor d = block(x, "model.0.", 2);
  at::Tensor b = block(d, "model.1.submodule.", 1);
  at::Tensor ref = at::conv_transpose2d(at::cat({d, b}, 1), P["model.2.conv.weight"],
                                        P["model.2.conv.bias"], {2, 2}, {1, 1}, {1, 1});
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 2, 8, 6}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(UNet, ResidualUnitsShapesAndGradients) {
  auto net = N::UNet(N::UNetOptions(3, 2, 3)
                         .channels({4, 8, 16})
                         .strides({2, 2})
                         .num_res_units(2)
                         .norm(N::LayerSpec("batch"))
                         .act(N::LayerSpec("GELU"))
                         .dropout(0.1));
  net->train();
  at::manual_seed(1);
  at::Tensor y = net->forward(at::randn({2, 2, 8, 12, 4}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 3, 8, 12, 4}));
  expectGradients(*net, y);
  // The bottom ResidualUnit changes channels at stride 1: a 1x1x1 residual conv.
  auto P = net->named_parameters();
  EXPECT_EQ(P["model.1.submodule.1.submodule.residual.weight"].sizes(),
            at::IntArrayRef({16, 8, 1, 1, 1}));
  // BatchNorm's running statistics are buffers, not parameters.
  EXPECT_TRUE(net->named_buffers().contains("model.0.conv.unit0.adn.N.running_mean"));
}

TEST(UNet, Errors) {
  EXPECT_THROW(N::UNet(N::UNetOptions(2, 1, 2).channels({4, 8, 16}).strides({2})), med::Error);
  EXPECT_THROW(N::UNet(N::UNetOptions(2, 1, 2).channels({4}).strides({})), med::Error);
  EXPECT_THROW(N::UNet(N::UNetOptions(4, 1, 2).channels({4, 8}).strides({2})), med::Error);
  EXPECT_THROW(
      N::UNet(N::UNetOptions(2, 1, 2).channels({4, 8}).strides({2}).kernel_size({3, 3, 3})),
      med::Error);
  auto net = N::UNet(N::UNetOptions(2, 1, 2).channels({4, 8, 16}).strides({2, 2}));
  try {
    net->forward(at::zeros({1, 1, 16, 10}));
    FAIL() << "expected med::Error";
  } catch (const med::Error &e) {
    EXPECT_NE(std::string(e.what()).find("divisible"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(net->forward(at::zeros({1, 3, 16, 16})), med::Error);
}

TEST(BasicUNet, TinyParameterCount) {
  auto net = N::BasicUNet(
      N::BasicUNetOptions().spatial_dims(2).in_channels(1).out_channels(1).features({2}));
  // Convolution(in->2, k3) with affine InstanceNorm: 2*in*9 + 2 (bias) + 4 (norm w, b).
  // conv_0: (1->2) 24 + (2->2) 42 = 66; down_1..4: 4 * 84 = 336.
  // upcat_4..2 (halves: up 1 channel): deconv 2*1*4 + 1 = 9, convs (3->2) 60 + 42 -> 111 each.
  // upcat_1 (no halving): deconv 2*2*4 + 2 = 18, convs (4->2) 78 + 42 -> 138.
  // final_conv 1x1: 2 + 1 = 3.
  EXPECT_EQ(countParams(*net), 66 + 336 + 3 * 111 + 138 + 3);
  auto names = paramNames(*net);
  EXPECT_EQ(names.front(), "conv_0.conv_0.conv.weight");
  EXPECT_EQ(names.back(), "final_conv.bias");
  EXPECT_NE(std::find(names.begin(), names.end(), "upcat_1.upsample.deconv.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "down_4.convs.conv_1.adn.N.weight"), names.end());
}

TEST(BasicUNet, OddSizesShapesAndGradients) {
  auto net = N::BasicUNet(
      N::BasicUNetOptions().spatial_dims(2).in_channels(2).out_channels(3).features({4}));
  at::manual_seed(2);
  at::Tensor y = net->forward(at::randn({1, 2, 17, 22}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({1, 3, 17, 22}));
  expectGradients(*net, y);
}

TEST(BasicUNet, NonTrainableUpsample) {
  auto net = N::BasicUNet(
      N::BasicUNetOptions().spatial_dims(3).features({4, 4, 8, 8, 16, 4}).upsample("nontrainable"));
  auto P = net->named_parameters();
  // Halving 16 -> 8 channels before interpolating: a 1x1x1 conv.
  EXPECT_EQ(P["upcat_4.upsample.preconv.weight"].sizes(), at::IntArrayRef({8, 16, 1, 1, 1}));
  torch::NoGradGuard g;
  net->eval();
  EXPECT_EQ(net->forward(at::randn({1, 1, 16, 16, 16})).sizes(),
            at::IntArrayRef({1, 2, 16, 16, 16}));
}

TEST(BasicUNet, Errors) {
  EXPECT_THROW(N::BasicUNet(N::BasicUNetOptions().features({4, 4, 4, 4, 4})), med::Error);
  EXPECT_THROW(N::BasicUNet(N::BasicUNetOptions().upsample("pixelshuffle")), med::Error);
  auto net = N::BasicUNet(N::BasicUNetOptions().spatial_dims(2).features({2}));
  EXPECT_THROW(net->forward(at::zeros({1, 1, 8, 32})), med::Error);
}
