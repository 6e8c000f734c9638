// RegUNet, LocalNet, GlobalNet and AffineHead (regunet.h).
#include "med/networks/nets/regunet.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <c10/util/StringUtil.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace nn = torch::nn;

namespace {
/// MONAI's build_conv_block: conv block (in -> out) then a residual block (out -> out).
B::TensorSequential convThenResidual(int64_t d, int64_t in, int64_t out, int64_t k) {
  B::TensorSequential s;
  s->push_back(B::get_conv_block(d, in, out, k));
  s->push_back(B::RegistrationResidualConvBlock(d, out, out, 2, k));
  return s;
}

RegUNetOptions fromLocalNet(const LocalNetOptions &o) {
  const auto &levels = o.extract_levels();
  if (levels.empty())
    throw Error("LocalNet.extract_levels", "expected at least one level");
  const int64_t depth = *std::max_element(levels.begin(), levels.end());
  std::vector<int64_t> kernels(depth + 1, 3);
  kernels[0] = 7;
  return RegUNetOptions(o.spatial_dims(), o.in_channels(), o.num_channel_initial(), depth)
      .out_kernel_initializer(o.out_kernel_initializer())
      .out_activation(o.out_activation())
      .out_channels(o.out_channels())
      .extract_levels(levels)
      .pooling(o.pooling())
      .concat_skip(o.concat_skip())
      .encode_kernel_sizes(kernels);
}

RegUNetOptions fromGlobalNet(const GlobalNetOptions &o) {
  const int64_t factor = int64_t{1} << std::max<int64_t>(o.depth(), 0);
  if (static_cast<int64_t>(o.image_size().size()) != o.spatial_dims())
    throw Error("GlobalNet.image_size", "expected " + std::to_string(o.spatial_dims()) +
                                            " sizes, got (" + c10::Join(", ", o.image_size()) +
                                            ")");
  for (int64_t s : o.image_size())
    if (s < 1 || s % factor != 0)
      throw Error("GlobalNet.image_size", "given depth " + std::to_string(o.depth()) +
                                              ", every size must be a positive multiple of " +
                                              std::to_string(factor) + ", got (" +
                                              c10::Join(", ", o.image_size()) + ")");
  return RegUNetOptions(o.spatial_dims(), o.in_channels(), o.num_channel_initial(), o.depth())
      .out_kernel_initializer(o.out_kernel_initializer())
      .out_activation(o.out_activation())
      .out_channels(o.spatial_dims())
      .pooling(o.pooling())
      .concat_skip(o.concat_skip())
      .encode_kernel_sizes(o.encode_kernel_sizes());
}
} // namespace

RegUNetImpl::RegUNetImpl(RegUNetOptions o) : RegUNetImpl(std::move(o), Variant()) {}

