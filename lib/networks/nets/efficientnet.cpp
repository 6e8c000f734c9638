// MBConvBlock, EfficientNet and the EfficientNetBN presets (efficientnet.h).
#include "med/networks/nets/efficientnet.h"

#include <cmath>
#include <map>
#include <regex>
#include <tuple>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/padding.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace nn = torch::nn;
namespace L = med::networks::layers;

at::Tensor MemoryEfficientSwishImpl::forward(const at::Tensor &x) { return x * at::sigmoid(x); }

namespace {

nn::AnyModule conv(int64_t d, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups,
                   bool bias) {
  return L::conv({"CONV",
                  {{"in_channels", in},
                   {"out_channels", out},
                   {"kernel_size", k},
                   {"stride", stride},
                   {"groups", groups},
                   {"bias", bias}}},
                 d);
}

// TensorFlow "same" padding of a (k, stride) conv for `image` (MONAI's _make_same_padder): a
// ConstantPad (last axis first, the odd pixel at the end) or Identity when none is needed.
nn::AnyModule samePadder(const std::vector<int64_t> &image, int64_t k, int64_t stride) {
  std::vector<int64_t> pad;
  int64_t total = 0;
  for (auto it = image.rbegin(); it != image.rend(); ++it) {
    const int64_t need =
        std::max<int64_t>((((*it + stride - 1) / stride) - 1) * stride + k - *it, 0);
    pad.push_back(need / 2);
    pad.push_back(need - need / 2);
    total += need;
  }
  if (total == 0)
    return nn::AnyModule(nn::Identity());
  switch (image.size()) {
  case 1:
    return nn::AnyModule(nn::ConstantPad1d(nn::ConstantPad1dOptions({pad[0], pad[1]}, 0.0)));
  case 2:
    return nn::AnyModule(
        nn::ConstantPad2d(nn::ConstantPad2dOptions({pad[0], pad[1], pad[2], pad[3]}, 0.0)));
  default:
    return nn::AnyModule(nn::ConstantPad3d(
        nn::ConstantPad3dOptions({pad[0], pad[1], pad[2], pad[3], pad[4], pad[5]}, 0.0)));
  }
}

std::vector<int64_t> outSize(const std::vector<int64_t> &image, int64_t stride) {
  std::vector<int64_t> out;
  for (int64_t s : image)
    out.push_back((s + stride - 1) / stride);
  return out;
}

nn::AnyModule adaptivePool(int64_t d) { return L::pool({"ADAPTIVEAVG", {{"output_size", 1}}}, d); }

// MONAI's drop_connect: zero whole samples with probability p, rescale the rest by 1 / (1 - p).
at::Tensor dropConnect(const at::Tensor &x, double p) {
  const double keep = 1.0 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  at::Tensor mask = at::floor(at::rand(shape, x.options()) + keep);
  return x / keep * mask;
}

struct BlockArgs {
  int64_t num_repeat, kernel_size, stride, expand_ratio, input_filters, output_filters;
  double se_ratio;
  bool id_skip;
};

BlockArgs parseBlock(const std::string &s) {
  const std::string W = "EfficientNet.blocks_args_str";
  std::map<std::string, std::string> f;
  size_t start = 0;
  bool noskip = false;
  while (start <= s.size()) {
    size_t end = s.find('_', start);
    std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::smatch m;
    if (part == "noskip")
      noskip = true;
    else if (std::regex_match(part, m, std::regex("([a-z]+)([0-9.]+)")))
      f[m[1]] = m[2];
    else
      throw Error(W, "cannot read \"" + part + "\" in \"" + s + "\"");
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  for (const char *k : {"r", "k", "s", "e", "i", "o"})
    if (!f.count(k))
      throw Error(W, std::string("\"") + s + "\" lacks the field \"" + k + "\"");
  BlockArgs a{};
  a.num_repeat = std::stoll(f["r"]);
  a.kernel_size = std::stoll(f["k"]);
  a.stride = f["s"][0] - '0'; // MONAI reads the first digit of e.g. "s22"
  a.expand_ratio = std::stoll(f["e"]);
  a.input_filters = std::stoll(f["i"]);
  a.output_filters = std::stoll(f["o"]);
  a.se_ratio = f.count("se") ? std::stod(f["se"]) : -1.0;
  a.id_skip = !noskip;
  return a;
}

int64_t roundFilters(int64_t filters, double width, int64_t divisor) {
  if (width == 0.0)
    return filters;
  const double ff = filters * width;
  int64_t nf =
      std::max<int64_t>(divisor, static_cast<int64_t>(ff + divisor / 2.0) / divisor * divisor);
  if (nf < 0.9 * ff)
    nf += divisor;
  return nf;
}

int64_t roundRepeats(int64_t repeats, double depth) {
  return depth == 0.0 ? repeats : static_cast<int64_t>(std::ceil(depth * repeats));
}

} // namespace

MBConvBlockImpl::MBConvBlockImpl(MBConvBlockOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims(), in = options.in_channels();
  if (d < 1 || d > 3)
    throw Error("MBConvBlock.spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  if (options.stride() < 1 || options.kernel_size() < 1 || options.expand_ratio() < 1)
    throw Error("MBConvBlock", "kernel_size, stride and expand_ratio must be positive");
  if (options.drop_connect_rate() < 0.0 || options.drop_connect_rate() > 1.0)
    throw Error("MBConvBlock.drop_connect_rate", "should be between 0 and 1");
  const int64_t oup = in * options.expand_ratio();
  has_se_ = options.se_ratio() > 0.0 && options.se_ratio() <= 1.0;
  if (options.expand_ratio() != 1) {
    expand_conv_ = conv(d, in, oup, 1, 1, 1, false);
    expand_pad_ = samePadder(options.image_size(), 1, 1);
    bn0_ = L::get_norm_layer(options.norm(), d, oup);
  } else { // MONAI keeps Identity placeholders here
    expand_conv_ = nn::AnyModule(nn::Identity());
    expand_pad_ = nn::AnyModule(nn::Identity());
    bn0_ = nn::AnyModule(nn::Identity());
  }
  depthwise_conv_ = conv(d, oup, oup, options.kernel_size(), options.stride(), oup, false);
  depthwise_pad_ = samePadder(options.image_size(), options.kernel_size(), options.stride());
  bn1_ = L::get_norm_layer(options.norm(), d, oup);
  register_module("_expand_conv", expand_conv_.ptr());
  register_module("_expand_conv_padding", expand_pad_.ptr());
  register_module("_bn0", bn0_.ptr());
  register_module("_depthwise_conv", depthwise_conv_.ptr());
  register_module("_depthwise_conv_padding", depthwise_pad_.ptr());
  register_module("_bn1", bn1_.ptr());
  if (has_se_) {
    const int64_t squeezed = std::max<int64_t>(1, static_cast<int64_t>(in * options.se_ratio()));
    const std::vector<int64_t> one(d, 1);
    se_pool_ = adaptivePool(d);
    se_reduce_ = conv(d, oup, squeezed, 1, 1, 1, true);
    se_reduce_pad_ = samePadder(one, 1, 1);
    se_expand_ = conv(d, squeezed, oup, 1, 1, 1, true);
    se_expand_pad_ = samePadder(one, 1, 1);
    register_module("_se_adaptpool", se_pool_.ptr());
    register_module("_se_reduce", se_reduce_.ptr());
    register_module("_se_reduce_padding", se_reduce_pad_.ptr());
    register_module("_se_expand", se_expand_.ptr());
    register_module("_se_expand_padding", se_expand_pad_.ptr());
  }
  project_conv_ = conv(d, oup, options.out_channels(), 1, 1, 1, false);
  project_pad_ = samePadder(outSize(options.image_size(), options.stride()), 1, 1);
  bn2_ = L::get_norm_layer(options.norm(), d, options.out_channels());
  register_module("_project_conv", project_conv_.ptr());
  register_module("_project_conv_padding", project_pad_.ptr());
  register_module("_bn2", bn2_.ptr());
  swish_ = register_module("_swish", MemoryEfficientSwish());
}

at::Tensor MBConvBlockImpl::forward(const at::Tensor &x) {
  at::Tensor y = x;
  if (options.expand_ratio() != 1)
    y = swish_->forward(bn0_.forward(expand_conv_.forward(expand_pad_.forward(y))));
  y = swish_->forward(bn1_.forward(depthwise_conv_.forward(depthwise_pad_.forward(y))));
  if (has_se_) {
    at::Tensor s = se_reduce_.forward(se_reduce_pad_.forward(se_pool_.forward(y)));
    s = se_expand_.forward(se_expand_pad_.forward(swish_->forward(s)));
    y = at::sigmoid(s) * y;
  }
  y = bn2_.forward(project_conv_.forward(project_pad_.forward(y)));
  if (options.id_skip() && options.stride() == 1 &&
      options.in_channels() == options.out_channels()) {
    if (options.drop_connect_rate() > 0.0 && is_training())
      y = dropConnect(y, options.drop_connect_rate());
    y = y + x;
  }
  return y;
}

EfficientNetImpl::EfficientNetImpl(EfficientNetOptions o) : options(std::move(o)) {
  const std::string W = "EfficientNet";
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error(W + ".spatial_dims", "can only be 1, 2 or 3, got " + std::to_string(d));
  if (options.blocks_args_str().empty())
    throw Error(W + ".blocks_args_str", "must be non-empty");
  if (options.dropout_rate() < 0.0 || options.dropout_rate() > 1.0)
    throw Error(W + ".dropout_rate", "should be between 0 and 1");
  const double wc = options.width_coefficient();
  const int64_t div = options.depth_divisor();
  std::vector<int64_t> image(d, options.image_size());
  const int64_t stem = roundFilters(32, wc, div);
  conv_stem_ = conv(d, options.in_channels(), stem, 3, 2, 1, false);
  stem_pad_ = samePadder(image, 3, 2);
  bn0_ = L::get_norm_layer(options.norm(), d, stem);
  register_module("_conv_stem", conv_stem_.ptr());
  register_module("_conv_stem_padding", stem_pad_.ptr());
  register_module("_bn0", bn0_.ptr());
  image = outSize(image, 2);
  std::vector<BlockArgs> args;
  int64_t num_blocks = 0;
  for (const auto &str : options.blocks_args_str()) {
    BlockArgs a = parseBlock(str);
    a.input_filters = roundFilters(a.input_filters, wc, div);
    a.output_filters = roundFilters(a.output_filters, wc, div);
    a.num_repeat = roundRepeats(a.num_repeat, options.depth_coefficient());
    num_blocks += a.num_repeat;
    args.push_back(a);
  }
  blocks_ = register_module("_blocks", blocks::TensorSequential());
  int64_t idx = 0;
  BlockArgs last{};
  for (size_t stack = 0; stack < args.size(); ++stack) {
    BlockArgs a = args[stack];
    auto sub = blocks::TensorSequential();
    for (int64_t r = 0; r < std::max<int64_t>(a.num_repeat, 1); ++r) {
      // The drop-connect rate grows linearly with the block index.
      const double rate = options.drop_connect_rate() * static_cast<double>(idx) / num_blocks;
      sub->push_back(std::to_string(idx),
                     MBConvBlock(MBConvBlockOptions(d, a.input_filters, a.output_filters,
                                                    a.kernel_size, a.stride, image, a.expand_ratio)
                                     .se_ratio(a.se_ratio)
                                     .id_skip(a.id_skip)
                                     .norm(options.norm())
                                     .drop_connect_rate(rate)));
      ++idx;
      if (r == 0) {
        image = outSize(image, a.stride);
        a.input_filters = a.output_filters;
        a.stride = 1;
      }
    }
    blocks_->push_back(std::to_string(stack), sub);
    last = a;
  }
  const int64_t head = roundFilters(1280, wc, div);
  conv_head_ = conv(d, last.output_filters, head, 1, 1, 1, false);
  head_pad_ = samePadder(image, 1, 1);
  bn1_ = L::get_norm_layer(options.norm(), d, head);
  avg_pooling_ = adaptivePool(d);
  register_module("_conv_head", conv_head_.ptr());
  register_module("_conv_head_padding", head_pad_.ptr());
  register_module("_bn1", bn1_.ptr());
  register_module("_avg_pooling", avg_pooling_.ptr());
  dropout_ = register_module("_dropout", nn::Dropout(options.dropout_rate()));
  fc_ = register_module("_fc", nn::Linear(head, options.num_classes()));
  swish_ = register_module("_swish", MemoryEfficientSwish());
  // MONAI's TensorFlow-style initialisation.
  torch::NoGradGuard noGrad;
  for (auto &m : modules(/*include_self=*/false)) {
    const std::string n = m->name();
    auto params = m->named_parameters(/*recurse=*/false);
    if (n.find("Conv") != std::string::npos && params.contains("weight")) {
      at::Tensor w = params["weight"];
      const double fan_out = static_cast<double>(w.numel() / w.size(1));
      w.normal_(0.0, std::sqrt(2.0 / fan_out));
      if (params.contains("bias"))
        params["bias"].zero_();
    } else if (n.find("BatchNorm") != std::string::npos && params.contains("weight")) {
      params["weight"].fill_(1.0);
      params["bias"].zero_();
    } else if (n.find("Linear") != std::string::npos) {
      at::Tensor w = params["weight"];
      const double r = 1.0 / std::sqrt(static_cast<double>(w.size(0)));
      w.uniform_(-r, r);
      params["bias"].zero_();
    }
  }
}

at::Tensor EfficientNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("EfficientNet.forward", "expected (B, " + std::to_string(options.in_channels()) +
                                            ", *S) with " + std::to_string(d) + " spatial axes");
  at::Tensor y = swish_->forward(bn0_.forward(conv_stem_.forward(stem_pad_.forward(x))));
  y = blocks_->forward(y);
  y = swish_->forward(bn1_.forward(conv_head_.forward(head_pad_.forward(y))));
  y = avg_pooling_.forward(y).flatten(1);
  return fc_->forward(dropout_->forward(y));
}

EfficientNetOptions efficientNetBNOptions(const EfficientNetBNOptions &o) {
  // model name -> (width, depth, image size, dropout rate, drop-connect rate), MONAI's table.
  static const std::map<std::string, std::tuple<double, double, int64_t, double, double>> presets{
      {"efficientnet-b0", {1.0, 1.0, 224, 0.2, 0.2}},
      {"efficientnet-b1", {1.0, 1.1, 240, 0.2, 0.2}},
      {"efficientnet-b2", {1.1, 1.2, 260, 0.3, 0.2}},
      {"efficientnet-b3", {1.2, 1.4, 300, 0.3, 0.2}},
      {"efficientnet-b4", {1.4, 1.8, 380, 0.4, 0.2}},
      {"efficientnet-b5", {1.6, 2.2, 456, 0.4, 0.2}},
      {"efficientnet-b6", {1.8, 2.6, 528, 0.5, 0.2}},
      {"efficientnet-b7", {2.0, 3.1, 600, 0.5, 0.2}},
      {"efficientnet-b8", {2.2, 3.6, 672, 0.5, 0.2}},
      {"efficientnet-l2", {4.3, 5.3, 800, 0.5, 0.2}}};
  auto it = presets.find(o.model_name());
  if (it == presets.end())
    throw Error("EfficientNetBN.model_name",
                "expected efficientnet-b0 .. efficientnet-b8 or efficientnet-l2, got \"" +
                    o.model_name() + "\"");
  if (o.pretrained())
    throw Error("EfficientNetBN.pretrained",
                "weights are not downloaded; build with pretrained false and load a converted "
                "checkpoint");
  auto [w, dep, img, drop, dc] = it->second;
  return EfficientNetOptions({"r1_k3_s11_e1_i32_o16_se0.25", "r2_k3_s22_e6_i16_o24_se0.25",
                              "r2_k5_s22_e6_i24_o40_se0.25", "r3_k3_s22_e6_i40_o80_se0.25",
                              "r3_k5_s11_e6_i80_o112_se0.25", "r4_k5_s22_e6_i112_o192_se0.25",
                              "r1_k3_s11_e6_i192_o320_se0.25"})
      .spatial_dims(o.spatial_dims())
      .in_channels(o.in_channels())
      .num_classes(o.num_classes())
      .width_coefficient(w)
      .depth_coefficient(dep)
      .dropout_rate(drop)
      .image_size(img)
      .norm(o.norm())
      .drop_connect_rate(dc);
}

} // namespace med::networks::nets
