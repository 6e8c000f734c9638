// AHNet: a Pseudo-3D dense layer against plain ATen ops and a hand count of its parameters,
// MONAI's parameter count, 2D/3D output shapes, gradients, input-size and option errors.
#include <string>

#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/ahnet.h"
#include "net_test_util.h"

namespace N = med::networks::nets;
using med::networks::testing::countParams;

namespace {

/// Runs `f` and returns the med::Error message it throws ("" if none).
template <typename F> std::string errorOf(F f) {
  try {
    f();
  } catch (const med::Error &e) {
    return e.what();
  }
  return "";
}

/// Eval-mode batch norm with fresh statistics (mean 0, var 1) and the layer's affine params.
at::Tensor bnEval(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b) {
  return at::batch_norm(x, w, b, at::zeros({x.size(1)}), at::ones({x.size(1)}), false, 0.1, 1e-5,
                        false);
}

} // namespace

TEST(AHNet, Pseudo3DLayerMatchesPlainATenAndHandCount) {
  at::manual_seed(3);
  N::Pseudo3DLayer layer(3, 64, 20, 4, 0.0);
  // Hand count, 64 input channels, growth 20, bottleneck 4 * 20 = 80:
  //   bn1 2*64 = 128, conv1 64*80*1 = 5120, bn2 2*80 = 160, conv2 80*20*3*3*1 = 14400,
  //   bn3 2*20 = 40, conv3 20*20*1*1*3 = 1200, bn4 2*20 = 40, conv4 20*20 = 400
  //   -> 128 + 5120 + 160 + 14400 + 40 + 1200 + 40 + 400 = 21488 (no conv biases).
  EXPECT_EQ(countParams(*layer), 21488);

  auto P = layer->named_parameters();
  // Non-trivial affine parameters so a mixed-up norm shows.
  {
    torch::NoGradGuard g;
    for (const char *n : {"bn1", "bn2", "bn3", "bn4"}) {
      P[std::string(n) + ".weight"].uniform_(0.5, 1.5);
      P[std::string(n) + ".bias"].uniform_(-0.2, 0.2);
    }
  }
  layer->eval();
  at::Tensor x = at::randn({2, 64, 6, 5, 4});
  auto bnr = [&](const at::Tensor &t, const char *n) {
    return at::relu(bnEval(t, P[std::string(n) + ".weight"], P[std::string(n) + ".bias"]));
  };
  at::Tensor h = at::conv3d(bnr(x, "bn1"), P["conv1.weight"]);
  at::Tensor a = at::conv3d(bnr(h, "bn2"), P["conv2.weight"], {}, 1, {1, 1, 0});
  at::Tensor b = at::conv3d(bnr(a, "bn3"), P["conv3.weight"], {}, 1, {0, 0, 1});
  at::Tensor y = at::conv3d(bnr(a + b, "bn4"), P["conv4.weight"]);
  at::Tensor ref = at::cat({x, y}, 1);
  torch::NoGradGuard g;
  at::Tensor out = layer->forward(x);
  EXPECT_EQ(out.sizes(), at::IntArrayRef({2, 84, 6, 5, 4}));
  EXPECT_TRUE(at::allclose(out, ref, 1e-4, 1e-5));
}

TEST(AHNet, ParameterCountMatchesMonai) {
  // MONAI 1.4.0's AHNet(spatial_dims=3, in_channels=1, out_channels=2) has 38,134,944 parameters.
  N::AHNet net(N::AHNetOptions().out_channels(2));
  EXPECT_EQ(countParams(*net), 38134944);
  auto P = net->named_parameters();
  EXPECT_EQ(P["conv1.weight"].sizes(), at::IntArrayRef({64, 1, 7, 7, 3}));
  EXPECT_EQ(P["psp.up_modules.3.weight"].sizes(), at::IntArrayRef({1, 1, 64, 64, 1}));
  EXPECT_EQ(P["final.conv.weight"].sizes(), at::IntArrayRef({2, 128, 3, 3, 1}));
}