RegUNetImpl::RegUNetImpl(RegUNetOptions o, Variant v)
    : options(std::move(o)), variant_(std::move(v)) {
  const std::string &cls = variant_.name;
  const int64_t d = options.spatial_dims(), depth = options.depth();
  if (d < 1 || d > 3)
    throw Error(cls + ".spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  if (depth < 1)
    throw Error(cls + ".depth", "expected at least 1, got " + std::to_string(depth));
  if (options.in_channels() < 1 || options.num_channel_initial() < 1 || options.out_channels() < 1)
    throw Error(cls + ".in_channels",
                "in_channels, num_channel_initial and out_channels must be positive");
  extract_levels_ = options.extract_levels();
  if (extract_levels_.empty())
    extract_levels_ = {depth};
  const int64_t maxLevel = *std::max_element(extract_levels_.begin(), extract_levels_.end());
  const int64_t minLevel = *std::min_element(extract_levels_.begin(), extract_levels_.end());
  if (maxLevel != depth || minLevel < 0)
    throw Error(cls + ".extract_levels", "expected levels in 0.." + std::to_string(depth) +
                                             " with maximum depth (" + std::to_string(depth) +
                                             "), got (" + c10::Join(", ", extract_levels_) + ")");
  std::vector<int64_t> k = options.encode_kernel_sizes();
  if (k.size() == 1)
    k.assign(depth + 1, k[0]);
  if (static_cast<int64_t>(k.size()) != depth + 1)
    throw Error(cls + ".encode_kernel_sizes",
                "expected one size or depth + 1 = " + std::to_string(depth + 1) + " sizes, got " +
                    std::to_string(k.size()));
  for (int64_t l = 0; l <= depth; ++l)
    num_channels_.push_back(options.num_channel_initial() << l);

  // Encoder: level d maps (d == 0 ? in_channels : channels[d-1]) -> channels[d], then halves.
  nn::ModuleList encConvs, encPools, decDeconvs, decConvs;
  for (int64_t l = 0; l < depth; ++l) {
    const int64_t in = l == 0 ? options.in_channels() : num_channels_[l - 1];
    encode_convs_.push_back(convThenResidual(d, in, num_channels_[l], k[l]));
    encConvs->push_back(encode_convs_.back());
  }
  register_module("encode_convs", encConvs);
  for (int64_t l = 0; l < depth; ++l) {
    encode_pools_.emplace_back(d, num_channels_[l], options.pooling());
    encPools->push_back(encode_pools_.back());
  }
  register_module("encode_pools", encPools);
  if (variant_.conv_only_bottom)
    bottom_block_ = nn::AnyModule(
        B::get_conv_block(d, num_channels_[depth - 1], num_channels_[depth], k[depth]));
  else
    bottom_block_ = nn::AnyModule(
        convThenResidual(d, num_channels_[depth - 1], num_channels_[depth], k[depth]));
  register_module("bottom_block", bottom_block_.ptr());

  // Decoder: levels depth-1 down to the lowest extract level.
  for (int64_t l = depth - 1; l >= minLevel; --l) {
    if (variant_.additive_upsampling)
      decode_deconvs_.emplace_back(B::AdditiveUpSampleBlock(
          d, num_channels_[l + 1], num_channels_[l], variant_.mode, variant_.align_corners));
    else
      decode_deconvs_.emplace_back(B::get_deconv_block(d, num_channels_[l + 1], num_channels_[l]));
    decDeconvs->push_back(decode_deconvs_.back().ptr());
  }
  register_module("decode_deconvs", decDeconvs);
  for (int64_t l = depth - 1; l >= minLevel; --l) {
    const int64_t in = options.concat_skip() ? 2 * num_channels_[l] : num_channels_[l];
    decode_convs_.push_back(convThenResidual(d, in, num_channels_[l], 3));
    decConvs->push_back(decode_convs_.back());
  }
  register_module("decode_convs", decConvs);
  if (!variant_.affine_image_size.empty()) {
    std::vector<int64_t> decodeSize;
    for (int64_t s : variant_.affine_image_size)
      decodeSize.push_back(s >> depth);
    affine_head_ =
        register_module("output_block", AffineHead(d, variant_.affine_image_size, decodeSize,
                                                   num_channels_[depth], variant_.save_theta));
  } else {
    output_block_ = register_module(
        "output_block",
        B::RegistrationExtractionBlock(d, extract_levels_, num_channels_, options.out_channels(),
                                       options.out_kernel_initializer(), options.out_activation()));
  }
}

at::Tensor RegUNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  const int64_t factor = int64_t{1} << options.depth();
  bool ok = x.dim() == d + 2 && x.size(1) == options.in_channels();
  for (int64_t a = 2; ok && a < x.dim(); ++a)
    ok = x.size(a) > 0 && x.size(a) % factor == 0 &&
         (variant_.affine_image_size.empty() || x.size(a) == variant_.affine_image_size[a - 2]);
  if (!ok)
    throw Error(variant_.name + ".input",
                "expected (B, " + std::to_string(options.in_channels()) + ", " +
                    (variant_.affine_image_size.empty()
                         ? std::to_string(d) +
                               " spatial sizes divisible by 2^depth = " + std::to_string(factor)
                         : c10::Join(", ", variant_.affine_image_size)) +
                    "), got " + c10::str(x.sizes()));
  std::vector<at::Tensor> skips;
  at::Tensor h = x;
  for (size_t l = 0; l < encode_convs_.size(); ++l) {
    skips.push_back(encode_convs_[l]->forward(h));
    h = encode_pools_[l]->forward(skips.back());
  }
  h = bottom_block_.forward(h);
  std::vector<at::Tensor> outs{h};
  for (size_t i = 0; i < decode_convs_.size(); ++i) {
    h = decode_deconvs_[i].forward(h);
    const at::Tensor &skip = skips[skips.size() - 1 - i];
    h = options.concat_skip() ? at::cat({h, skip}, 1) : h + skip;
    h = decode_convs_[i]->forward(h);
    outs.push_back(h);
  }
  if (affine_head_)
    return affine_head_->forward(outs);
  return output_block_->forward(outs, x.sizes().slice(2));
}

