// DynUNet (dynunet.h).
#include "med/networks/nets/dynunet.h"

#include <algorithm>
#include <memory>
#include <string>

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace nn = torch::nn;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// A module tree that holds the tensors of `src` (and of its children, recursively) as buffers
/// under the same names. MONAI's DynUNet registers its blocks a second time under "skip_layers",
/// so its state_dict lists every weight twice; this view reproduces those keys without
/// registering the parameters twice (an optimizer would otherwise step them twice).
/// Returns nullptr when `src` holds no tensor at all.
std::shared_ptr<nn::Module> weightView(const nn::Module &src) {
  auto view = std::make_shared<nn::Module>("DynUNetWeightView");
  bool any = false;
  for (const auto &p : src.named_parameters(/*recurse=*/false)) {
    view->register_buffer(p.key(), p.value());
    any = true;
  }
  for (const auto &b : src.named_buffers(/*recurse=*/false)) {
    view->register_buffer(b.key(), b.value());
    any = true;
  }
  for (const auto &c : src.named_children()) {
    if (auto child = weightView(*c.value())) {
      view->register_module(c.key(), child);
      any = true;
    }
  }
  return any ? view : nullptr;
}

/// MONAI's initialize_weights: Kaiming-normal (a = 0.01) conv weights, zero biases (2D / 3D).
void initializeWeights(nn::Module &m) {
  for (const auto &mod : m.modules(/*include_self=*/false)) {
    at::Tensor w, b;
    if (auto *c = mod->as<nn::Conv3dImpl>())
      w = c->weight, b = c->bias;
    else if (auto *c2 = mod->as<nn::Conv2dImpl>())
      w = c2->weight, b = c2->bias;
    else if (auto *t = mod->as<nn::ConvTranspose3dImpl>())
      w = t->weight, b = t->bias;
    else if (auto *t2 = mod->as<nn::ConvTranspose2dImpl>())
      w = t2->weight, b = t2->bias;
    else
      continue;
    nn::init::kaiming_normal_(w, 0.01);
    if (b.defined())
      nn::init::zeros_(b);
  }
}

/// One level's kernel or stride entry, checked: one value or one per spatial axis.
std::vector<int64_t> entry(const DynUNetOptions::PerLevel &v, size_t i, int64_t d,
                           const std::string &what) {
  const auto &e = v[i];
  if (e.size() != 1 && static_cast<int64_t>(e.size()) != d)
    throw Error("DynUNet." + what, "entry " + str(static_cast<int64_t>(i)) +
                                       " should have 1 or spatial_dims = " + str(d) +
                                       " values, got " + str(static_cast<int64_t>(e.size())));
  return e;
}

nn::AnyModule basicOrRes(const DynUNetOptions &o, int64_t in, int64_t out,
                         const std::vector<int64_t> &k, const std::vector<int64_t> &s) {
  B::UnetBlockOptions bo(o.spatial_dims(), in, out, k, s, o.norm_name());
  bo.act_name(o.act_name()).dropout(o.dropout());
  if (o.res_block())
    return nn::AnyModule(B::UnetResBlock(bo));
  return nn::AnyModule(B::UnetBasicBlock(bo));
}

} // namespace

