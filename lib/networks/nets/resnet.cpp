// ResNet, its blocks and factories (resnet.h).
#include "med/networks/nets/resnet.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/conv.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"
#include "net_utils.h"

namespace med::networks::nets {

namespace L = med::networks::layers;
namespace nn = torch::nn;
using L::Args;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

void checkDims(int64_t d, const std::string &where) {
  if (d < 1 || d > 3)
    throw Error(where + ".spatial_dims", "expected 1, 2 or 3, got " + str(d));
}

} // namespace

at::Tensor ResNetShortcut::operator()(const at::Tensor &x) {
  if (!downsample.is_empty())
    return downsample.forward(x);
  if (shortcut_a_planes == 0)
    return x;
  // Shortcut "A": a kernel-1 stride-s average pool is plain subsampling.
  std::vector<at::indexing::TensorIndex> idx{at::indexing::Slice(), at::indexing::Slice()};
  for (int64_t i = 2; i < x.dim(); ++i)
    idx.emplace_back(at::indexing::Slice(0, at::indexing::None, stride));
  at::Tensor out = x.index(idx);
  std::vector<int64_t> padShape = out.sizes().vec();
  padShape[1] = shortcut_a_planes - out.size(1);
  return at::cat({out.detach(), at::zeros(padShape, out.options())}, 1);
}

ResNetBlockImpl::ResNetBlockImpl(int64_t in_planes, int64_t planes, int64_t d, int64_t stride,
                                 ResNetShortcut shortcut, const LayerSpec &act,
                                 const LayerSpec &norm)
    : shortcut_(std::move(shortcut)) {
  checkDims(d, "ResNetBlock");
  conv1_ = detail::biasFreeConv(d, in_planes, planes, 3, stride);
  register_module("conv1", conv1_.ptr());
  bn1_ = L::get_norm_layer(norm, d, planes);
  register_module("bn1", bn1_.ptr());
  act_ = L::get_act_layer(act);
  register_module("act", act_.ptr());
  conv2_ = detail::biasFreeConv(d, planes, planes, 3, 1);
  register_module("conv2", conv2_.ptr());
  bn2_ = L::get_norm_layer(norm, d, planes);
  register_module("bn2", bn2_.ptr());
  if (!shortcut_.downsample.is_empty())
    register_module("downsample", shortcut_.downsample.ptr());
}

at::Tensor ResNetBlockImpl::forward(const at::Tensor &x) {
  at::Tensor out = act_.forward(bn1_.forward(conv1_.forward(x)));
  out = bn2_.forward(conv2_.forward(out));
  return act_.forward(out + shortcut_(x));
}

ResNetBottleneckImpl::ResNetBottleneckImpl(int64_t in_planes, int64_t planes, int64_t d,
                                           int64_t stride, ResNetShortcut shortcut,
                                           const LayerSpec &act, const LayerSpec &norm)
    : shortcut_(std::move(shortcut)) {
  checkDims(d, "ResNetBottleneck");
  conv1_ = detail::biasFreeConv(d, in_planes, planes, 1, 1);
  register_module("conv1", conv1_.ptr());
  bn1_ = L::get_norm_layer(norm, d, planes);
  register_module("bn1", bn1_.ptr());
  conv2_ = detail::biasFreeConv(d, planes, planes, 3, stride);
  register_module("conv2", conv2_.ptr());
  bn2_ = L::get_norm_layer(norm, d, planes);
  register_module("bn2", bn2_.ptr());
  conv3_ = detail::biasFreeConv(d, planes, planes * expansion, 1, 1);
  register_module("conv3", conv3_.ptr());
  bn3_ = L::get_norm_layer(norm, d, planes * expansion);
  register_module("bn3", bn3_.ptr());
  act_ = L::get_act_layer(act);
  register_module("act", act_.ptr());
  if (!shortcut_.downsample.is_empty())
    register_module("downsample", shortcut_.downsample.ptr());
}

