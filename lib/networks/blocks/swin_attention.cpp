// DropPath, the window helpers, WindowAttention and SwinTransformerBlock (swin.h).
#include "med/networks/blocks/swin.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"

namespace med::networks::blocks {

namespace nn = torch::nn;

DropPathImpl::DropPathImpl(double p, bool scale) : drop_prob(p), scale_by_keep(scale) {
  detail::checkRate(p, "DropPath.drop_prob");
}

at::Tensor DropPathImpl::forward(const at::Tensor &x) {
  if (drop_prob == 0.0 || !is_training())
    return x;
  const double keep = 1.0 - drop_prob;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  at::Tensor mask = at::empty(shape, x.options()).bernoulli_(keep);
  if (keep > 0.0 && scale_by_keep)
    mask.div_(keep);
  return x * mask;
}

namespace swin {

at::Tensor windowPartition(const at::Tensor &x, const std::vector<int64_t> &w) {
  const int64_t d = static_cast<int64_t>(w.size());
  std::vector<int64_t> shape{x.size(0)}, perm{0}, inner;
  int64_t n = 1;
  for (int64_t i = 0; i < d; ++i) {
    shape.push_back(x.size(1 + i) / w[i]);
    shape.push_back(w[i]);
    perm.push_back(1 + 2 * i);
    n *= w[i];
  }
  for (int64_t i = 0; i < d; ++i)
    perm.push_back(2 + 2 * i);
  shape.push_back(x.size(-1));
  perm.push_back(2 * d + 1);
  return x.reshape(shape).permute(perm).contiguous().reshape({-1, n, x.size(-1)});
}

at::Tensor windowReverse(const at::Tensor &windows, const std::vector<int64_t> &w,
                         const std::vector<int64_t> &dims) {
  const int64_t d = static_cast<int64_t>(w.size());
  std::vector<int64_t> shape{dims[0]}, perm{0}, out{dims[0]};
  for (int64_t i = 0; i < d; ++i)
    shape.push_back(dims[1 + i] / w[i]);
  for (int64_t i = 0; i < d; ++i)
    shape.push_back(w[i]);
  shape.push_back(-1);
  for (int64_t i = 0; i < d; ++i) {
    perm.push_back(1 + i);
    perm.push_back(1 + d + i);
    out.push_back(dims[1 + i]);
  }
  perm.push_back(2 * d + 1);
  out.push_back(-1);
  return windows.reshape(shape).permute(perm).contiguous().reshape(out);
}

std::pair<std::vector<int64_t>, std::vector<int64_t>>
windowSize(const std::vector<int64_t> &size, const std::vector<int64_t> &window,
           const std::vector<int64_t> &shift) {
  std::vector<int64_t> w = window, s = shift;
  for (size_t i = 0; i < size.size(); ++i) {
    if (size[i] <= window[i]) {
      w[i] = size[i];
      s[i] = 0;
    }
  }
  return {w, s};
}

namespace {
// Python's slice bound for an axis of length n (negative counts from the end, clamped).
int64_t bound(int64_t v, int64_t n) { return v < 0 ? std::max<int64_t>(0, n + v) : std::min(v, n); }
} // namespace

at::Tensor computeMask(const std::vector<int64_t> &dims, const std::vector<int64_t> &window,
                       const std::vector<int64_t> &shift, const at::Device &device) {
  const int64_t d = static_cast<int64_t>(dims.size());
  std::vector<int64_t> shape{1};
  shape.insert(shape.end(), dims.begin(), dims.end());
  shape.push_back(1);
  at::Tensor img = at::zeros(shape, at::TensorOptions().dtype(at::kFloat));
  // Per axis the three regions [:-w], [-w:-s], [-s:] (Python slices, as MONAI), numbered in
  // row-major order; later regions overwrite earlier ones where they overlap.
  auto ranges = [&](int64_t a) {
    const int64_t n = dims[a], w = window[a], s = shift[a];
    return std::vector<std::pair<int64_t, int64_t>>{
        {0, bound(-w, n)}, {bound(-w, n), bound(-s, n)}, {bound(-s, n), n}};
  };
  int64_t cnt = 0;
  const int64_t combos = d == 3 ? 27 : 9;
  for (int64_t c = 0; c < combos; ++c) {
    at::Tensor view = img;
    int64_t rest = c;
    std::vector<int64_t> idx(d);
    for (int64_t a = d - 1; a >= 0; --a) {
      idx[a] = rest % 3;
      rest /= 3;
    }
    for (int64_t a = 0; a < d; ++a) {
      auto r = ranges(a)[idx[a]];
      view = view.slice(1 + a, r.first, std::max(r.first, r.second));
    }
    view.fill_(static_cast<double>(cnt++));
  }
  at::Tensor mw = windowPartition(img, window).squeeze(-1);
  at::Tensor m = mw.unsqueeze(1) - mw.unsqueeze(2);
  m = m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0);
  return m.to(device);
}

} // namespace swin