AffineHeadImpl::AffineHeadImpl(int64_t spatial_dims, std::vector<int64_t> image_size,
                               const std::vector<int64_t> &decode_size, int64_t in_channels,
                               bool save_theta)
    : dims_(spatial_dims), save_theta_(save_theta) {
  if (spatial_dims != 2 && spatial_dims != 3)
    throw Error("AffineHead.spatial_dims", "expected 2 or 3, got " + std::to_string(spatial_dims));
  if (static_cast<int64_t>(image_size.size()) != spatial_dims ||
      static_cast<int64_t>(decode_size.size()) != spatial_dims)
    throw Error("AffineHead.image_size", "expected one size per spatial dim");
  int64_t inFeatures = in_channels;
  for (int64_t s : decode_size)
    inFeatures *= s;
  const int64_t outFeatures = spatial_dims * (spatial_dims + 1);
  fc_ = register_module("fc", nn::Linear(inFeatures, outFeatures));
  // Identity affine: zero weight, bias = rows of [I | 0].
  at::Tensor identity = at::cat({at::eye(spatial_dims), at::zeros({spatial_dims, 1})}, 1);
  {
    torch::NoGradGuard noGrad;
    fc_->weight.zero_();
    fc_->bias.copy_(identity.reshape({-1}));
  }
  std::vector<at::Tensor> axes;
  for (int64_t s : image_size)
    axes.push_back(at::arange(s, at::kFloat));
  grid_ = at::stack(at::meshgrid(axes, "ij"), 0);
}

at::Tensor AffineHeadImpl::forward(const std::vector<at::Tensor> &x) {
  const at::Tensor &f = x.at(0);
  at::Tensor t = fc_->forward(f.reshape({f.size(0), -1}));
  if (save_theta_)
    theta = t.detach();
  at::Tensor grid = grid_.to(f.device(), f.scalar_type());
  at::Tensor padded = at::cat({grid, at::ones_like(grid.slice(0, 0, 1))}, 0); // (d+1, *S)
  at::Tensor mat = t.reshape({-1, dims_, dims_ + 1});                         // (B, d, d+1)
  // warped[b, p, ...] = sum_q mat[b, p, q] * padded[q, ...]
  at::Tensor warped = at::matmul(mat, padded.reshape({dims_ + 1, -1}));
  std::vector<int64_t> shape{f.size(0), dims_};
  for (int64_t a = 1; a < grid.dim(); ++a)
    shape.push_back(grid.size(a));
  return warped.reshape(shape) - grid;
}

LocalNetImpl::LocalNetImpl(LocalNetOptions o)
    : RegUNetImpl(fromLocalNet(o), [&] {
        Variant v;
        v.name = "LocalNet";
        v.conv_only_bottom = true;
        v.additive_upsampling = o.use_additive_sampling();
        v.mode = o.mode();
        v.align_corners = o.align_corners();
        return v;
      }()) {}

GlobalNetImpl::GlobalNetImpl(GlobalNetOptions o)
    : RegUNetImpl(fromGlobalNet(o), [&] {
        Variant v;
        v.name = "GlobalNet";
        v.affine_image_size = o.image_size();
        v.save_theta = o.save_theta();
        return v;
      }()) {}

} // namespace med::networks::nets