at::Tensor ResNetBottleneckImpl::forward(const at::Tensor &x) {
  at::Tensor out = act_.forward(bn1_.forward(conv1_.forward(x)));
  out = act_.forward(bn2_.forward(conv2_.forward(out)));
  out = bn3_.forward(conv3_.forward(out));
  return act_.forward(out + shortcut_(x));
}

ResNetImpl::ResNetImpl(ResNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  checkDims(d, "ResNet");
  if (options.block() != "basic" && options.block() != "bottleneck")
    throw Error("ResNet.block",
                "unknown block \"" + options.block() + "\"; expected \"basic\" or \"bottleneck\"");
  if (options.layers().size() != 4)
    throw Error("ResNet.layers", "expected 4 stage depths, got " +
                                     str(static_cast<int64_t>(options.layers().size())));
  if (options.block_inplanes().size() != 4)
    throw Error("ResNet.block_inplanes",
                "expected 4 stage widths, got " +
                    str(static_cast<int64_t>(options.block_inplanes().size())));
  if (options.shortcut_type() != "A" && options.shortcut_type() != "B")
    throw Error("ResNet.shortcut_type",
                "expected \"A\" or \"B\", got \"" + options.shortcut_type() + "\"");
  std::vector<int64_t> widths;
  for (int64_t w : options.block_inplanes()) {
    widths.push_back(static_cast<int64_t>(static_cast<double>(w) * options.widen_factor()));
    if (widths.back() < 1)
      throw Error("ResNet.widen_factor", "stage widths must stay >= 1 after widening");
  }
  auto k = blocks::detail::perAxis(options.conv1_t_size(), d, "ResNet.conv1_t_size");
  auto s = blocks::detail::perAxis(options.conv1_t_stride(), d, "ResNet.conv1_t_stride");
  std::vector<int64_t> pad;
  for (int64_t v : k)
    pad.push_back(v / 2);
  in_planes_ = widths[0];
  conv1_ = L::conv({"CONV",
                    {{"in_channels", options.n_input_channels()},
                     {"out_channels", in_planes_},
                     {"kernel_size", k},
                     {"stride", s},
                     {"padding", pad},
                     {"bias", false}}},
                   d);
  register_module("conv1", conv1_.ptr());
  bn1_ = L::get_norm_layer(options.norm(), d, in_planes_);
  register_module("bn1", bn1_.ptr());
  act_ = L::get_act_layer(options.act());
  register_module("act", act_.ptr());
  maxpool_ = L::pool({"MAX", {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}}, d);
  register_module("maxpool", maxpool_.ptr());
  for (int64_t i = 0; i < 4; ++i) {
    stages_.push_back(makeLayer(widths[i], options.layers()[i], i == 0 ? 1 : 2));
    register_module("layer" + str(i + 1), stages_.back());
  }
  avgpool_ = L::pool({"ADAPTIVEAVG", {{"output_size", 1}}}, d);
  register_module("avgpool", avgpool_.ptr());
  const int64_t expansion =
      options.block() == "basic" ? ResNetBlockImpl::expansion : ResNetBottleneckImpl::expansion;
  if (options.feed_forward())
    fc_ = register_module("fc", nn::Linear(widths[3] * expansion, options.num_classes()));

  // MONAI's initialisation: Kaiming-normal (fan_out, relu) convs, unit/zero norms of the stem's
  // norm type, zero linear bias.
  const std::string normName = bn1_.ptr()->name();
  for (const auto &m : modules(/*include_self=*/false)) {
    if (auto *c = m->as<nn::Conv3dImpl>())
      nn::init::kaiming_normal_(c->weight, 0, torch::kFanOut, torch::kReLU);
    else if (auto *c2 = m->as<nn::Conv2dImpl>())
      nn::init::kaiming_normal_(c2->weight, 0, torch::kFanOut, torch::kReLU);
    else if (auto *c1 = m->as<nn::Conv1dImpl>())
      nn::init::kaiming_normal_(c1->weight, 0, torch::kFanOut, torch::kReLU);
    else if (auto *lin = m->as<nn::LinearImpl>())
      nn::init::zeros_(lin->bias);
    else if (m->name() == normName) {
      auto p = m->named_parameters(false);
      if (p.contains("weight") && p["weight"].defined())
        nn::init::ones_(p["weight"]);
      if (p.contains("bias") && p["bias"].defined())
        nn::init::zeros_(p["bias"]);
    }
  }
}

