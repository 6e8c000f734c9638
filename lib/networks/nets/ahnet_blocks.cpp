// AHNet's building blocks (ahnet.h, ahnet_layers.h): layer constructors, the residual
// Bottleneck3x3x1, the Pseudo-3D dense layer, the sequential decoder blocks and the PSP head.
#include <cmath>
#include <utility>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/modules/upsampling.h>

#include "ahnet_layers.h"
#include "med/core/error.h"
#include "med/networks/nets/ahnet.h"

namespace med::networks::nets {

namespace nn = torch::nn;

namespace ahnet_detail {

namespace {

/// A size spec of one entry repeated to d entries, or d entries as they are.
template <size_t D> torch::ExpandingArray<D> arr(const Dims &v) {
  if (v.size() == 1)
    return torch::ExpandingArray<D>(v[0]);
  return torch::ExpandingArray<D>(at::IntArrayRef(v));
}

/// AHNet's weight initialisation: N(0, 2 / n), n = k0 * k1 * out_channels.
void initWeight(at::Tensor &w, const Dims &k, int64_t out) {
  const int64_t k0 = k[0], k1 = k.size() > 1 ? k[1] : k[0];
  torch::NoGradGuard g;
  w.normal_(0.0, std::sqrt(2.0 / static_cast<double>(k0 * k1 * out)));
}

std::string str(int64_t v) { return std::to_string(v); }

} // namespace

Dims tail(const Dims &three, int64_t d) { return Dims(three.end() - d, three.end()); }
Dims head(const Dims &three, int64_t d) { return Dims(three.begin(), three.begin() + d); }

nn::AnyModule conv(int64_t d, int64_t in, int64_t out, Dims k, Dims s, Dims p, bool bias) {
  if (k.size() == 1)
    k = Dims(d, k[0]);
  if (d == 3) {
    nn::Conv3d c(
        nn::Conv3dOptions(in, out, arr<3>(k)).stride(arr<3>(s)).padding(arr<3>(p)).bias(bias));
    initWeight(c->weight, k, out);
    return nn::AnyModule(c);
  }
  nn::Conv2d c(
      nn::Conv2dOptions(in, out, arr<2>(k)).stride(arr<2>(s)).padding(arr<2>(p)).bias(bias));
  initWeight(c->weight, k, out);
  return nn::AnyModule(c);
}

nn::AnyModule convTranspose(int64_t d, int64_t in, int64_t out, Dims k, Dims s, Dims p, bool bias) {
  if (k.size() == 1)
    k = Dims(d, k[0]);
  if (d == 3) {
    nn::ConvTranspose3d c(nn::ConvTranspose3dOptions(in, out, arr<3>(k))
                              .stride(arr<3>(s))
                              .padding(arr<3>(p))
                              .bias(bias));
    initWeight(c->weight, k, out);
    return nn::AnyModule(c);
  }
  nn::ConvTranspose2d c(nn::ConvTranspose2dOptions(in, out, arr<2>(k))
                            .stride(arr<2>(s))
                            .padding(arr<2>(p))
                            .bias(bias));
  initWeight(c->weight, k, out);
  return nn::AnyModule(c);
}

nn::AnyModule batchNorm(int64_t d, int64_t channels) {
  if (d == 3)
    return nn::AnyModule(nn::BatchNorm3d(channels));
  return nn::AnyModule(nn::BatchNorm2d(channels));
}

nn::AnyModule maxPool(int64_t d, Dims k, Dims s, Dims p) {
  if (d == 3)
    return nn::AnyModule(
        nn::MaxPool3d(nn::MaxPool3dOptions(arr<3>(k)).stride(arr<3>(s)).padding(arr<3>(p))));
  return nn::AnyModule(
      nn::MaxPool2d(nn::MaxPool2dOptions(arr<2>(k)).stride(arr<2>(s)).padding(arr<2>(p))));
}

nn::AnyModule relu() { return nn::AnyModule(nn::ReLU(nn::ReLUOptions().inplace(true))); }

bool validUpsampleMode(const std::string &mode, int64_t d, std::string &why) {
  if (mode == "transpose" || mode == "nearest" || (mode == "bilinear" && d == 2) ||
      (mode == "trilinear" && d == 3))
    return true;
  why = "expected \"transpose\", \"nearest\" or \"" +
        std::string(d == 2 ? "bilinear" : "trilinear") + "\" for spatial_dims " + str(d) +
        ", got \"" + mode + "\"";
  return false;
}

namespace {

/// The x2 "up" layer of UpTransition / Final.
nn::AnyModule upLayer(int64_t d, int64_t ch, const std::string &mode) {
  if (mode == "transpose")
    return convTranspose(d, ch, ch, {2}, {2});
  nn::UpsampleOptions o;
  o.scale_factor(std::vector<double>(d, 2.0));
  if (mode == "nearest") {
    o.mode(torch::kNearest);
  } else {
    o.align_corners(true);
    if (mode == "bilinear")
      o.mode(torch::kBilinear);
    else
      o.mode(torch::kTrilinear);
  }
  return nn::AnyModule(nn::Upsample(o));
}

/// norm-relu-conv with the given conv, as "norm", "relu", "conv".
nn::Sequential normReluConv(int64_t d, int64_t in, nn::AnyModule c) {
  nn::Sequential s;
  s->push_back("norm", batchNorm(d, in));
  s->push_back("relu", relu());
  s->push_back("conv", std::move(c));
  return s;
}

} // namespace

nn::Sequential upTransition(int64_t d, int64_t in, int64_t out, const std::string &mode) {
  nn::Sequential s = normReluConv(d, in, conv(d, in, out, {1}));
  s->push_back("up", upLayer(d, out, mode));
  return s;
}

nn::Sequential projection(int64_t d, int64_t in, int64_t out) {
  return normReluConv(d, in, conv(d, in, out, {1}));
}

nn::Sequential finalBlock(int64_t d, int64_t in, int64_t out, const std::string &mode) {
  nn::Sequential s =
      normReluConv(d, in, conv(d, in, out, tail({3, 3, 1}, d), {1}, tail({1, 1, 0}, d)));
  s->push_back("up", upLayer(d, out, mode));
  return s;
}

nn::Sequential denseBlock(int64_t d, int64_t num_layers, int64_t in, int64_t bn_size,
                          int64_t growth_rate, double dropout_prob) {
  nn::Sequential s;
  for (int64_t i = 0; i < num_layers; ++i)
    s->push_back("denselayer" + std::to_string(i + 1),
                 Pseudo3DLayer(d, in + i * growth_rate, growth_rate, bn_size, dropout_prob));
  return s;
}

} // namespace ahnet_detail

namespace A = ahnet_detail;

Bottleneck3x3x1Impl::Bottleneck3x3x1Impl(int64_t d, int64_t inplanes, int64_t planes,
                                         std::vector<int64_t> stride, nn::Sequential downsample) {
  auto reg = [this](const char *name, nn::AnyModule &slot, nn::AnyModule m) {
    slot = std::move(m);
    register_module(name, slot.ptr());
  };
  reg("conv1", conv1_, A::conv(d, inplanes, planes, {1}));
  reg("bn1", bn1_, A::batchNorm(d, planes));
  reg("conv2", conv2_,
      A::conv(d, planes, planes, A::tail({3, 3, 1}, d), stride, A::tail({1, 1, 0}, d)));
  reg("bn2", bn2_, A::batchNorm(d, planes));
  reg("conv3", conv3_, A::conv(d, planes, planes * expansion, {1}));
  reg("bn3", bn3_, A::batchNorm(d, planes * expansion));
  reg("relu", relu_, A::relu());
  if (downsample)
    downsample_ = register_module("downsample", downsample);
  reg("pool", pool_, A::maxPool(d, A::tail({1, 1, 2}, d), A::tail({1, 1, 2}, d)));
}

at::Tensor Bottleneck3x3x1Impl::forward(const at::Tensor &x) {
  at::Tensor out = relu_.forward(bn1_.forward(conv1_.forward(x)));
  out = relu_.forward(bn2_.forward(conv2_.forward(out)));
  out = bn3_.forward(conv3_.forward(out));
  at::Tensor residual = x;
  if (downsample_) {
    residual = downsample_->forward(x);
    if (out.sizes() != residual.sizes())
      out = pool_.forward(out);
  }
  return relu_.forward(out + residual);
}

Pseudo3DLayerImpl::Pseudo3DLayerImpl(int64_t d, int64_t in, int64_t growth_rate, int64_t bn_size,
                                     double /*dropout_prob: MONAI forces it to 0*/) {
  const int64_t mid = bn_size * growth_rate;
  auto reg = [this](const char *name, nn::AnyModule &slot, nn::AnyModule m) {
    slot = std::move(m);
    register_module(name, slot.ptr());
  };
  reg("bn1", bn1_, A::batchNorm(d, in));
  reg("relu1", relu1_, A::relu());
  reg("conv1", conv1_, A::conv(d, in, mid, {1}));
  reg("bn2", bn2_, A::batchNorm(d, mid));
  reg("relu2", relu2_, A::relu());
  reg("conv2", conv2_,
      A::conv(d, mid, growth_rate, A::tail({3, 3, 1}, d), {1}, A::tail({1, 1, 0}, d)));
  reg("bn3", bn3_, A::batchNorm(d, growth_rate));
  reg("relu3", relu3_, A::relu());
  reg("conv3", conv3_,
      A::conv(d, growth_rate, growth_rate, A::tail({1, 1, 3}, d), {1}, A::tail({0, 0, 1}, d)));
  reg("bn4", bn4_, A::batchNorm(d, growth_rate));
  reg("relu4", relu4_, A::relu());
  reg("conv4", conv4_, A::conv(d, growth_rate, growth_rate, {1}));
}

at::Tensor Pseudo3DLayerImpl::forward(const at::Tensor &x) {
  at::Tensor h = conv1_.forward(relu1_.forward(bn1_.forward(x)));
  at::Tensor a = conv2_.forward(relu2_.forward(bn2_.forward(h)));
  at::Tensor b = conv3_.forward(relu3_.forward(bn3_.forward(a)));
  at::Tensor y = conv4_.forward(relu4_.forward(bn4_.forward(a + b)));
  return at::cat({x, y}, 1);
}

PSPImpl::PSPImpl(int64_t d, int64_t psp_block_num, int64_t in_ch, std::string upsample_mode)
    : upsample_mode_(std::move(upsample_mode)) {
  up_modules_ = register_module("up_modules", nn::ModuleList());
  pool_modules_ = register_module("pool_modules", nn::ModuleList());
  project_modules_ = register_module("project_modules", nn::ModuleList());
  for (int64_t i = 0; i < psp_block_num; ++i) {
    const int64_t s = int64_t(1) << (i + 3);
    pools_.push_back(A::maxPool(d, A::tail({s, s, 1}, d), A::tail({s, s, 1}, d)));
    pool_modules_->push_back(pools_.back().ptr());
    // The projection pads by 1 in the pooled axes; the transposed conv's padding s removes it.
    projects_.push_back(A::conv(d, in_ch, 1, {1}, {1}, A::tail({1, 1, 0}, d), /*bias=*/true));
    project_modules_->push_back(projects_.back().ptr());
  }
  if (upsample_mode_ == "transpose")
    for (int64_t i = 0; i < psp_block_num; ++i) {
      const int64_t s = int64_t(1) << (i + 3);
      ups_.push_back(A::convTranspose(d, 1, 1, A::tail({s, s, 1}, d), A::tail({s, s, 1}, d),
                                      A::tail({s, s, 0}, d), /*bias=*/true));
      up_modules_->push_back(ups_.back().ptr());
    }
}

at::Tensor PSPImpl::forward(const at::Tensor &x) {
  namespace F = torch::nn::functional;
  std::vector<at::Tensor> outs;
  for (size_t i = 0; i < pools_.size(); ++i) {
    at::Tensor p = projects_[i].forward(pools_[i].forward(x));
    if (upsample_mode_ == "transpose") {
      outs.push_back(ups_[i].forward(p));
      continue;
    }
    auto o = F::InterpolateFuncOptions().size(x.sizes().slice(2).vec());
    if (upsample_mode_ == "nearest")
      o.mode(torch::kNearest);
    else if (upsample_mode_ == "bilinear")
      o.mode(torch::kBilinear).align_corners(true);
    else
      o.mode(torch::kTrilinear).align_corners(true);
    outs.push_back(F::interpolate(p, o));
  }
  return at::cat(outs, 1);
}

} // namespace med::networks::nets