WindowAttentionImpl::WindowAttentionImpl(int64_t dim_, int64_t heads, std::vector<int64_t> window,
                                         bool qkv_bias, double attn_drop, double proj_drop)
    : dim(dim_), num_heads(heads), window_size(std::move(window)) {
  const int64_t d = static_cast<int64_t>(window_size.size());
  if (d != 2 && d != 3)
    throw Error("WindowAttention.window_size", "expected 2 or 3 sizes, got " + std::to_string(d));
  if (heads < 1 || dim % heads != 0)
    throw Error("WindowAttention.dim", "dim (" + std::to_string(dim) +
                                           ") should be divisible by num_heads (" +
                                           std::to_string(heads) + ")");
  int64_t entries = 1;
  for (int64_t w : window_size)
    entries *= 2 * w - 1;
  relative_position_bias_table_ =
      register_parameter("relative_position_bias_table", at::zeros({entries, heads}));
  // Pairwise coordinate differences of the window's cells, shifted to be non-negative and
  // flattened row-major into an index of the bias table.
  std::vector<at::Tensor> axes;
  for (int64_t w : window_size)
    axes.push_back(at::arange(w, at::kLong));
  at::Tensor coords = at::stack(at::meshgrid(axes, "ij")).flatten(1); // (d, N)
  at::Tensor rel = (coords.unsqueeze(2) - coords.unsqueeze(1)).permute({1, 2, 0}).contiguous();
  at::Tensor index = at::zeros({rel.size(0), rel.size(1)}, at::kLong);
  for (int64_t a = 0; a < d; ++a) {
    int64_t stride = 1;
    for (int64_t b = a + 1; b < d; ++b)
      stride *= 2 * window_size[b] - 1;
    index += (rel.select(2, a) + (window_size[a] - 1)) * stride;
  }
  relative_position_index_ = register_buffer("relative_position_index", index);
  qkv_ = register_module("qkv", nn::Linear(nn::LinearOptions(dim, 3 * dim).bias(qkv_bias)));
  attn_drop_ = register_module("attn_drop", nn::Dropout(attn_drop));
  proj_ = register_module("proj", nn::Linear(dim, dim));
  proj_drop_ = register_module("proj_drop", nn::Dropout(proj_drop));
  detail::truncNormal_(relative_position_bias_table_, 0.0, 0.02, -2.0, 2.0);
  softmax_ = register_module("softmax", nn::Softmax(-1));
}