nn::Sequential ResNetImpl::makeLayer(int64_t planes, int64_t blocks, int64_t stride) {
  const int64_t d = options.spatial_dims();
  const bool basic = options.block() == "basic";
  const int64_t out =
      planes * (basic ? ResNetBlockImpl::expansion : ResNetBottleneckImpl::expansion);
  if (blocks < 1)
    throw Error("ResNet.layers", "every stage needs at least one block, got " + str(blocks));
  ResNetShortcut sc;
  sc.stride = stride;
  if (stride != 1 || in_planes_ != out) {
    if (options.shortcut_type() == "A") {
      if (out < in_planes_)
        throw Error("ResNet.shortcut_type", "shortcut \"A\" can only add channels (" +
                                                str(in_planes_) + " -> " + str(out) +
                                                "); use \"B\"");
      sc.shortcut_a_planes = out;
    } else {
      blocks::TensorSequential ds;
      ds->push_back(L::conv({"CONV",
                             {{"in_channels", in_planes_},
                              {"out_channels", out},
                              {"kernel_size", 1},
                              {"stride", stride},
                              {"bias", options.bias_downsample()}}},
                            d));
      ds->push_back(L::get_norm_layer(options.norm(), d, out));
      sc.downsample = nn::AnyModule(ds);
    }
  }
  nn::Sequential layer;
  auto add = [&](int64_t in, int64_t s, ResNetShortcut shortcut) {
    if (basic)
      layer->push_back(
          ResNetBlock(in, planes, d, s, std::move(shortcut), options.act(), options.norm()));
    else
      layer->push_back(
          ResNetBottleneck(in, planes, d, s, std::move(shortcut), options.act(), options.norm()));
  };
  add(in_planes_, stride, std::move(sc));
  in_planes_ = out;
  for (int64_t i = 1; i < blocks; ++i)
    add(in_planes_, 1, ResNetShortcut{});
  return layer;
}

at::Tensor ResNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.n_input_channels())
    throw Error("ResNet.input", "expected (B, " + str(options.n_input_channels()) + ", " + str(d) +
                                    " spatial axes), got " + c10::str(x.sizes()));
  at::Tensor h = act_.forward(bn1_.forward(conv1_.forward(x)));
  if (!options.no_max_pool())
    h = maxpool_.forward(h);
  for (auto &stage : stages_)
    h = stage->forward(h);
  h = avgpool_.forward(h).flatten(1);
  return fc_ ? fc_->forward(h) : h;
}

namespace {
ResNet make(ResNetOptions o, const char *block, std::vector<int64_t> layers) {
  return ResNet(o.block(block).layers(std::move(layers)).block_inplanes({64, 128, 256, 512}));
}
} // namespace

ResNet resnet10(ResNetOptions o) { return make(std::move(o), "basic", {1, 1, 1, 1}); }
ResNet resnet18(ResNetOptions o) { return make(std::move(o), "basic", {2, 2, 2, 2}); }
ResNet resnet34(ResNetOptions o) { return make(std::move(o), "basic", {3, 4, 6, 3}); }
ResNet resnet50(ResNetOptions o) { return make(std::move(o), "bottleneck", {3, 4, 6, 3}); }
ResNet resnet101(ResNetOptions o) { return make(std::move(o), "bottleneck", {3, 4, 23, 3}); }
ResNet resnet152(ResNetOptions o) { return make(std::move(o), "bottleneck", {3, 8, 36, 3}); }
ResNet resnet200(ResNetOptions o) { return make(std::move(o), "bottleneck", {3, 24, 36, 3}); }

} // namespace med::networks::nets
