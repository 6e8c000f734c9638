// AHNet (ahnet.h): the encoder stem and residual layers, the dense decoder and the PSP head.
#include "med/networks/nets/ahnet.h"

#include <algorithm>
#include <string>
#include <utility>

#include <ATen/ATen.h>

#include "ahnet_layers.h"
#include "med/core/error.h"

namespace med::networks::nets {

namespace nn = torch::nn;
namespace A = ahnet_detail;

namespace {
std::string str(int64_t v) { return std::to_string(v); }
} // namespace

AHNetImpl::AHNetImpl(AHNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d != 2 && d != 3)
    throw Error("AHNet.spatial_dims", "expected 2 or 3, got " + str(d));
  if (options.psp_block_num() < 0 || options.psp_block_num() > 4)
    throw Error("AHNet.psp_block_num",
                "expected an integer in [0, 4], got " + str(options.psp_block_num()));
  if (options.in_channels() < 1)
    throw Error("AHNet.in_channels",
                "expected a positive count, got " + str(options.in_channels()));
  if (options.out_channels() < 1)
    throw Error("AHNet.out_channels",
                "expected a positive count, got " + str(options.out_channels()));
  const auto &layers = options.layers();
  if (layers.size() != 4 ||
      std::any_of(layers.begin(), layers.end(), [](int64_t n) { return n < 1; }))
    throw Error("AHNet.layers", "expected 4 positive residual-unit counts (layer1..layer4)");
  const std::string &mode = options.upsample_mode();
  std::string why;
  if (!A::validUpsampleMode(mode, d, why))
    throw Error("AHNet.upsample_mode", why);
  if (options.pretrained())
    throw Error("AHNet.pretrained",
                "true is not supported: the ImageNet FCN weights would have to be downloaded; "
                "load a converted MONAI state_dict instead");

  auto reg = [this](const char *name, nn::AnyModule &slot, nn::AnyModule m) {
    slot = std::move(m);
    register_module(name, slot.ptr());
  };
  reg("conv1", conv1_,
      A::conv(d, options.in_channels(), 64, A::tail({7, 7, 3}, d), A::tail({2, 2, 1}, d),
              A::tail({3, 3, 1}, d)));
  reg("pool1", pool1_, A::maxPool(d, A::tail({1, 1, 2}, d), A::tail({1, 1, 2}, d)));
  reg("bn0", bn0_, A::batchNorm(d, 64));
  reg("relu", relu_, A::relu());
  // Kernel == stride keeps "transpose"/"nearest" deterministic (MONAI's choice).
  if (mode == "transpose" || mode == "nearest")
    reg("maxpool", maxpool_, A::maxPool(d, {2}, {2}));
  else
    reg("maxpool", maxpool_, A::maxPool(d, {3}, {2}, {1}));

  layer1_ = register_module("layer1", makeLayer(64, layers[0], 1));
  layer2_ = register_module("layer2", makeLayer(128, layers[1], 2));
  layer3_ = register_module("layer3", makeLayer(256, layers[2], 2));
  layer4_ = register_module("layer4", makeLayer(512, layers[3], 2));

  // The dense decoder: growth 20, bottleneck 4x, 3 layers per block.
  const int64_t growth = 20, bn_size = 4, nlayers = 3, added = growth * nlayers;
  const int64_t init = 64, res1 = 256, res2 = 512, res3 = 1024, res4 = 2048;
  up0_ = register_module("up0", A::upTransition(d, res4, res3, mode));
  dense0_ = register_module("dense0", A::denseBlock(d, nlayers, res3, bn_size, growth, 0.0));
  up1_ = register_module("up1", A::upTransition(d, res3 + added, res2, mode));
  dense1_ = register_module("dense1", A::denseBlock(d, nlayers, res2, bn_size, growth, 0.0));
  up2_ = register_module("up2", A::upTransition(d, res2 + added, res1, mode));
  dense2_ = register_module("dense2", A::denseBlock(d, nlayers, res1, bn_size, growth, 0.0));
  trans1_ = register_module("trans1", A::projection(d, res1 + added, init));
  dense3_ = register_module("dense3", A::denseBlock(d, nlayers, init, bn_size, growth, 0.0));
  up3_ = register_module("up3", A::upTransition(d, init + added, init, mode));
  dense4_ = register_module("dense4", A::denseBlock(d, nlayers, init, bn_size, growth, 0.0));
  psp_ = register_module("psp", PSP(d, options.psp_block_num(), init + added, mode));
  final_ = register_module("final", A::finalBlock(d, options.psp_block_num() + init + added,
                                                  options.out_channels(), mode));
}