TEST(AHNet, Output3DShape) {
  at::manual_seed(0);
  // psp_block_num 3: the axes but the last must be multiples of 2^(3+3) = 64.
  N::AHNet net(N::AHNetOptions().out_channels(2).psp_block_num(3));
  net->eval();
  torch::NoGradGuard g;
  at::Tensor y = net->forward(at::randn({1, 1, 64, 64, 32}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({1, 2, 64, 64, 32}));
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
}

TEST(AHNet, Output2DShapeAndInterpolatingModes) {
  at::manual_seed(0);
  N::AHNet net(N::AHNetOptions().spatial_dims(2).in_channels(2).out_channels(3).psp_block_num(2));
  auto P = net->named_parameters();
  EXPECT_EQ(P["conv1.weight"].sizes(), at::IntArrayRef({64, 2, 7, 3}));
  // 2D pyramid pooling pools the first axis only.
  EXPECT_EQ(P["psp.up_modules.1.weight"].sizes(), at::IntArrayRef({1, 1, 16, 1}));
  net->eval();
  torch::NoGradGuard g;
  EXPECT_EQ(net->forward(at::randn({2, 2, 64, 32})).sizes(), at::IntArrayRef({2, 3, 64, 32}));

  N::AHNet bil(N::AHNetOptions()
                   .spatial_dims(2)
                   .layers({1, 1, 1, 1})
                   .psp_block_num(3)
                   .upsample_mode("bilinear"));
  EXPECT_FALSE(bil->named_parameters().contains("psp.up_modules.0.weight"));
  EXPECT_FALSE(bil->named_parameters().contains("final.up.weight"));
  bil->eval();
  EXPECT_EQ(bil->forward(at::randn({1, 1, 64, 32})).sizes(), at::IntArrayRef({1, 1, 64, 32}));

  N::AHNet nearest(
      N::AHNetOptions().layers({1, 1, 1, 1}).psp_block_num(1).upsample_mode("nearest"));
  nearest->eval();
  EXPECT_EQ(nearest->forward(at::randn({1, 1, 32, 32, 32})).sizes(),
            at::IntArrayRef({1, 1, 32, 32, 32}));
}

TEST(AHNet, BackwardGivesGradientsForAllParameters) {
  at::manual_seed(1);
  N::AHNet net(N::AHNetOptions().layers({1, 1, 1, 1}).out_channels(2).psp_block_num(2));
  net->train();
  net->forward(at::randn({1, 1, 64, 64, 32})).square().mean().backward();
  for (const auto &p : net->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(at::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
}

TEST(AHNet, InputSizeErrors) {
  N::AHNet net(N::AHNetOptions().layers({1, 1, 1, 1}));
  // psp_block_num 4: multiples of 2^(4+3) = 128 in the first two axes.
  std::string msg = errorOf([&] { net->forward(at::randn({1, 1, 64, 64, 32})); });
  EXPECT_NE(msg.find("AHNet.input"), std::string::npos) << msg;
  EXPECT_NE(msg.find("128"), std::string::npos) << msg;
  // The last axis: multiples of 32.
  msg = errorOf([&] { net->forward(at::randn({1, 1, 128, 128, 48})); });
  EXPECT_NE(msg.find("AHNet.input"), std::string::npos) << msg;
  EXPECT_NE(msg.find("multiple of 32"), std::string::npos) << msg;
  msg = errorOf([&] { net->forward(at::randn({1, 2, 128, 128, 32})); });
  EXPECT_NE(msg.find("AHNet.input"), std::string::npos) << msg;
}

TEST(AHNet, OptionErrors) {
  auto err = [](N::AHNetOptions o) { return errorOf([&] { N::AHNet net(o); }); };
  EXPECT_NE(err(N::AHNetOptions().pretrained(true)).find("AHNet.pretrained"), std::string::npos);
  EXPECT_NE(err(N::AHNetOptions().upsample_mode("bicubic")).find("AHNet.upsample_mode"),
            std::string::npos);
  EXPECT_NE(
      err(N::AHNetOptions().spatial_dims(2).upsample_mode("trilinear")).find("AHNet.upsample_mode"),
      std::string::npos);
  EXPECT_NE(err(N::AHNetOptions().psp_block_num(5)).find("AHNet.psp_block_num"), std::string::npos);
  EXPECT_NE(err(N::AHNetOptions().spatial_dims(1)).find("AHNet.spatial_dims"), std::string::npos);
  EXPECT_NE(err(N::AHNetOptions().layers({3, 4, 6})).find("AHNet.layers"), std::string::npos);
}
