// PatchEmbeddingBlock, PatchEmbed and the sin-cos position embedding (patch_embedding.h).
#include "med/networks/blocks/patch_embedding.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"
#include "med/networks/blocks/transformer.h"
#include "med/networks/layers/factories.h"

namespace med::networks::blocks {

namespace nn = torch::nn;
namespace L = med::networks::layers;

at::Tensor sincosPositionEmbedding(const std::vector<int64_t> &grid_size, int64_t embed_dim,
                                   int64_t spatial_dims, double temperature) {
  const std::string where = "sincosPositionEmbedding";
  if (spatial_dims != 2 && spatial_dims != 3)
    throw Error(where + ".spatial_dims",
                "only 2 and 3 are supported, got " + std::to_string(spatial_dims));
  auto grid = detail::perAxis(grid_size, spatial_dims, where + ".grid_size");
  const int64_t parts = 2 * spatial_dims;
  if (embed_dim % parts != 0)
    throw Error(where + ".embed_dim", "must be divisible by " + std::to_string(parts) + " for " +
                                          std::to_string(spatial_dims) + "D, got " +
                                          std::to_string(embed_dim));
  const int64_t pos_dim = embed_dim / parts;
  auto f32 = at::TensorOptions().dtype(at::kFloat);
  at::Tensor omega = at::arange(pos_dim, f32) / static_cast<double>(pos_dim);
  omega = 1.0 / at::pow(temperature, omega);
  std::vector<at::Tensor> axes;
  for (int64_t g : grid)
    axes.push_back(at::arange(g, f32));
  auto mesh = at::meshgrid(axes, "ij");
  // MONAI's order: the second axis (w) first, then h, then d.
  std::vector<int64_t> order =
      spatial_dims == 2 ? std::vector<int64_t>{1, 0} : std::vector<int64_t>{1, 0, 2};
  std::vector<at::Tensor> codes;
  for (int64_t a : order) {
    at::Tensor out = at::outer(mesh[a].flatten(), omega);
    codes.push_back(at::sin(out));
    codes.push_back(at::cos(out));
  }
  return at::cat(codes, 1).unsqueeze(0);
}

PatchEmbeddingBlockImpl::PatchEmbeddingBlockImpl(PatchEmbeddingBlockOptions o)
    : options(std::move(o)) {
  const std::string W = "PatchEmbeddingBlock";
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error(W + ".spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  detail::checkRate(options.dropout_rate(), W + ".dropout_rate");
  const int64_t h = options.hidden_size();
  if (options.num_heads() < 1 || h % options.num_heads() != 0)
    throw Error(W + ".hidden_size", "hidden size " + std::to_string(h) +
                                        " should be divisible by num_heads " +
                                        std::to_string(options.num_heads()));
  img_ = detail::perAxis(options.img_size(), d, W + ".img_size");
  patch_ = detail::perAxis(options.patch_size(), d, W + ".patch_size");
  n_patches = 1;
  int64_t patch_dim = options.in_channels();
  for (int64_t i = 0; i < d; ++i) {
    if (patch_[i] < 1 || img_[i] < patch_[i])
      throw Error(W + ".patch_size", "patch size " + std::to_string(patch_[i]) +
                                         " should be positive and not larger than image size " +
                                         std::to_string(img_[i]));
    if (options.proj_type() == "perceptron" && img_[i] % patch_[i] != 0)
      throw Error(W + ".patch_size", "patch size " + std::to_string(patch_[i]) +
                                         " should divide image size " + std::to_string(img_[i]) +
                                         " for proj_type \"perceptron\"");
    n_patches *= img_[i] / patch_[i];
    patch_dim *= patch_[i];
  }
  const std::string &pt = options.pos_embed_type();
  if (pt != "none" && pt != "learnable" && pt != "sincos")
    throw Error(W + ".pos_embed_type",
                "expected \"none\", \"learnable\" or \"sincos\", got \"" + pt + "\"");
  position_embeddings = register_parameter("position_embeddings", at::zeros({1, n_patches, h}));
  if (options.proj_type() == "conv") {
    patch_embeddings_ = L::conv({"CONV",
                                 {{"in_channels", options.in_channels()},
                                  {"out_channels", h},
                                  {"kernel_size", c10::IValue(patch_)},
                                  {"stride", c10::IValue(patch_)}}},
                                d);
  } else if (options.proj_type() == "perceptron") {
    // "b c (g1 p1) (g2 p2) ... -> b (g1 g2 ...) (p1 p2 ... c)"
    std::vector<int64_t> img = img_, patch = patch_;
    auto flatten = [d, img, patch](const at::Tensor &x) {
      std::vector<int64_t> split{x.size(0), x.size(1)}, perm{0};
      for (int64_t i = 0; i < d; ++i) {
        split.push_back(x.size(2 + i) / patch[i]);
        split.push_back(patch[i]);
      }
      for (int64_t i = 0; i < d; ++i)
        perm.push_back(2 + 2 * i);
      for (int64_t i = 0; i < d; ++i)
        perm.push_back(3 + 2 * i);
      perm.push_back(1);
      at::Tensor y = x.reshape(split).permute(perm);
      int64_t grid = 1;
      for (int64_t i = 0; i < d; ++i)
        grid *= x.size(2 + i) / patch[i];
      return y.reshape({x.size(0), grid, -1});
    };
    auto seq = TensorSequential();
    seq->push_back("0", Rearrange(flatten, "b c (h p1) (w p2) (d p3) -> b (h w d) (p1 p2 p3 c)"));
    auto lin = nn::Linear(patch_dim, h);
    detail::truncNormal_(lin->weight, 0.0, 0.02, -2.0, 2.0);
    nn::init::zeros_(lin->bias);
    seq->push_back("1", lin);
    patch_embeddings_ = nn::AnyModule(seq);
  } else {
    throw Error(W + ".proj_type",
                "expected \"conv\" or \"perceptron\", got \"" + options.proj_type() + "\"");
  }
  register_module("patch_embeddings", patch_embeddings_.ptr());
  dropout_ = register_module("dropout", nn::Dropout(options.dropout_rate()));
  torch::NoGradGuard noGrad;
  if (pt == "learnable") {
    detail::truncNormal_(position_embeddings, 0.0, 0.02, -2.0, 2.0);
  } else if (pt == "sincos") {
    std::vector<int64_t> grid;
    for (int64_t i = 0; i < d; ++i)
      grid.push_back(img_[i] / patch_[i]);
    position_embeddings.copy_(sincosPositionEmbedding(grid, h, d));
    position_embeddings.set_requires_grad(false);
  }
}

at::Tensor PatchEmbeddingBlockImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  bool ok = x.dim() == d + 2 && x.size(1) == options.in_channels();
  for (int64_t i = 0; ok && i < d; ++i)
    ok = x.size(2 + i) == img_[i];
  if (!ok)
    throw Error("PatchEmbeddingBlock.forward",
                "expected input (B, " + std::to_string(options.in_channels()) +
                    ", *img_size) with img_size given at construction");
  at::Tensor y = patch_embeddings_.forward(x);
  if (options.proj_type() == "conv")
    y = y.flatten(2).transpose(-1, -2);
  return dropout_->forward(y + position_embeddings);
}

PatchEmbedImpl::PatchEmbedImpl(PatchEmbedOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d != 2 && d != 3)
    throw Error("PatchEmbed.spatial_dims", "should be 2 or 3, got " + std::to_string(d));
  patch_ = detail::perAxis(options.patch_size(), d, "PatchEmbed.patch_size");
  proj_ = L::conv({"CONV",
                   {{"in_channels", options.in_chans()},
                    {"out_channels", options.embed_dim()},
                    {"kernel_size", c10::IValue(patch_)},
                    {"stride", c10::IValue(patch_)}}},
                  d);
  register_module("proj", proj_.ptr());
  if (options.norm())
    norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({options.embed_dim()})));
}

at::Tensor PatchEmbedImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2)
    throw Error("PatchEmbed.forward",
                "expected a (B, C, *spatial) input with " + std::to_string(d) + " spatial axes");
  // Pad each spatial axis at its end up to a multiple of the patch size (F.pad order: last first).
  std::vector<int64_t> pad;
  bool any = false;
  for (int64_t i = d - 1; i >= 0; --i) {
    const int64_t r = x.size(2 + i) % patch_[i];
    pad.push_back(0);
    pad.push_back(r ? patch_[i] - r : 0);
    any = any || r;
  }
  at::Tensor y = proj_.forward(any ? at::constant_pad_nd(x, pad) : x);
  if (norm_) {
    auto shape = y.sizes().vec();
    y = norm_->forward(y.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(shape);
  }
  return y;
}

} // namespace med::networks::blocks
