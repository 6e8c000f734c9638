// RegUNet, LocalNet, GlobalNet and their blocks: parameter counts and state_dict keys of tiny
// configurations written out by hand from MONAI's module tree, an eval-mode forward against plain
// ATen ops, the affine head by hand, output shapes in 2D and 3D, gradients, initialisers and
// invalid configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/blocks/regunet_block.h"
#include "med/networks/nets/regunet.h"
#include "net_test_util.h"

namespace B = med::networks::blocks;
namespace N = med::networks::nets;

using med::networks::testing::countParams;
using med::networks::testing::errorWhere;
using med::networks::testing::stateDictKeys;

namespace {

/// The five state-dict entries of a BatchNorm at `prefix`.
void bn(std::vector<std::string> &keys, const std::string &prefix) {
  for (const char *s :
       {".weight", ".bias", ".running_mean", ".running_var", ".num_batches_tracked"})
    keys.push_back(prefix + s);
}

} // namespace

TEST(RegUNet, ParameterCountsByHand) {
  // spatial 2, in 2, num_channel_initial 2, depth 2: channels (2, 4, 8); no conv has a bias.
  // encode_convs.0: conv 2->2 (36) + BN 4; residual 2 x (36 + BN 4) = 80       -> 120
  // encode_convs.1: conv 2->4 (72) + BN 8; residual 2 x (144 + BN 8) = 304     -> 384
  // bottom_block:   conv 4->8 (288) + BN 16; residual 2 x (576 + BN 16) = 1184 -> 1488
  // default extract_levels (2,): no decoder; output_block.layers.0: conv 8->3 -> 216
  EXPECT_EQ(countParams(*N::RegUNet(N::RegUNetOptions(2, 2, 2, 2))), 120 + 384 + 1488 + 216);
  // pooling false: encode_pools.0 conv 2->2 k2 (16) + BN 4; encode_pools.1 4->4 k2 (64) + BN 8.
  EXPECT_EQ(countParams(*N::RegUNet(N::RegUNetOptions(2, 2, 2, 2).pooling(false))),
            120 + 384 + 1488 + 216 + 20 + 72);
  // extract_levels (0, 1, 2) decodes levels 1 and 0:
  // decode_deconvs.0: convT 8->4 (288) + BN 8 = 296; decode_deconvs.1: 4->2 (72) + BN 4 = 76
  // decode_convs.0: conv 4->4 (144) + BN 8 + residual 304 = 456; decode_convs.1: 40 + 80 = 120
  // output_block: convs 2->3 (54), 4->3 (108), 8->3 (216) = 378
  auto levels = N::RegUNetOptions(2, 2, 2, 2).extract_levels({0, 1, 2});
  EXPECT_EQ(countParams(*N::RegUNet(levels)), 120 + 384 + 1488 + 296 + 76 + 456 + 120 + 378);
  // concat_skip doubles the decode conv inputs: 8->4 (288) instead of 144, 4->2 (72) instead of 36.
  EXPECT_EQ(countParams(*N::RegUNet(levels.concat_skip(true))), 3318 + 144 + 36);
  // encode_kernel_sizes (5, 3, 1): level-0 convs 2->2 k5 = 100 each (3 of them) instead of 36;
  // bottom convs k1: 32 + 64 + 64 instead of 288 + 576 + 576.
  EXPECT_EQ(countParams(*N::RegUNet(N::RegUNetOptions(2, 2, 2, 2).encode_kernel_sizes({5, 3, 1}))),
            2208 + 3 * (100 - 36) - (288 + 576 + 576) + (32 + 64 + 64));
}

