// SegResNetVAE: parameter count and state-dict keys of a tiny 2D configuration worked out by hand
// from MONAI's module structure, the segmentation and the VAE loss against the same computation
// written with plain ATen ops (same seeded latent noise), shapes, gradients and errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/segresnet_vae.h"
#include "net_test_util.h"

namespace N = med::networks::nets;
using med::networks::testing::countParams;
using med::networks::testing::errorWhere;
using med::networks::testing::stateDictKeys;

namespace {

/// 2D, 8 filters, two levels, 8x8 images, 4 latent variables.
N::SegResNetVAEOptions tinyOptions() {
  return N::SegResNetVAEOptions({8, 8})
      .vae_nz(4)
      .spatial_dims(2)
      .init_filters(8)
      .in_channels(1)
      .out_channels(2)
      .blocks_down({1, 1})
      .blocks_up({1});
}

/// Segmentation and VAE loss of the tiny network, written with plain ATen ops from the
/// parameters (8 groups in every GroupNorm; `noise` is the latent draw).
std::pair<at::Tensor, at::Tensor> reference(torch::nn::Module &net, const at::Tensor &x,
                                            const at::Tensor &noise, bool estimateStd) {
  auto P = net.named_parameters();
  auto gnRelu = [&](const at::Tensor &t, const std::string &pre) {
    return at::relu(at::group_norm(t, 8, P[pre + "weight"], P[pre + "bias"]));
  };
  auto resBlock = [&](const at::Tensor &in, const std::string &pre) {
    at::Tensor h = at::conv2d(gnRelu(in, pre + "norm1."), P[pre + "conv1.conv.weight"], {}, 1, 1);
    return at::conv2d(gnRelu(h, pre + "norm2."), P[pre + "conv2.conv.weight"], {}, 1, 1) + in;
  };
  // The shared decoder level: 1x1 conv 16 -> 8, bilinear x2, ResBlock(8).
  auto upLevel = [&](const at::Tensor &in, const at::Tensor &skip) {
    at::Tensor u = at::conv2d(in, P["up_samples.0.0.conv.weight"]);
    u = at::upsample_bilinear2d(u, {u.size(2) * 2, u.size(3) * 2}, false);
    return resBlock(skip.defined() ? u + skip : u, "up_layers.0.0.");
  };
  at::Tensor d0 = resBlock(at::conv2d(x, P["convInit.conv.weight"], {}, 1, 1), "down_layers.0.1.");
  at::Tensor d1 = at::conv2d(d0, P["down_layers.1.0.conv.weight"], {}, 2, 1);
  d1 = resBlock(d1, "down_layers.1.1.");
  at::Tensor seg = at::conv2d(gnRelu(upLevel(d1, d0), "conv_final.0."),
                              P["conv_final.2.conv.weight"], P["conv_final.2.conv.bias"]);

  at::Tensor v = at::conv2d(gnRelu(d1, "vae_down.0."), P["vae_down.2.conv.weight"],
                            P["vae_down.2.conv.bias"], 2, 1); // (B, 16, 2, 2)
  v = gnRelu(v, "vae_down.3.").reshape({x.size(0), 64});      // 16 * 2 * 2
  at::Tensor zm = at::linear(v, P["vae_fc1.weight"], P["vae_fc1.bias"]);
  at::Tensor reg, z;
  if (estimateStd) {
    at::Tensor s = at::log1p(at::exp(at::linear(v, P["vae_fc2.weight"], P["vae_fc2.bias"])));
    reg = 0.5 * at::mean(zm * zm + s * s - at::log(1e-8 + s * s) - 1);
    z = zm + s * noise;
  } else {
    reg = at::mean(zm * zm);
    z = zm + 0.3 * noise;
  }
  at::Tensor r = at::relu(at::linear(z, P["vae_fc3.weight"], P["vae_fc3.bias"]));
  r = at::conv2d(r.reshape({x.size(0), 16, 2, 2}), P["vae_fc_up_sample.0.conv.weight"]);
  r = gnRelu(at::upsample_bilinear2d(r, {4, 4}, false), "vae_fc_up_sample.2.");
  r = upLevel(r, at::Tensor());
  r = at::conv2d(gnRelu(r, "vae_conv_final.0."), P["vae_conv_final.2.conv.weight"],
                 P["vae_conv_final.2.conv.bias"]);
  return {seg, reg + at::mean((r - x) * (r - x))};
}

} // namespace

