// BasicUNet (basic_unet.h) and its MONAI building blocks TwoConv, Down, UpSample and UpCat,
// kept as Sequentials with MONAI's child names so the state_dict keys match.
#include "med/networks/nets/basic_unet.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/padding.h>

#include <torch/nn/modules/upsampling.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {

B::TensorSequential twoConv(const BasicUNetOptions &o, int64_t in, int64_t out) {
  B::TensorSequential s;
  for (int i = 0; i < 2; ++i)
    s->push_back("conv_" + std::to_string(i),
                 B::Convolution(B::ConvolutionOptions(o.spatial_dims(), i ? out : in, out)
                                    .act(o.act())
                                    .norm(o.norm())
                                    .dropout(B::dropoutSpec(o.dropout()))
                                    .bias(o.bias())
                                    .padding(std::vector<int64_t>{1})));
  return s;
}

B::TensorSequential down(const BasicUNetOptions &o, int64_t in, int64_t out) {
  B::TensorSequential s;
  s->push_back("max_pooling", L::pool({"MAX", {{"kernel_size", 2}}}, o.spatial_dims()));
  s->push_back("convs", twoConv(o, in, out));
  return s;
}

/// MONAI's UpSample for the two modes BasicUNet offers.
B::TensorSequential upSample(const BasicUNetOptions &o, int64_t in, int64_t out) {
  const int64_t d = o.spatial_dims();
  B::TensorSequential s;
  if (o.upsample() == "deconv") {
    s->push_back("deconv", L::conv({"CONVTRANS",
                                    {{"in_channels", in},
                                     {"out_channels", out},
                                     {"kernel_size", 2},
                                     {"stride", 2},
                                     {"bias", true}}},
                                   d));
    return s;
  }
  if (o.upsample() == "nontrainable") {
    if (in != out)
      s->push_back(
          "preconv",
          L::conv(
              {"CONV",
               {{"in_channels", in}, {"out_channels", out}, {"kernel_size", 1}, {"bias", true}}},
              d));
    nn::UpsampleOptions uo;
    uo.scale_factor(std::vector<double>(d, 2.0)).align_corners(true);
    if (d == 1)
      uo.mode(torch::kLinear);
    else if (d == 2)
      uo.mode(torch::kBilinear);
    else
      uo.mode(torch::kTrilinear);
    s->push_back("upsample_non_trainable", nn::Upsample(uo));
    return s;
  }
  throw Error("BasicUNet.upsample",
              "expected \"deconv\" or \"nontrainable\", got \"" + o.upsample() + "\"");
}

/// Up-samples x, pads it by one (replicate) on the far side of every axis where it is shorter
/// than the skip, concatenates [skip, x] and applies TwoConv.
class UpCatImpl : public nn::Module {
public:
  UpCatImpl(const BasicUNetOptions &o, int64_t in, int64_t cat, int64_t out, bool halves) {
    int64_t up = halves ? in / 2 : in;
    upsample_ = register_module("upsample", upSample(o, in, up));
    convs_ = register_module("convs", twoConv(o, cat + up, out));
  }
  at::Tensor forward(const at::Tensor &x, const at::Tensor &skip) {
    at::Tensor x0 = upsample_->forward(x);
    const int64_t d = x.dim() - 2;
    std::vector<int64_t> sp(2 * d, 0);
    bool pad = false;
    for (int64_t i = 0; i < d; ++i)
      if (skip.size(-i - 1) != x0.size(-i - 1)) {
        sp[2 * i + 1] = 1;
        pad = true;
      }
    if (pad)
      x0 = nn::functional::pad(x0, nn::functional::PadFuncOptions(sp).mode(torch::kReplicate));
    return convs_->forward(at::cat({skip, x0}, 1));
  }

private:
  B::TensorSequential upsample_{nullptr}, convs_{nullptr};
};
TORCH_MODULE(UpCat);

template <typename M> nn::AnyModule reg(nn::Module &self, const std::string &name, M m) {
  self.register_module(name, m.ptr());
  return nn::AnyModule(m);
}

} // namespace

BasicUNetImpl::BasicUNetImpl(BasicUNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("BasicUNet.spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  std::vector<int64_t> f = options.features();
  if (f.size() == 1)
    f.assign(6, f[0]);
  if (f.size() != 6)
    throw Error("BasicUNet.features",
                "expected 6 values (or one), got " + std::to_string(f.size()));
  for (int64_t v : f)
    if (v < 1)
      throw Error("BasicUNet.features", "expected positive channel counts");
  if (options.in_channels() < 1 || options.out_channels() < 1)
    throw Error("BasicUNet.in_channels", "expected positive in_channels and out_channels");
  options.features(f);
  const BasicUNetOptions &op = options;
  conv_0_ = reg(*this, "conv_0", twoConv(op, op.in_channels(), f[0]));
  down_1_ = reg(*this, "down_1", down(op, f[0], f[1]));
  down_2_ = reg(*this, "down_2", down(op, f[1], f[2]));
  down_3_ = reg(*this, "down_3", down(op, f[2], f[3]));
  down_4_ = reg(*this, "down_4", down(op, f[3], f[4]));
  upcat_4_ = reg(*this, "upcat_4", UpCat(op, f[4], f[3], f[3], true));
  upcat_3_ = reg(*this, "upcat_3", UpCat(op, f[3], f[2], f[2], true));
  upcat_2_ = reg(*this, "upcat_2", UpCat(op, f[2], f[1], f[1], true));
  upcat_1_ = reg(*this, "upcat_1", UpCat(op, f[1], f[0], f[5], false));
  final_conv_ = L::conv(
      {"CONV", {{"in_channels", f[5]}, {"out_channels", op.out_channels()}, {"kernel_size", 1}}},
      d);
  register_module("final_conv", final_conv_.ptr());
}

at::Tensor BasicUNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2)
    throw Error("BasicUNet.input", "expected a (B, C, " + std::to_string(d) +
                                       " spatial axes) tensor, got " + std::to_string(x.dim()) +
                                       " dimensions");
  if (x.size(1) != options.in_channels())
    throw Error("BasicUNet.input", "expected " + std::to_string(options.in_channels()) +
                                       " channels, got " + std::to_string(x.size(1)));
  for (int64_t i = 2; i < x.dim(); ++i)
    if (x.size(i) < 16)
      throw Error("BasicUNet.input", "spatial size " + std::to_string(x.size(i)) + " (axis " +
                                         std::to_string(i - 2) +
                                         ") is too small: four 2x poolings need at least 16");
  at::Tensor x0 = conv_0_.forward(x);
  at::Tensor x1 = down_1_.forward(x0);
  at::Tensor x2 = down_2_.forward(x1);
  at::Tensor x3 = down_3_.forward(x2);
  at::Tensor x4 = down_4_.forward(x3);
  at::Tensor u4 = upcat_4_.forward(x4, x3);
  at::Tensor u3 = upcat_3_.forward(u4, x2);
  at::Tensor u2 = upcat_2_.forward(u3, x1);
  at::Tensor u1 = upcat_1_.forward(u2, x0);
  return final_conv_.forward(u1);
}

} // namespace med::networks::nets