DynUNetImpl::DynUNetImpl(DynUNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("DynUNet.spatial_dims", "expected 1, 2 or 3, got " + str(d));
  const auto &ks = options.kernel_size(), &ss = options.strides();
  if (ks.size() != ss.size() || ks.size() < 3)
    throw Error("DynUNet.kernel_size",
                "kernel_size and strides should have the same length, at least 3; got " +
                    str(static_cast<int64_t>(ks.size())) + " and " +
                    str(static_cast<int64_t>(ss.size())));
  const size_t n = ks.size();
  std::vector<std::vector<int64_t>> k(n), s(n), uk(n - 1);
  for (size_t i = 0; i < n; ++i) {
    k[i] = entry(ks, i, d, "kernel_size");
    s[i] = entry(ss, i, d, "strides");
  }
  if (options.upsample_kernel_size().size() != n - 1)
    throw Error("DynUNet.upsample_kernel_size",
                "expected len(strides) - 1 = " + str(static_cast<int64_t>(n - 1)) +
                    " entries, got " +
                    str(static_cast<int64_t>(options.upsample_kernel_size().size())));
  for (size_t i = 0; i + 1 < n; ++i)
    uk[i] = entry(options.upsample_kernel_size(), i, d, "upsample_kernel_size");
  if (options.filters()) {
    if (options.filters()->size() < n)
      throw Error("DynUNet.filters",
                  "expected at least len(strides) = " + str(static_cast<int64_t>(n)) +
                      " values, got " + str(static_cast<int64_t>(options.filters()->size())));
    filters_.assign(options.filters()->begin(), options.filters()->begin() + n);
  } else {
    for (size_t i = 0; i < n; ++i)
      filters_.push_back(std::min<int64_t>(int64_t(1) << (5 + i), d == 3 ? 320 : 512));
  }
  if (options.deep_supervision() &&
      (options.deep_supr_num() < 1 || options.deep_supr_num() >= static_cast<int64_t>(n - 1)))
    throw Error("DynUNet.deep_supr_num", "expected 1 <= deep_supr_num < number of up-sampling "
                                         "levels = " +
                                             str(static_cast<int64_t>(n - 1)) + ", got " +
                                             str(options.deep_supr_num()));
  const auto &f = filters_;

  input_block_ = basicOrRes(options, options.in_channels(), f[0], k[0], s[0]);
  register_module("input_block", input_block_.ptr());
  auto downList = nn::ModuleList();
  for (size_t i = 1; i + 1 < n; ++i) {
    down_.push_back(basicOrRes(options, f[i - 1], f[i], k[i], s[i]));
    downList->push_back(down_.back().ptr());
  }
  register_module("downsamples", downList);
  bottleneck_ = basicOrRes(options, f[n - 2], f[n - 1], k[n - 1], s[n - 1]);
  register_module("bottleneck", bottleneck_.ptr());
  // upsamples[j] goes from level n-1-j to level n-2-j (deepest first, MONAI's order).
  auto upList = nn::ModuleList();
  for (size_t j = 0; j + 1 < n; ++j) {
    B::UnetUpBlockOptions uo(d, f[n - 1 - j], f[n - 2 - j], k[n - 1 - j], uk[n - 2 - j],
                             options.norm_name());
    uo.act_name(options.act_name()).dropout(options.dropout()).trans_bias(options.trans_bias());
    up_.push_back(B::UnetUpBlock(uo));
    upList->push_back(up_.back());
  }
  register_module("upsamples", upList);
  output_block_ = register_module(
      "output_block", B::UnetOutBlock(d, f[0], options.out_channels(), options.dropout()));
  if (options.deep_supervision()) {
    auto headList = nn::ModuleList();
    for (int64_t i = 0; i < options.deep_supr_num(); ++i) {
      heads_.push_back(B::UnetOutBlock(d, f[i + 1], options.out_channels(), options.dropout()));
      headList->push_back(heads_.back());
    }
    register_module("deep_supervision_heads", headList);
  }
  initializeWeights(*this);

  // MONAI's "skip_layers": the recursive U of DynUNetSkipLayer(downsample, next_layer, upsample,
  // super_head) nodes, ending in the bottleneck, as a view of the weights registered above.
  std::shared_ptr<nn::Module> next = weightView(*bottleneck_.ptr());
  for (size_t i = n - 1; i-- > 0;) {
    auto node = std::make_shared<nn::Module>("DynUNetSkipLayer");
    nn::Module &down = i == 0 ? *input_block_.ptr() : *down_[i - 1].ptr();
    if (auto v = weightView(down))
      node->register_module("downsample", v);
    node->register_module("next_layer", next);
    if (auto v = weightView(*up_[n - 2 - i]))
      node->register_module("upsample", v);
    if (i > 0 && static_cast<int64_t>(i) <= static_cast<int64_t>(heads_.size()))
      node->register_module("super_head", weightView(*heads_[i - 1]));
    next = node;
  }
  register_module("skip_layers", next);
}

at::Tensor DynUNetImpl::level(size_t i, const at::Tensor &x, std::vector<at::Tensor> &heads) {
  const size_t n = filters_.size();
  if (i == n - 1)
    return bottleneck_.forward(x);
  at::Tensor down = i == 0 ? input_block_.forward(x) : down_[i - 1].forward(x);
  at::Tensor next = level(i + 1, down, heads);
  at::Tensor up = up_[n - 2 - i]->forward(next, down);
  if (i > 0 && i <= heads_.size() && is_training())
    heads[i - 1] = heads_[i - 1]->forward(up);
  return up;
}

at::Tensor DynUNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("DynUNet.input", "expected (B, " + str(options.in_channels()) + ", " + str(d) +
                                     " spatial axes), got " + c10::str(x.sizes()));
  std::vector<at::Tensor> heads(heads_.size());
  at::Tensor out = output_block_->forward(level(0, x, heads));
  if (!(is_training() && options.deep_supervision()))
    return out;
  std::vector<at::Tensor> all{out};
  auto size = out.sizes().slice(2);
  for (const at::Tensor &h : heads) {
    if (d == 3)
      all.push_back(at::upsample_nearest3d(h, size));
    else if (d == 2)
      all.push_back(at::upsample_nearest2d(h, size));
    else
      all.push_back(at::upsample_nearest1d(h, size));
  }
  return at::stack(all, 1);
}

} // namespace med::networks::nets