at::Tensor WindowAttentionImpl::forward(const at::Tensor &x, const at::Tensor &mask) {
  const int64_t b = x.size(0), n = x.size(1), c = x.size(2);
  if (c != dim)
    throw Error("WindowAttention.forward",
                "expected " + std::to_string(dim) + " channels, got " + std::to_string(c));
  at::Tensor qkv = qkv_->forward(x).reshape({b, n, 3, num_heads, c / num_heads});
  qkv = qkv.permute({2, 0, 3, 1, 4});
  const double scale = 1.0 / std::sqrt(static_cast<double>(c / num_heads));
  at::Tensor attn = at::matmul(qkv[0] * scale, qkv[1].transpose(-2, -1));
  at::Tensor idx = relative_position_index_.slice(0, 0, n).slice(1, 0, n).reshape(-1);
  at::Tensor bias = relative_position_bias_table_.index_select(0, idx).reshape({n, n, -1});
  attn = attn + bias.permute({2, 0, 1}).unsqueeze(0);
  if (mask.defined()) {
    const int64_t nw = mask.size(0);
    attn = attn.view({b / nw, nw, num_heads, n, n}) + mask.unsqueeze(1).unsqueeze(0);
    attn = attn.view({-1, num_heads, n, n});
  }
  attn = attn_drop_->forward(softmax_->forward(attn));
  at::Tensor y = at::matmul(attn, qkv[2]).transpose(1, 2).reshape({b, n, c});
  return proj_drop_->forward(proj_->forward(y));
}

SwinTransformerBlockImpl::SwinTransformerBlockImpl(SwinTransformerBlockOptions o)
    : options(std::move(o)) {
  const int64_t c = options.dim();
  norm1_ = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({c})));
  attn_ = register_module("attn",
                          WindowAttention(c, options.num_heads(), options.window_size(),
                                          options.qkv_bias(), options.attn_drop(), options.drop()));
  if (options.drop_path() > 0.0)
    drop_path_ = nn::AnyModule(DropPath(options.drop_path()));
  else
    drop_path_ = nn::AnyModule(nn::Identity());
  register_module("drop_path", drop_path_.ptr());
  norm2_ = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({c})));
  mlp_ = register_module("mlp",
                         MLPBlock(MLPBlockOptions(c, static_cast<int64_t>(c * options.mlp_ratio()))
                                      .dropout_rate(options.drop())
                                      .dropout_mode("swin")));
}

at::Tensor SwinTransformerBlockImpl::forward(const at::Tensor &x, const at::Tensor &mask) {
  const int64_t d = x.dim() - 2;
  if (d != 2 && d != 3)
    throw Error("SwinTransformerBlock.forward", "expected (B, *S, C) with 2 or 3 spatial axes");
  std::vector<int64_t> size(x.sizes().begin() + 1, x.sizes().end() - 1);
  auto [w, s] = swin::windowSize(size, options.window_size(), options.shift_size());
  at::Tensor y = norm1_->forward(x);
  // Pad each spatial axis at its end to a multiple of the window (F.pad order: last axis first).
  std::vector<int64_t> pad{0, 0};
  bool padded = false;
  for (int64_t a = d - 1; a >= 0; --a) {
    const int64_t p = (w[a] - size[a] % w[a]) % w[a];
    pad.push_back(0);
    pad.push_back(p);
    padded = padded || p > 0;
  }
  if (padded)
    y = at::constant_pad_nd(y, pad);
  std::vector<int64_t> dims(y.sizes().begin(), y.sizes().end() - 1);
  bool shifted = false;
  std::vector<int64_t> axes, neg;
  for (int64_t a = 0; a < d; ++a) {
    shifted = shifted || s[a] > 0;
    axes.push_back(1 + a);
    neg.push_back(-s[a]);
  }
  if (shifted)
    y = at::roll(y, neg, axes);
  at::Tensor win = attn_->forward(swin::windowPartition(y, w), shifted ? mask : at::Tensor());
  y = swin::windowReverse(win, w, dims);
  if (shifted)
    y = at::roll(y, s, axes);
  if (padded)
    for (int64_t a = 0; a < d; ++a)
      y = y.slice(1 + a, 0, size[a]);
  at::Tensor h = x + drop_path_.forward(y.contiguous());
  return h + drop_path_.forward(mlp_->forward(norm2_->forward(h)));
}

} // namespace med::networks::blocks
