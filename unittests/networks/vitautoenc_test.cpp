// ViTAutoEnc: parameter count and state-dict keys of a tiny configuration worked out by hand
// from MONAI's module structure, the decoder path against plain ATen ops, 2D / 3D and
// anisotropic shapes, gradients and errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/vitautoenc.h"
#include "net_test_util.h"

namespace N = med::networks::nets;
using med::networks::testing::countParams;
using med::networks::testing::errorWhere;
using med::networks::testing::stateDictKeys;

namespace {

/// 2D 8x8 images, 4x4 patches (a 2x2 grid, each transposed conv up-samples by 2).
N::ViTAutoEncOptions tinyOptions() {
  return N::ViTAutoEncOptions(1, {8, 8}, {4})
      .out_channels(2)
      .deconv_chns(3)
      .hidden_size(4)
      .mlp_dim(8)
      .num_layers(1)
      .num_heads(2)
      .spatial_dims(2);
}

} // namespace

TEST(ViTAutoEnc, TinyCountAndKeysByHand) {
  auto net = N::ViTAutoEnc(tinyOptions());
  // patch_embedding: Conv2d(1->4, k4, s4) 4*16 + 4 = 68; position_embeddings 4 patches * 4 = 16
  // blocks.0: mlp Linear(4->8) 40 + Linear(8->4) 36 = 76; norm1, norm2, norm_cross_attn 3 * 8;
  //           attn out_proj 16 + 4, qkv 4 * 12 (no bias) -> 68;
  //           cross_attn out_proj 20 + to_q, to_k, to_v 3 * 16 -> 68
  // norm 8; conv3d_transpose ConvTranspose2d(4->3, k2) 4*3*4 + 3 = 51;
  // conv3d_transpose_1 ConvTranspose2d(3->2, k2) 3*2*4 + 2 = 26
  EXPECT_EQ(countParams(*net), 68 + 16 + (76 + 24 + 68 + 68) + 8 + 51 + 26);
  std::vector<std::string> expected = {"patch_embedding.position_embeddings",
                                       "patch_embedding.patch_embeddings.weight",
                                       "patch_embedding.patch_embeddings.bias",
                                       "blocks.0.mlp.linear1.weight",
                                       "blocks.0.mlp.linear1.bias",
                                       "blocks.0.mlp.linear2.weight",
                                       "blocks.0.mlp.linear2.bias",
                                       "blocks.0.norm1.weight",
                                       "blocks.0.norm1.bias",
                                       "blocks.0.attn.out_proj.weight",
                                       "blocks.0.attn.out_proj.bias",
                                       "blocks.0.attn.qkv.weight",
                                       "blocks.0.norm2.weight",
                                       "blocks.0.norm2.bias",
                                       "blocks.0.norm_cross_attn.weight",
                                       "blocks.0.norm_cross_attn.bias",
                                       "blocks.0.cross_attn.out_proj.weight",
                                       "blocks.0.cross_attn.out_proj.bias",
                                       "blocks.0.cross_attn.to_q.weight",
                                       "blocks.0.cross_attn.to_k.weight",
                                       "blocks.0.cross_attn.to_v.weight",
                                       "norm.weight",
                                       "norm.bias",
                                       "conv3d_transpose.weight",
                                       "conv3d_transpose.bias",
                                       "conv3d_transpose_1.weight",
                                       "conv3d_transpose_1.bias"};
  std::vector<std::string> keys;
  for (const auto &p : net->named_parameters())
    keys.push_back(p.key());
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(net->named_parameters()["conv3d_transpose.weight"].sizes(),
            at::IntArrayRef({4, 3, 2, 2}));
  EXPECT_EQ(net->named_buffers().size(), 0u);
}

TEST(ViTAutoEnc, MatchesPlainATen) {
  torch::NoGradGuard g;
  at::Tensor x = at::randn({2, 1, 8, 8});
  // No transformer block: patch conv + position, LayerNorm, tokens back on the 2x2 grid, two
  // transposed convs with kernel = stride = 2.
  auto net = N::ViTAutoEnc(tinyOptions().num_layers(0));
  auto P = net->named_parameters();
  auto decode = [&](const at::Tensor &tokens) { // (B, 4 patches, 4 hidden)
    at::Tensor t = at::layer_norm(tokens, {4}, P["norm.weight"], P["norm.bias"]);
    t = t.transpose(1, 2).reshape({2, 4, 2, 2});
    t = at::conv_transpose2d(t, P["conv3d_transpose.weight"], P["conv3d_transpose.bias"], 2);
    return at::conv_transpose2d(t, P["conv3d_transpose_1.weight"], P["conv3d_transpose_1.bias"], 2);
  };
  at::Tensor emb = at::conv2d(x, P["patch_embedding.patch_embeddings.weight"],
                              P["patch_embedding.patch_embeddings.bias"], 4);
  emb = emb.flatten(2).transpose(1, 2) + P["patch_embedding.position_embeddings"];
  N::ViTAutoEncOutput y = net->forward(x);
  ASSERT_EQ(y.x.sizes(), at::IntArrayRef({2, 2, 8, 8}));
  EXPECT_TRUE(y.hidden_states_out.empty());
  EXPECT_TRUE(at::allclose(y.x, decode(emb), 1e-5, 1e-6));
  // With blocks, the decoder reads the last block's output.
  auto deep = N::ViTAutoEnc(tinyOptions().num_layers(2));
  P = deep->named_parameters();
  y = deep->forward(x);
  ASSERT_EQ(y.hidden_states_out.size(), 2u);
  EXPECT_EQ(y.hidden_states_out[0].sizes(), at::IntArrayRef({2, 4, 4}));
  EXPECT_TRUE(at::allclose(y.x, decode(y.hidden_states_out[1]), 1e-5, 1e-6));
}