TEST(SegResNetVAE, TinyCountAndKeysByHand) {
  auto net = N::SegResNetVAE(tinyOptions());
  // ResBlock(c) = 2 GroupNorms (2c each) + 2 bias-free Conv(c->c, k3): 4c + 18c^2
  // SegResNet part:
  //   convInit Conv(1->8, k3) 72
  //   down_layers.0: ResBlock(8) = 32 + 1152 = 1184
  //   down_layers.1: Conv(8->16, k3, s2) 1152 + ResBlock(16) = 64 + 4608 -> 5824
  //   up_layers.0: ResBlock(8) 1184; up_samples.0: Conv(16->8, k1) 128
  //   conv_final: GroupNorm(8) 16 + Conv(8->2, k1, bias) 18 -> 34
  // VAE part (v_filters = 8 * 2 = 16, fc_insize = 8 // 4 = 2, total_elements = 16 * 2 * 2 = 64):
  //   vae_down: GroupNorm(16) 32 + Conv(16->16, k3, s2, bias) 2320 + GroupNorm(16) 32 -> 2384
  //   vae_fc1, vae_fc2: Linear(64->4) 260 each; vae_fc3: Linear(4->64) 320
  //   vae_fc_up_sample: Conv(16->16, k1) 256 + GroupNorm(16) 32 -> 288
  //   vae_conv_final: GroupNorm(8) 16 + Conv(8->1, k1, bias) 9 -> 25
  EXPECT_EQ(countParams(*net),
            72 + 1184 + 5824 + 1184 + 128 + 34 + (2384 + 260 + 260 + 320 + 288 + 25));
  auto res = [](const std::string &p) {
    return std::vector<std::string>{p + "norm1.weight",      p + "norm1.bias",
                                    p + "norm2.weight",      p + "norm2.bias",
                                    p + "conv1.conv.weight", p + "conv2.conv.weight"};
  };
  std::vector<std::string> expected = {"convInit.conv.weight"};
  auto add = [&](const std::vector<std::string> &v) {
    expected.insert(expected.end(), v.begin(), v.end());
  };
  add(res("down_layers.0.1."));
  add({"down_layers.1.0.conv.weight"});
  add(res("down_layers.1.1."));
  add(res("up_layers.0.0."));
  add({"up_samples.0.0.conv.weight",
       "conv_final.0.weight",
       "conv_final.0.bias",
       "conv_final.2.conv.weight",
       "conv_final.2.conv.bias",
       "vae_down.0.weight",
       "vae_down.0.bias",
       "vae_down.2.conv.weight",
       "vae_down.2.conv.bias",
       "vae_down.3.weight",
       "vae_down.3.bias",
       "vae_fc1.weight",
       "vae_fc1.bias",
       "vae_fc2.weight",
       "vae_fc2.bias",
       "vae_fc3.weight",
       "vae_fc3.bias",
       "vae_fc_up_sample.0.conv.weight",
       "vae_fc_up_sample.2.weight",
       "vae_fc_up_sample.2.bias",
       "vae_conv_final.0.weight",
       "vae_conv_final.0.bias",
       "vae_conv_final.2.conv.weight",
       "vae_conv_final.2.conv.bias"});
  std::vector<std::string> keys;
  for (const auto &p : net->named_parameters())
    keys.push_back(p.key());
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(net->named_buffers().size(), 0u); // GroupNorm has no running statistics
}

TEST(SegResNetVAE, TrainForwardAndLossMatchPlainATen) {
  for (bool estimateStd : {false, true}) {
    auto net = N::SegResNetVAE(tinyOptions().vae_estimate_std(estimateStd));
    net->train();
    at::manual_seed(3);
    at::Tensor x = at::randn({2, 1, 8, 8});
    torch::NoGradGuard g;
    at::manual_seed(11); // the latent noise is the only random draw of the forward pass
    auto [seg, loss] = net->forward(x);
    at::manual_seed(11);
    at::Tensor noise = at::randn({2, 4});
    auto [refSeg, refLoss] = reference(*net, x, noise, estimateStd);
    ASSERT_EQ(seg.sizes(), at::IntArrayRef({2, 2, 8, 8}));
    EXPECT_TRUE(at::allclose(seg, refSeg, 1e-4, 1e-5)) << estimateStd;
    ASSERT_EQ(loss.dim(), 0);
    EXPECT_NEAR(loss.item<double>(), refLoss.item<double>(), 1e-5 * refLoss.item<double>())
        << estimateStd;
    // A fresh draw changes the loss but not the segmentation.
    auto [seg2, loss2] = net->forward(x);
    EXPECT_TRUE(at::allclose(seg2, seg));
    EXPECT_NE(loss2.item<double>(), loss.item<double>());
  }
}