TEST(RegUNet, StateDictKeysAsMonai) {
  auto net = N::RegUNet(N::RegUNetOptions(2, 1, 2, 1).extract_levels({0, 1}).pooling(false));
  std::vector<std::string> want{"encode_convs.0.0.conv.weight"};
  bn(want, "encode_convs.0.0.adn.N");
  want.push_back("encode_convs.0.1.layers.0.conv.weight");
  want.push_back("encode_convs.0.1.layers.1.conv.weight");
  bn(want, "encode_convs.0.1.norms.0");
  bn(want, "encode_convs.0.1.norms.1");
  want.push_back("encode_pools.0.layer.conv.weight");
  bn(want, "encode_pools.0.layer.adn.N");
  want.push_back("bottom_block.0.conv.weight");
  bn(want, "bottom_block.0.adn.N");
  want.push_back("bottom_block.1.layers.0.conv.weight");
  want.push_back("bottom_block.1.layers.1.conv.weight");
  bn(want, "bottom_block.1.norms.0");
  bn(want, "bottom_block.1.norms.1");
  want.push_back("decode_deconvs.0.conv.weight");
  bn(want, "decode_deconvs.0.adn.N");
  want.push_back("decode_convs.0.0.conv.weight");
  bn(want, "decode_convs.0.0.adn.N");
  want.push_back("decode_convs.0.1.layers.0.conv.weight");
  want.push_back("decode_convs.0.1.layers.1.conv.weight");
  bn(want, "decode_convs.0.1.norms.0");
  bn(want, "decode_convs.0.1.norms.1");
  want.push_back("output_block.layers.0.conv.weight");
  want.push_back("output_block.layers.1.conv.weight");
  EXPECT_EQ(stateDictKeys(*net), want);
  auto P = net->named_parameters();
  EXPECT_EQ(P["decode_deconvs.0.conv.weight"].sizes(), at::IntArrayRef({4, 2, 3, 3}));
  EXPECT_EQ(P["encode_pools.0.layer.conv.weight"].sizes(), at::IntArrayRef({2, 2, 2, 2}));
  EXPECT_EQ(P["output_block.layers.1.conv.weight"].sizes(), at::IntArrayRef({3, 4, 3, 3}));
}

TEST(RegUNet, EvalForwardMatchesPlainATen) {
  at::manual_seed(5);
  auto net = N::RegUNet(N::RegUNetOptions(2, 1, 2, 1).extract_levels({0, 1}));
  med::networks::testing::randomizeRunningMeans(*net);
  net->eval();
  auto P = net->named_parameters();
  auto Bf = net->named_buffers();
  auto norm = [&](const at::Tensor &h, const std::string &n) {
    return at::batch_norm(h, P[n + ".weight"], P[n + ".bias"], Bf[n + ".running_mean"],
                          Bf[n + ".running_var"], false, 0.1, 1e-5, false);
  };
  auto conv = [&](const at::Tensor &h, const std::string &w) {
    return at::conv2d(h, P[w], {}, 1, 1);
  };
  auto convBlock = [&](const at::Tensor &h, const std::string &p) {
    return at::relu(norm(conv(h, p + ".conv.weight"), p + ".adn.N"));
  };
  auto residual = [&](const at::Tensor &h, const std::string &p) {
    at::Tensor t = at::relu(norm(conv(h, p + ".layers.0.conv.weight"), p + ".norms.0"));
    return at::relu(norm(conv(t, p + ".layers.1.conv.weight"), p + ".norms.1") + h);
  };
  at::Tensor x = at::randn({2, 1, 8, 6});
  at::Tensor e0 = residual(convBlock(x, "encode_convs.0.0"), "encode_convs.0.1");
  at::Tensor b = at::max_pool2d(e0, {2, 2});
  b = residual(convBlock(b, "bottom_block.0"), "bottom_block.1");
  at::Tensor up = at::conv_transpose2d(b, P["decode_deconvs.0.conv.weight"], {}, 2, 1, 1);
  up = at::relu(norm(up, "decode_deconvs.0.adn.N"));
  at::Tensor d0 = residual(convBlock(up + e0, "decode_convs.0.0"), "decode_convs.0.1");
  at::Tensor f0 = conv(d0, "output_block.layers.0.conv.weight");
  at::Tensor f1 = at::upsample_nearest2d(conv(b, "output_block.layers.1.conv.weight"), {8, 6});
  at::Tensor ref = (f0 + f1) / 2;
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 3, 8, 6}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(RegUNet, ShapesGradientsAndInitialisers) {
  auto net3 = N::RegUNet(N::RegUNetOptions(3, 2, 2, 2).out_channels(1));
  EXPECT_EQ(net3->forward(at::randn({2, 2, 8, 4, 4})).sizes(), at::IntArrayRef({2, 1, 8, 4, 4}));

  auto net = N::RegUNet(N::RegUNetOptions(2, 2, 2, 2)
                            .extract_levels({0, 1, 2})
                            .concat_skip(true)
                            .pooling(false)
                            .out_activation(N::LayerSpec("TANH")));
  at::Tensor y = net->forward(at::randn({2, 2, 8, 12}));
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 3, 8, 12}));
  EXPECT_LE(y.abs().max().item<float>(), 1.f); // mean of tanh outputs
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined() && p.value().grad().abs().sum().item<float>() > 0)
        << p.key();

  // "zeros" zeroes the extraction convs: the output is exactly 0. "kaiming_uniform" draws them
  // from N(0, 2 / fan_in) (MONAI calls kaiming_normal_): fan_in 8 * 9 gives std 1/6.
  auto zeros = N::RegUNet(N::RegUNetOptions(2, 1, 4, 1).out_kernel_initializer("zeros"));
  EXPECT_TRUE(at::equal(zeros->forward(at::randn({2, 1, 4, 4})), at::zeros({2, 3, 4, 4})));
  at::manual_seed(0);
  auto wide = N::RegUNet(N::RegUNetOptions(2, 1, 4, 1).out_channels(400));
  at::Tensor w = wide->named_parameters()["output_block.layers.0.conv.weight"];
  EXPECT_NEAR(w.std().item<double>(), 1.0 / 6.0, 0.01);
}

