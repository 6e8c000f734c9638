// SegResNet (segresnet.h) and its ResBlock.
#include "med/networks/nets/segresnet.h"

#include <algorithm>
#include <cctype>

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/upsampling.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {

using detail::segresnetConv;

/// norm1 -> act -> conv1 -> norm2 -> act -> conv2, plus the input.
class ResBlockImpl : public nn::Module {
public:
  ResBlockImpl(int64_t d, int64_t ch, const LayerSpec &norm, const LayerSpec &act) {
    norm1_ = L::get_norm_layer(norm, d, ch);
    norm2_ = L::get_norm_layer(norm, d, ch);
    act_ = L::get_act_layer(act);
    register_module("norm1", norm1_.ptr());
    register_module("norm2", norm2_.ptr());
    register_module("act", act_.ptr());
    conv1_ = register_module("conv1", segresnetConv(d, ch, ch));
    conv2_ = register_module("conv2", segresnetConv(d, ch, ch));
  }
  at::Tensor forward(const at::Tensor &x) {
    at::Tensor h = conv1_->forward(act_.forward(norm1_.forward(x)));
    h = conv2_->forward(act_.forward(norm2_.forward(h)));
    return h + x;
  }

private:
  nn::AnyModule norm1_, norm2_, act_;
  B::Convolution conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(ResBlock);

} // namespace

SegResNetImpl::SegResNetImpl(SegResNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d != 2 && d != 3)
    throw Error("SegResNet.spatial_dims", "expected 2 or 3, got " + std::to_string(d));
  if (options.blocks_down().empty())
    throw Error("SegResNet.blocks_down", "expected at least one level");
  if (options.blocks_up().size() > options.blocks_down().size() - 1)
    throw Error("SegResNet.blocks_up", "expected at most len(blocks_down) - 1 = " +
                                           std::to_string(options.blocks_down().size() - 1) +
                                           " levels, got " +
                                           std::to_string(options.blocks_up().size()));
  LayerSpec norm = options.norm();
  if (!options.norm_name().empty()) {
    std::string n = options.norm_name();
    for (char &c : n)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n != "group")
      throw Error("SegResNet.norm_name", "only \"group\" is supported, got \"" + n + "\"");
    norm = LayerSpec("group", {{"num_groups", options.num_groups()}});
  }
  const int64_t f = options.init_filters();
  convInit_ = register_module("convInit", segresnetConv(d, options.in_channels(), f));

  auto downList = nn::ModuleList();
  for (size_t i = 0; i < options.blocks_down().size(); ++i) {
    const int64_t ch = f << i;
    B::TensorSequential level;
    if (i > 0)
      level->push_back(segresnetConv(d, ch / 2, ch, 3, 2));
    else
      level->push_back(nn::Identity());
    for (int64_t b = 0; b < options.blocks_down()[i]; ++b)
      level->push_back(ResBlock(d, ch, norm, options.act()));
    downList->push_back(level);
    down_.push_back(level);
  }
  register_module("down_layers", downList);

  auto upList = nn::ModuleList(), sampleList = nn::ModuleList();
  const int64_t nUp = static_cast<int64_t>(options.blocks_up().size());
  for (int64_t i = 0; i < nUp; ++i) {
    const int64_t ch = f << (nUp - i);
    B::TensorSequential level, sample;
    for (int64_t b = 0; b < options.blocks_up()[i]; ++b)
      level->push_back(ResBlock(d, ch / 2, norm, options.act()));
    sample->push_back(segresnetConv(d, ch, ch / 2, 1));
    sample->push_back(detail::segresnetUpsample(d, ch / 2, options.upsample_mode(), "SegResNet"));
    upList->push_back(level);
    sampleList->push_back(sample);
    up_layers_.push_back(level);
    up_samples_.push_back(sample);
  }
  register_module("up_layers", upList);
  register_module("up_samples", sampleList);

  conv_final_ = B::TensorSequential();
  conv_final_->push_back(L::get_norm_layer(norm, d, f));
  conv_final_->push_back(L::get_act_layer(options.act()));
  conv_final_->push_back(segresnetConv(d, f, options.out_channels(), 1, 1, true));
  register_module("conv_final", conv_final_);
  if (options.dropout_prob()) {
    dropout_ = L::dropout({"DROPOUT", {{"p", *options.dropout_prob()}}}, d);
    register_module("dropout", dropout_.ptr());
  }
}

std::pair<at::Tensor, std::vector<at::Tensor>> SegResNetImpl::runEncoder(const at::Tensor &x) {
  at::Tensor h = convInit_->forward(x);
  if (!dropout_.is_empty())
    h = dropout_.forward(h);
  std::vector<at::Tensor> levels;
  for (auto &level : down_) {
    h = level->forward(h);
    levels.push_back(h);
  }
  return {h, levels};
}

at::Tensor SegResNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("SegResNet.input", "expected (B, " + std::to_string(options.in_channels()) + ", " +
                                       std::to_string(d) + " spatial axes), got " +
                                       c10::str(x.sizes()));
  const int64_t m = int64_t(1) << (options.blocks_down().size() - 1);
  for (int64_t i = 2; i < x.dim(); ++i)
    if (x.size(i) % m != 0)
      throw Error("SegResNet.input", "spatial size " + std::to_string(x.size(i)) + " (axis " +
                                         std::to_string(i - 2) + ") must be divisible by " +
                                         std::to_string(m) + " (2^(len(blocks_down) - 1))");
  auto [h, skips] = runEncoder(x);
  std::reverse(skips.begin(), skips.end());
  for (size_t i = 0; i < up_samples_.size(); ++i)
    h = up_layers_[i]->forward(up_samples_[i]->forward(h) + skips[i + 1]);
  return options.use_conv_final() ? conv_final_->forward(h) : h;
}

B::Convolution detail::segresnetConv(int64_t d, int64_t in, int64_t out, int64_t k, int64_t stride,
                                     bool bias) {
  return B::Convolution(B::ConvolutionOptions(d, in, out)
                            .kernel_size({k})
                            .strides({stride})
                            .bias(bias)
                            .conv_only(true));
}

B::TensorSequential detail::segresnetUpsample(int64_t d, int64_t ch, const std::string &mode,
                                              const std::string &owner) {
  B::TensorSequential up;
  if (mode == "deconv") {
    up->push_back(
        "deconv",
        L::conv({"CONVTRANS",
                 {{"in_channels", ch}, {"out_channels", ch}, {"kernel_size", 2}, {"stride", 2}}},
                d));
    return up;
  }
  if (mode != "nontrainable")
    throw Error(owner + ".upsample_mode",
                "expected \"nontrainable\" or \"deconv\", got \"" + mode + "\"");
  nn::UpsampleOptions o;
  o.scale_factor(std::vector<double>(d, 2.0)).align_corners(false);
  if (d == 2)
    o.mode(torch::kBilinear);
  else
    o.mode(torch::kTrilinear);
  up->push_back("upsample_non_trainable", nn::Upsample(o));
  return up;
}

} // namespace med::networks::nets