TEST(ViTAutoEnc, Shapes3DAnisotropicAndGradients) {
  auto net = N::ViTAutoEnc(N::ViTAutoEncOptions(2, {16, 8, 4}, {16, 4, 1})
                               .out_channels(3)
                               .deconv_chns(5)
                               .hidden_size(8)
                               .mlp_dim(8)
                               .num_layers(2)
                               .num_heads(2)
                               .proj_type("perceptron")
                               .qkv_bias(true)
                               .save_attn(true));
  // Grid 1 x 2 x 4 = 8 patches; transposed convs up-sample by (4, 2, 1) twice.
  EXPECT_EQ(net->named_parameters()["conv3d_transpose_1.weight"].sizes(),
            at::IntArrayRef({5, 3, 4, 2, 1}));
  N::ViTAutoEncOutput y = net->forward(at::randn({2, 2, 16, 8, 4}));
  EXPECT_EQ(y.x.sizes(), at::IntArrayRef({2, 3, 16, 8, 4}));
  ASSERT_EQ(y.hidden_states_out.size(), 2u);
  EXPECT_EQ(y.hidden_states_out[1].sizes(), at::IntArrayRef({2, 8, 8}));
  EXPECT_EQ(net->blocks[1]->attn->att_mat.sizes(), at::IntArrayRef({2, 2, 8, 8}));
  y.x.sum().backward();
  for (const auto &p : net->named_parameters()) {
    // The cross-attention weights exist (as in MONAI) but are unused without cross attention.
    if (p.key().find("cross_attn") != std::string::npos)
      continue;
    EXPECT_TRUE(p.value().grad().defined()) << p.key();
  }
  auto cube = N::ViTAutoEnc(
      N::ViTAutoEncOptions(1, {16}, {4}).hidden_size(6).mlp_dim(6).num_layers(1).num_heads(3));
  EXPECT_EQ(cube->forward(at::randn({1, 1, 16, 16, 16})).x.sizes(),
            at::IntArrayRef({1, 1, 16, 16, 16}));
}

TEST(ViTAutoEnc, InvalidConfigurationsThrow) {
  EXPECT_EQ(errorWhere([] {
              N::ViTAutoEnc(tinyOptions().img_size({8, 10}));
            }),
            "ViTAutoEnc.img_size"); // 10 % 4 != 0
  EXPECT_EQ(errorWhere([] {
              N::ViTAutoEnc(tinyOptions().img_size({2, 8}));
            }),
            "ViTAutoEnc.img_size"); // smaller than the patch
  EXPECT_EQ(errorWhere([] {
              N::ViTAutoEnc(tinyOptions().img_size({8, 8, 8}));
            }),
            "ViTAutoEnc.img_size"); // 3 sizes in 2D
  EXPECT_EQ(errorWhere([] { N::ViTAutoEnc(tinyOptions().patch_size({2})); }),
            "ViTAutoEnc.patch_size"); // 2 is not a perfect square
  EXPECT_EQ(errorWhere([] { N::ViTAutoEnc(tinyOptions().num_heads(3)); }),
            "ViTAutoEnc.hidden_size");
  EXPECT_EQ(errorWhere([] { N::ViTAutoEnc(tinyOptions().dropout_rate(-0.1)); }),
            "ViTAutoEnc.dropout_rate");
  EXPECT_EQ(errorWhere([] { N::ViTAutoEnc(tinyOptions().spatial_dims(4)); }),
            "ViTAutoEnc.spatial_dims");
  EXPECT_THROW(N::ViTAutoEnc(tinyOptions().proj_type("linear")), med::Error);
  auto net = N::ViTAutoEnc(tinyOptions());
  EXPECT_THROW(net->forward(at::randn({1, 1, 12, 8})), med::Error);
}