TEST(RegUNet, BlocksAndInvalidConfigs) {
  B::RegistrationDownSampleBlock down(2, 3, true);
  at::Tensor x = at::randn({1, 3, 4, 6});
  EXPECT_TRUE(at::equal(down->forward(x), at::max_pool2d(x, {2, 2})));
  EXPECT_EQ(errorWhere([&] {
              down->forward(at::randn({1, 3, 4, 5}));
            }),
            "RegistrationDownSampleBlock.input");
  B::RegistrationResidualConvBlock res(3, 4, 4);
  EXPECT_EQ(res->forward(at::randn({2, 4, 3, 3, 3})).sizes(), at::IntArrayRef({2, 4, 3, 3, 3}));
  auto deconv = B::get_deconv_block(3, 4, 2);
  EXPECT_EQ(deconv->forward(at::randn({2, 4, 2, 3, 2})).sizes(), at::IntArrayRef({2, 2, 4, 6, 4}));

  auto net = N::RegUNet(N::RegUNetOptions(2, 1, 2, 2));
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({1, 1, 8, 6})); }), "RegUNet.input");
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({1, 2, 8, 8})); }), "RegUNet.input");
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({1, 1, 8, 8, 8})); }), "RegUNet.input");
  EXPECT_EQ(errorWhere([] {
              N::RegUNet(N::RegUNetOptions(2, 1, 2, 2).extract_levels({0, 1}));
            }),
            "RegUNet.extract_levels");
  EXPECT_EQ(errorWhere([] {
              N::RegUNet(N::RegUNetOptions(2, 1, 2, 2).extract_levels({-1, 2}));
            }),
            "RegUNet.extract_levels");
  EXPECT_EQ(errorWhere([] {
              N::RegUNet(N::RegUNetOptions(2, 1, 2, 2).encode_kernel_sizes({3, 3}));
            }),
            "RegUNet.encode_kernel_sizes");
  EXPECT_EQ(errorWhere([] { N::RegUNet(N::RegUNetOptions(2, 1, 2, 0)); }), "RegUNet.depth");
  EXPECT_EQ(errorWhere([] { N::RegUNet(N::RegUNetOptions(4, 1, 2, 1)); }), "RegUNet.spatial_dims");
  EXPECT_EQ(errorWhere(
                [] { N::RegUNet(N::RegUNetOptions(2, 1, 2, 1).out_kernel_initializer("xavier")); }),
            "get_conv_block.initializer");
}

