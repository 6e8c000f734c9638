// MONAI's AHNet (Liu et al. 2018, "3D Anisotropic Hybrid Network"): a ResNet-50-style encoder
// whose convolutions are 2D in the first two spatial axes (3x3x1 kernels, strides 2x2x1, so the
// weights of a 2D ImageNet FCN fit them), a dense decoder of Pseudo-3D layers (3x3x1 + 1x1x3
// convolutions) with transposed-conv (or interpolating) up-sampling and skip sums, a pyramid
// pooling (PSP) head and a final conv + up-sampling back to the input size. Works on 2D and 3D
// images; submodule names are MONAI's ("layer1.0.conv2", "dense0.denselayer1.conv3",
// "psp.up_modules.0", "final.up"), so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace med::networks::nets {

/// The encoder's residual unit (expansion 4): 1x1 conv -> 3x3x1 conv (strided in the first two
/// axes) -> 1x1 conv to 4*planes, with batch norm + ReLU between. When the downsample branch
/// also halves the last axis (3D), the main branch is max-pooled 1x1x2 ("pool") to match.
///
///   Bottleneck3x3x1 b(3, 256, 64, {1, 1, 1}, nullptr);  // identity residual, 256 -> 256
class Bottleneck3x3x1Impl : public torch::nn::Module {
public:
  /// `downsample` (may be null) maps the residual to the main branch's shape.
  Bottleneck3x3x1Impl(int64_t spatial_dims, int64_t inplanes, int64_t planes,
                      std::vector<int64_t> stride, torch::nn::Sequential downsample);
  at::Tensor forward(const at::Tensor &x);

  static constexpr int64_t expansion = 4;

private:
  torch::nn::AnyModule conv1_, bn1_, conv2_, bn2_, conv3_, bn3_, relu_, pool_;
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck3x3x1);

/// One dense layer of the decoder: bn-relu-1x1 conv to bn_size*growth_rate, bn-relu-3x3x1 conv
/// to growth_rate (a), bn-relu-1x1x3 conv of a (b), bn-relu-1x1 conv of a + b; the result is
/// concatenated to the input, so the layer adds growth_rate channels. MONAI forces dropout off.
///
///   Pseudo3DLayer l(3, 64, 20, 4, 0.0);  // (B, 64, H, W, D) -> (B, 84, H, W, D)
class Pseudo3DLayerImpl : public torch::nn::Module {
public:
  Pseudo3DLayerImpl(int64_t spatial_dims, int64_t num_input_features, int64_t growth_rate,
                    int64_t bn_size, double dropout_prob);
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule bn1_, relu1_, conv1_, bn2_, relu2_, conv2_, bn3_, relu3_, conv3_, bn4_,
      relu4_, conv4_;
};
TORCH_MODULE(Pseudo3DLayer);

/// Pyramid pooling head: for i < psp_block_num, max-pool by 2^(i+3) in the first two axes (the
/// first one only in 2D), project to one channel (1x1 conv padded by 1 in those axes) and
/// up-sample back (transposed conv, or interpolation to the input size); the psp_block_num maps
/// are concatenated.
///
///   PSP psp(3, 4, 124, "transpose");  // (B, 124, 64, 64, 16) -> (B, 4, 64, 64, 16)
class PSPImpl : public torch::nn::Module {
public:
  PSPImpl(int64_t spatial_dims, int64_t psp_block_num, int64_t in_ch,
          std::string upsample_mode = "transpose");
  at::Tensor forward(const at::Tensor &x);

private:
  std::string upsample_mode_;
  torch::nn::ModuleList up_modules_{nullptr}, pool_modules_{nullptr}, project_modules_{nullptr};
  std::vector<torch::nn::AnyModule> ups_, pools_, projects_;
};
TORCH_MODULE(PSP);

/// Options of AHNet, MONAI's arguments and defaults. `layers` are the residual-unit counts of
/// layer1..layer4 (each >= 1). `upsample_mode`: "transpose" (transposed convolutions, the
/// deterministic default), "nearest", or "bilinear" (2D) / "trilinear" (3D) interpolation.
/// `pretrained` = true (copying ImageNet FCN weights, a download in MONAI) is not supported and
/// throws med::Error; `progress` only concerns that download and is ignored.
///
///   auto net = AHNet(AHNetOptions().out_channels(2).psp_block_num(4));
///   at::Tensor y = net->forward(at::randn({1, 1, 128, 128, 32}));  // (1, 2, 128, 128, 32)
struct AHNetOptions {
  TORCH_ARG(std::vector<int64_t>, layers) = {3, 4, 6, 3};
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, out_channels) = 1;
  TORCH_ARG(int64_t, psp_block_num) = 4;
  TORCH_ARG(std::string, upsample_mode) = "transpose";
  TORCH_ARG(bool, pretrained) = false;
  TORCH_ARG(bool, progress) = true;
};

/// (B, in_channels, *S) -> (B, out_channels, *S). Every spatial size but the last must be a
/// multiple of max(32, 2^(psp_block_num + 3)) in "transpose" mode (a multiple of 32 and at least
/// 2^(psp_block_num + 3) in the interpolating modes); the last one a multiple of 32.
class AHNetImpl : public torch::nn::Module {
public:
  explicit AHNetImpl(AHNetOptions options = {});
  at::Tensor forward(const at::Tensor &x);
  AHNetOptions options;

private:
  torch::nn::Sequential makeLayer(int64_t planes, int64_t blocks, int64_t stride);

  int64_t inplanes_ = 64;
  torch::nn::AnyModule conv1_, pool1_, bn0_, relu_, maxpool_;
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
  torch::nn::Sequential up0_{nullptr}, dense0_{nullptr}, up1_{nullptr}, dense1_{nullptr},
      up2_{nullptr}, dense2_{nullptr}, trans1_{nullptr}, dense3_{nullptr}, up3_{nullptr},
      dense4_{nullptr}, final_{nullptr};
  PSP psp_{nullptr};
};
TORCH_MODULE(AHNet);

} // namespace med::networks::nets