nn::Sequential AHNetImpl::makeLayer(int64_t planes, int64_t blocks, int64_t stride) {
  const int64_t d = options.spatial_dims();
  const int64_t out = planes * Bottleneck3x3x1Impl::expansion;
  nn::Sequential downsample{nullptr};
  if (stride != 1 || inplanes_ != out) {
    // Strided 1x1 conv in the first two axes, then a pool for the last one (a no-op in 2D).
    downsample = nn::Sequential();
    downsample->push_back(A::conv(d, inplanes_, out, {1}, A::head({stride, stride, 1}, d)));
    downsample->push_back(A::maxPool(d, A::head({1, 1, stride}, d), A::head({1, 1, stride}, d)));
    downsample->push_back(A::batchNorm(d, out));
  }
  nn::Sequential layer;
  layer->push_back(
      Bottleneck3x3x1(d, inplanes_, planes, A::head({stride, stride, 1}, d), downsample));
  inplanes_ = out;
  for (int64_t i = 1; i < blocks; ++i)
    layer->push_back(Bottleneck3x3x1(d, inplanes_, planes, A::head({1, 1, 1}, d), nullptr));
  return layer;
}

at::Tensor AHNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("AHNet.input", "expected (B, " + str(options.in_channels()) + ", " + str(d) +
                                   " spatial axes), got " + c10::str(x.sizes()));
  // Four stride-2 stages below the half-resolution stem must undo exactly (multiples of 32);
  // the PSP head pools the half-resolution map by up to 2^(psp_block_num + 2) in every axis but
  // the last, and its transposed convs need that to divide exactly.
  const int64_t psp = int64_t(1) << (options.psp_block_num() + 3);
  const bool transpose = options.upsample_mode() == "transpose";
  for (int64_t i = 2; i < x.dim(); ++i) {
    const bool last = i == x.dim() - 1;
    const int64_t n = x.size(i);
    const int64_t multiple =
        (!last && transpose && options.psp_block_num() > 0) ? std::max<int64_t>(32, psp) : 32;
    if (n % multiple != 0 || n == 0)
      throw Error("AHNet.input", "spatial size " + str(n) + " (axis " + str(i - 2) +
                                     ") must be a positive multiple of " + str(multiple));
    if (!last && !transpose && options.psp_block_num() > 0 && n < psp)
      throw Error("AHNet.input", "spatial size " + str(n) + " (axis " + str(i - 2) +
                                     ") must be at least " + str(psp) + " for the PSP head");
  }

  at::Tensor h = relu_.forward(bn0_.forward(pool1_.forward(conv1_.forward(x))));
  const at::Tensor conv_x = h;
  const at::Tensor pool_x = maxpool_.forward(h);
  const at::Tensor fm1 = layer1_->forward(pool_x);
  const at::Tensor fm2 = layer2_->forward(fm1);
  const at::Tensor fm3 = layer3_->forward(fm2);
  const at::Tensor fm4 = layer4_->forward(fm3);

  at::Tensor dn = dense0_->forward(up0_->forward(fm4) + fm3);
  dn = dense1_->forward(up1_->forward(dn) + fm2);
  dn = dense2_->forward(up2_->forward(dn) + fm1);
  dn = dense3_->forward(trans1_->forward(dn) + pool_x);
  dn = dense4_->forward(up3_->forward(dn) + conv_x);
  if (options.psp_block_num() > 0)
    dn = at::cat({psp_->forward(dn), dn}, 1);
  return final_->forward(dn);
}

} // namespace med::networks::nets