TEST(LocalNet, CountKeysAndAdditiveUpSampling) {
  // spatial 2, in 2, num_channel_initial 2, extract_levels (0, 1, 2): depth 2, kernels 7, 3, 3.
  // encode_convs.0: conv 2->2 k7 (196) + BN 4; residual 2 x (196 + 4)              -> 600
  // encode_convs.1: conv 2->4 (72) + BN 8; residual 304                             -> 384
  // bottom_block: conv 4->8 (288) + BN 16 only                                      -> 304
  // decode_deconvs: deconv 8->4 (288) + BN 8 = 296, 4->2 (72) + BN 4 = 76; decode_convs 456 + 120
  // output_block: 54 + 108 + 216 = 378
  auto net = N::LocalNet(N::LocalNetOptions(2, 2, 2, {0, 1, 2}));
  EXPECT_EQ(countParams(*net), 600 + 384 + 304 + 296 + 76 + 456 + 120 + 378);
  auto keys = stateDictKeys(*net);
  auto has = [&](const std::string &k) { return std::count(keys.begin(), keys.end(), k) == 1; };
  EXPECT_TRUE(has("bottom_block.conv.weight") && has("bottom_block.adn.N.running_var"));
  EXPECT_FALSE(has("bottom_block.1.layers.0.conv.weight"));
  EXPECT_TRUE(has("decode_deconvs.0.deconv.conv.weight") &&
              has("decode_deconvs.1.deconv.adn.N.bias"));
  EXPECT_EQ(net->named_parameters()["encode_convs.0.0.conv.weight"].sizes(),
            at::IntArrayRef({2, 2, 7, 7}));
  auto plain = N::LocalNet(N::LocalNetOptions(2, 2, 2, {0, 1, 2}).use_additive_sampling(false));
  EXPECT_EQ(countParams(*plain), 2614);
  EXPECT_TRUE(plain->named_parameters().contains("decode_deconvs.0.conv.weight"));

  at::Tensor y = net->forward(at::randn({2, 2, 8, 12}));
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 3, 8, 12}));
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  auto net3 = N::LocalNet(N::LocalNetOptions(3, 1, 2, {1, 2}).out_channels(3).mode("trilinear"));
  EXPECT_EQ(net3->forward(at::randn({2, 1, 4, 8, 4})).sizes(), at::IntArrayRef({2, 3, 4, 8, 4}));

  // The block: deconv(x) + the two channel halves of x resized x2 (nearest), summed.
  B::AdditiveUpSampleBlock up(2, 4, 2);
  up->eval();
  auto deconv = std::dynamic_pointer_cast<B::ConvolutionImpl>(up->named_children()["deconv"]);
  ASSERT_TRUE(deconv);
  at::Tensor x = at::randn({1, 4, 3, 2});
  at::Tensor r = at::upsample_nearest2d(x, {6, 4});
  torch::NoGradGuard g;
  EXPECT_TRUE(at::allclose(up->forward(x), deconv->forward(x) + r.slice(1, 0, 2) + r.slice(1, 2, 4),
                           1e-5, 1e-6));
  EXPECT_EQ(errorWhere([] { B::AdditiveUpSampleBlock(2, 4, 3); }),
            "AdditiveUpSampleBlock.in_channels");
  EXPECT_EQ(errorWhere([&] { B::AdditiveUpSampleBlock(2, 4, 2, "trilinear")->forward(x); }),
            "AdditiveUpSampleBlock.mode");
  EXPECT_EQ(errorWhere([] { N::LocalNet(N::LocalNetOptions(2, 1, 2, {})); }),
            "LocalNet.extract_levels");
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({1, 2, 8, 6})); }), "LocalNet.input");
}

TEST(GlobalNet, AffineHeadByHand) {
  // Encoder as RegUNet(2, 2, 2, depth 2): 120 + 384 + 1488; AffineHead fc: 8 channels x (8/4 x
  // 12/4) = 48 features -> 6: 288 + 6.
  auto net = N::GlobalNet(N::GlobalNetOptions({8, 12}, 2, 2, 2, 2).save_theta(true));
  EXPECT_EQ(countParams(*net), 1992 + 294);
  auto keys = stateDictKeys(*net);
  EXPECT_EQ(std::vector<std::string>(keys.end() - 2, keys.end()),
            (std::vector<std::string>{"output_block.fc.weight", "output_block.fc.bias"}));
  at::Tensor x = at::randn({2, 2, 8, 12});
  // Initially theta is the identity: a zero displacement field.
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 2, 8, 12}));
  EXPECT_TRUE(at::allclose(y, at::zeros_like(y), 0, 1e-6));
  EXPECT_TRUE(
      at::allclose(net->theta(), at::tensor({1.f, 0.f, 0.f, 0.f, 1.f, 0.f}).expand({2, 6})));
  // theta = [[1, 0.5, 2], [0, 1, -1]]: ddf0(i, j) = 0.5 j + 2, ddf1(i, j) = -1.
  {
    torch::NoGradGuard g;
    net->named_parameters()["output_block.fc.bias"].copy_(
        at::tensor({1.f, 0.5f, 2.f, 0.f, 1.f, -1.f}));
  }
  y = net->forward(x);
  at::Tensor j = at::arange(12, at::kFloat).expand({8, 12});
  EXPECT_TRUE(at::allclose(y.select(1, 0), (0.5 * j + 2).expand({2, 8, 12}), 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(y.select(1, 1), at::full({2, 8, 12}, -1.f), 1e-5, 1e-5));
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();

  auto net3 = N::GlobalNet(N::GlobalNetOptions({4, 8, 4}, 3, 1, 2, 1));
  EXPECT_EQ(net3->forward(at::randn({2, 1, 4, 8, 4})).sizes(), at::IntArrayRef({2, 3, 4, 8, 4}));
  EXPECT_EQ(errorWhere([] {
              N::GlobalNet(N::GlobalNetOptions({8, 10}, 2, 1, 2, 2));
            }),
            "GlobalNet.image_size");
  EXPECT_EQ(errorWhere([&] { net3->forward(at::randn({2, 1, 8, 8, 4})); }), "GlobalNet.input");
}
