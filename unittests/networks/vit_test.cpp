// ViT and its blocks: self-attention and the MLP against plain ATen formulas, the perceptron
// patch embedding against the conv one, sin-cos codes by hand, a hand-counted tiny ViT, shapes,
// gradients and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/blocks/patch_embedding.h"
#include "med/networks/blocks/transformer.h"
#include "med/networks/nets/vit.h"
#include "net_test_util.h"

namespace B = med::networks::blocks;
namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {
at::Tensor param(torch::nn::Module &m, const std::string &name) {
  return m.named_parameters()[name];
}
} // namespace

TEST(SABlock, MatchesPlainSoftmaxAttention) {
  torch::NoGradGuard noGrad;
  auto sa = B::SABlock(B::SABlockOptions(8, 2).qkv_bias(true).save_attn(true));
  sa->eval();
  at::Tensor x = at::randn({2, 5, 8});
  at::Tensor y = sa->forward(x);
  // Reference: q, k, v are the three consecutive 8-wide slices of the qkv output, each split
  // into 2 heads of 4; att = softmax(q k^T / sqrt(4)); heads concatenated then out_proj.
  at::Tensor qkv = at::linear(x, param(*sa, "qkv.weight"), param(*sa, "qkv.bias"));
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < 2; ++h) {
    at::Tensor q = qkv.slice(2, 0 + 4 * h, 4 + 4 * h);
    at::Tensor k = qkv.slice(2, 8 + 4 * h, 12 + 4 * h);
    at::Tensor v = qkv.slice(2, 16 + 4 * h, 20 + 4 * h);
    at::Tensor att = at::softmax(at::bmm(q, k.transpose(1, 2)) / 2.0, -1);
    EXPECT_TRUE(at::allclose(sa->att_mat.select(1, h), att, 1e-5, 1e-6));
    heads.push_back(at::bmm(att, v));
  }
  at::Tensor ref =
      at::linear(at::cat(heads, 2), param(*sa, "out_proj.weight"), param(*sa, "out_proj.bias"));
  EXPECT_TRUE(at::allclose(y, ref, 1e-5, 1e-6));
}

TEST(CrossAttentionBlock, AttendsOverTheContext) {
  torch::NoGradGuard noGrad;
  auto ca = B::CrossAttentionBlock(B::SABlockOptions(4, 1));
  at::Tensor x = at::randn({1, 3, 4}), ctx = at::randn({1, 6, 4});
  at::Tensor q = at::linear(x, param(*ca, "to_q.weight"));
  at::Tensor k = at::linear(ctx, param(*ca, "to_k.weight"));
  at::Tensor v = at::linear(ctx, param(*ca, "to_v.weight"));
  at::Tensor att = at::softmax(at::bmm(q, k.transpose(1, 2)) / 2.0, -1);
  at::Tensor ref =
      at::linear(at::bmm(att, v), param(*ca, "out_proj.weight"), param(*ca, "out_proj.bias"));
  EXPECT_TRUE(at::allclose(ca->forward(x, ctx), ref, 1e-5, 1e-6));
}

TEST(MLPBlock, MatchesPlainFormula) {
  torch::NoGradGuard noGrad;
  auto mlp = B::MLPBlock(B::MLPBlockOptions(6, 10));
  at::Tensor x = at::randn({2, 3, 6});
  at::Tensor h =
      at::gelu(at::linear(x, param(*mlp, "linear1.weight"), param(*mlp, "linear1.bias")));
  at::Tensor ref = at::linear(h, param(*mlp, "linear2.weight"), param(*mlp, "linear2.bias"));
  EXPECT_TRUE(at::allclose(mlp->forward(x), ref, 1e-5, 1e-6));
  // mlp_dim 0 means hidden_size.
  EXPECT_EQ(param(*B::MLPBlock(B::MLPBlockOptions(6, 0)), "linear1.weight").size(0), 6);
}

TEST(TransformerBlock, IsPreNormResidual) {
  torch::NoGradGuard noGrad;
  auto blk = B::TransformerBlock(B::TransformerBlockOptions(8, 16, 2));
  at::Tensor x = at::randn({1, 4, 8});
  auto ln = [&](const at::Tensor &t, const std::string &n) {
    return at::layer_norm(t, {8}, param(*blk, n + ".weight"), param(*blk, n + ".bias"));
  };
  at::Tensor y = x + blk->attn->forward(ln(x, "norm1"));
  at::Tensor h = at::gelu(at::linear(ln(y, "norm2"), param(*blk, "mlp.linear1.weight"),
                                     param(*blk, "mlp.linear1.bias")));
  y = y + at::linear(h, param(*blk, "mlp.linear2.weight"), param(*blk, "mlp.linear2.bias"));
  EXPECT_TRUE(at::allclose(blk->forward(x), y, 1e-5, 1e-6));
}

TEST(PatchEmbeddingBlock, PerceptronEqualsConvWithPermutedWeights) {
  torch::NoGradGuard noGrad;
  auto opts =
      B::PatchEmbeddingBlockOptions(2, {8, 12}, {4}, 6, 2).spatial_dims(2).pos_embed_type("none");
  auto conv = B::PatchEmbeddingBlock(opts);
  auto perc = B::PatchEmbeddingBlock(opts.proj_type("perceptron"));
  at::Tensor w = param(*conv, "patch_embeddings.weight"); // (hidden, C, p1, p2)
  param(*perc, "patch_embeddings.1.weight").copy_(w.permute({0, 2, 3, 1}).reshape({6, -1}));
  param(*perc, "patch_embeddings.1.bias").copy_(param(*conv, "patch_embeddings.bias"));
  at::Tensor x = at::randn({2, 2, 8, 12});
  at::Tensor a = conv->forward(x), b = perc->forward(x);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 6, 6}));
  EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-5));
}