TEST(SegResNetVAE, EvalReturnsNoLossAndVaeLossOnDemand) {
  auto net = N::SegResNetVAE(tinyOptions());
  at::manual_seed(5);
  at::Tensor x = at::randn({1, 1, 8, 8});
  torch::NoGradGuard g;
  net->eval();
  auto [seg, loss] = net->forward(x);
  EXPECT_FALSE(loss.defined()); // MONAI returns (x, None) in eval mode
  EXPECT_EQ(seg.sizes(), at::IntArrayRef({1, 2, 8, 8}));
  auto [deep, levels] = net->encode(x);
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(deep.sizes(), at::IntArrayRef({1, 16, 4, 4}));
  EXPECT_TRUE(at::equal(deep, levels.back()));
  at::manual_seed(2);
  at::Tensor l = net->vae_loss(x, deep);
  at::manual_seed(2);
  auto ref = reference(*net, x, at::randn({1, 4}), false).second;
  EXPECT_NEAR(l.item<double>(), ref.item<double>(), 1e-5 * ref.item<double>());
}

TEST(SegResNetVAE, Shapes3DAndGradients) {
  auto opts = N::SegResNetVAEOptions({8, 8, 16})
                  .vae_nz(8)
                  .in_channels(2)
                  .out_channels(3)
                  .blocks_down({1, 1})
                  .blocks_up({1})
                  .dropout_prob(0.1);
  for (bool estimateStd : {false, true}) {
    auto net = N::SegResNetVAE(opts.vae_estimate_std(estimateStd));
    auto [seg, loss] = net->forward(at::randn({2, 2, 8, 8, 16}));
    EXPECT_EQ(seg.sizes(), at::IntArrayRef({2, 3, 8, 8, 16}));
    (seg.mean() + loss).backward();
    for (const auto &p : net->named_parameters()) {
      // Without vae_estimate_std, vae_fc2 exists (as in MONAI) but is unused.
      if (!estimateStd && p.key().rfind("vae_fc2.", 0) == 0)
        EXPECT_FALSE(p.value().grad().defined()) << p.key();
      else
        EXPECT_TRUE(p.value().grad().defined()) << p.key();
    }
  }
  auto deconv = N::SegResNetVAE(tinyOptions().upsample_mode("deconv").use_conv_final(false));
  EXPECT_TRUE(deconv->named_parameters().contains("vae_fc_up_sample.1.deconv.weight"));
  auto [seg, loss] = deconv->forward(at::randn({1, 1, 8, 8}));
  EXPECT_EQ(seg.sizes(), at::IntArrayRef({1, 8, 8, 8})); // init_filters without conv_final
  EXPECT_TRUE(loss.defined());
}

TEST(SegResNetVAE, InvalidConfigurationsThrow) {
  auto net = N::SegResNetVAE(tinyOptions());
  // Inputs must have exactly input_image_size (the VAE's fc layers depend on it).
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({1, 1, 16, 16})); }), "SegResNetVAE.input");
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({1, 2, 8, 8})); }), "SegResNetVAE.input");
  EXPECT_EQ(errorWhere([] {
              N::SegResNetVAE(N::SegResNetVAEOptions({8, 8, 8}));
            }),
            "SegResNetVAE.input_image_size"); // 8 % 2^4 != 0 with the default 4 levels
  EXPECT_EQ(errorWhere([] { N::SegResNetVAE(tinyOptions().input_image_size({8})); }),
            "SegResNetVAE.input_image_size");
  EXPECT_EQ(errorWhere([] {
              N::SegResNetVAE(tinyOptions().input_image_size({8, 6}));
            }),
            "SegResNetVAE.input_image_size");
  EXPECT_EQ(errorWhere([] { N::SegResNetVAE(tinyOptions().blocks_up({})); }),
            "SegResNetVAE.blocks_up");
  EXPECT_EQ(errorWhere([] { N::SegResNetVAE(tinyOptions().spatial_dims(1)); }),
            "SegResNetVAE.spatial_dims");
  EXPECT_EQ(errorWhere([] { N::SegResNetVAE(tinyOptions().upsample_mode("pixelshuffle")); }),
            "SegResNetVAE.upsample_mode");
  EXPECT_EQ(errorWhere([] { N::SegResNetVAE(tinyOptions().vae_nz(0)); }), "SegResNetVAE.vae_nz");
}