TEST(PatchEmbeddingBlock, SincosCodesByHand) {
  // 2D grid 2x2, dim 4: one frequency (1.0); codes [sin w, cos w, sin h, cos h] per patch.
  at::Tensor pe = B::sincosPositionEmbedding({2, 2}, 4, 2);
  ASSERT_EQ(pe.sizes(), (std::vector<int64_t>{1, 4, 4}));
  const double s1 = std::sin(1.0), c1 = std::cos(1.0);
  at::Tensor ref =
      at::tensor({0.0, 1.0, 0.0, 1.0, s1, c1, 0.0, 1.0, 0.0, 1.0, s1, c1, s1, c1, s1, c1},
                 at::kFloat)
          .reshape({1, 4, 4});
  EXPECT_TRUE(at::allclose(pe, ref, 1e-6, 1e-6));
  auto blk = B::PatchEmbeddingBlock(
      B::PatchEmbeddingBlockOptions(1, {8, 8}, {4}, 4, 1).spatial_dims(2).pos_embed_type("sincos"));
  EXPECT_FALSE(blk->position_embeddings.requires_grad());
  EXPECT_TRUE(at::allclose(blk->position_embeddings, ref));
  EXPECT_THROW(B::sincosPositionEmbedding({2, 2, 2}, 8, 3), med::Error); // 8 % 6 != 0
}

N::ViTOptions tinyViT() {
  return N::ViTOptions(1, {8, 8}, {4, 4})
      .hidden_size(8)
      .mlp_dim(16)
      .num_layers(1)
      .num_heads(2)
      .classification(true)
      .num_classes(3)
      .spatial_dims(2);
}

TEST(ViT, TinyParameterCountByHand) {
  auto vit = N::ViT(tinyViT());
  // patch conv 8*1*4*4 + 8 = 136; position 4 patches * 8 = 32; cls_token 8
  // block: mlp (8*16+16) + (16*8+8) = 280; norm1, norm2, norm_cross_attn 3*16 = 48;
  //        attn out_proj 64+8 + qkv 8*24 (no bias) = 264; cross_attn out_proj 72 + 3*64 = 264
  // final norm 16; head 8*3+3 = 27
  EXPECT_EQ(countParams(*vit), 136 + 32 + 8 + (280 + 48 + 264 + 264) + 16 + 27);
}

TEST(ViT, ShapesHiddenStatesAndBackward) {
  auto vit = N::ViT(tinyViT().num_layers(3).save_attn(true));
  at::Tensor x = at::randn({2, 1, 8, 8});
  N::ViTOutput y = vit->forward(x);
  EXPECT_EQ(y.x.sizes(), (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(y.hidden_states_out.size(), 3u);
  for (const auto &h : y.hidden_states_out)
    EXPECT_EQ(h.sizes(), (std::vector<int64_t>{2, 5, 8})); // 4 patches + class token
  EXPECT_EQ(vit->blocks[0]->attn->att_mat.sizes(), (std::vector<int64_t>{2, 2, 5, 5}));
  EXPECT_LE(y.x.abs().max().item<float>(), 1.0f); // Tanh head
  y.x.sum().backward();
  for (const auto &p : vit->named_parameters()) {
    // The cross-attention weights exist (as in MONAI) but are unused without cross attention.
    if (p.key().find("cross_attn") != std::string::npos)
      continue;
    EXPECT_TRUE(p.value().grad().defined()) << p.key();
  }
  auto seg = N::ViT(N::ViTOptions(2, {16, 16, 16}, {8})
                        .hidden_size(12)
                        .mlp_dim(12)
                        .num_layers(2)
                        .num_heads(3)
                        .proj_type("perceptron")
                        .pos_embed_type("sincos"));
  EXPECT_EQ(seg->forward(at::randn({1, 2, 16, 16, 16})).x.sizes(),
            (std::vector<int64_t>{1, 8, 12}));
}

TEST(ViT, InvalidConfigurationsThrow) {
  EXPECT_THROW(N::ViT(tinyViT().num_heads(3)), med::Error);
  EXPECT_THROW(N::ViT(tinyViT().dropout_rate(1.5)), med::Error);
  EXPECT_THROW(N::ViT(N::ViTOptions(1, {8, 8}, {16}).spatial_dims(2).hidden_size(8).num_heads(2)),
               med::Error);
  EXPECT_THROW(N::ViT(tinyViT().proj_type("linear")), med::Error);
  EXPECT_THROW(N::ViT(tinyViT().pos_embed_type("rope")), med::Error);
  EXPECT_THROW(N::ViT(N::ViTOptions(1, {10, 8}, {4})
                          .spatial_dims(2)
                          .hidden_size(8)
                          .num_heads(2)
                          .proj_type("perceptron")),
               med::Error);
  auto vit = N::ViT(tinyViT());
  EXPECT_THROW(vit->forward(at::randn({1, 1, 12, 8})), med::Error);
}
