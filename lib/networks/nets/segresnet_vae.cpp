// SegResNetVAE (segresnet_vae.h).
#include "med/networks/nets/segresnet_vae.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <torch/nn/modules/upsampling.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {

/// The VAE's bottleneck width (MONAI's smallest_filters).
constexpr int64_t kSmallestFilters = 16;

/// Checks what only the VAE needs, then the SegResNet options it is built on.
SegResNetOptions baseOptions(const SegResNetVAEOptions &o) {
  const int64_t d = o.spatial_dims();
  if (d != 2 && d != 3)
    throw Error("SegResNetVAE.spatial_dims", "expected 2 or 3, got " + std::to_string(d));
  if (o.blocks_down().empty())
    throw Error("SegResNetVAE.blocks_down", "expected at least one level");
  if (o.blocks_up().size() + 1 != o.blocks_down().size())
    throw Error("SegResNetVAE.blocks_up",
                "expected len(blocks_down) - 1 = " + std::to_string(o.blocks_down().size() - 1) +
                    " levels (the VAE decoder must return to the input size), got " +
                    std::to_string(o.blocks_up().size()));
  if (o.upsample_mode() != "nontrainable" && o.upsample_mode() != "deconv")
    throw Error("SegResNetVAE.upsample_mode",
                "expected \"nontrainable\" or \"deconv\", got \"" + o.upsample_mode() + "\"");
  if (static_cast<int64_t>(o.input_image_size().size()) != d)
    throw Error("SegResNetVAE.input_image_size", "expected " + std::to_string(d) +
                                                     " sizes (one per spatial axis), got " +
                                                     std::to_string(o.input_image_size().size()));
  const int64_t m = int64_t(2) << (o.blocks_down().size() - 1); // 2 * zoom
  for (int64_t s : o.input_image_size())
    if (s < m || s % m != 0)
      throw Error("SegResNetVAE.input_image_size",
                  "every size must be a positive multiple of 2^len(blocks_down) = " +
                      std::to_string(m) + ", got " + std::to_string(s));
  if (o.vae_nz() < 1)
    throw Error("SegResNetVAE.vae_nz", "expected at least 1, got " + std::to_string(o.vae_nz()));
  return SegResNetOptions()
      .spatial_dims(d)
      .init_filters(o.init_filters())
      .in_channels(o.in_channels())
      .out_channels(o.out_channels())
      .dropout_prob(o.dropout_prob())
      .act(o.act())
      .norm(o.norm())
      .use_conv_final(o.use_conv_final())
      .blocks_down(o.blocks_down())
      .blocks_up(o.blocks_up())
      .upsample_mode(o.upsample_mode());
}

} // namespace

SegResNetVAEImpl::SegResNetVAEImpl(SegResNetVAEOptions o)
    : SegResNetImpl(baseOptions(o)), options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  const int64_t zoom = int64_t(1) << (options.blocks_down().size() - 1);
  const int64_t v = options.init_filters() * zoom;
  const LayerSpec &norm = options.norm();
  total_elements_ = kSmallestFilters;
  for (int64_t s : options.input_image_size()) {
    fc_insize_.push_back(s / (2 * zoom));
    total_elements_ *= fc_insize_.back();
  }

  vae_down_ = B::TensorSequential();
  vae_down_->push_back(L::get_norm_layer(norm, d, v));
  vae_down_->push_back(L::get_act_layer(options.act()));
  vae_down_->push_back(detail::segresnetConv(d, v, kSmallestFilters, 3, 2, true));
  vae_down_->push_back(L::get_norm_layer(norm, d, kSmallestFilters));
  vae_down_->push_back(L::get_act_layer(options.act()));
  register_module("vae_down", vae_down_);
  vae_fc1_ = register_module("vae_fc1", nn::Linear(total_elements_, options.vae_nz()));
  vae_fc2_ = register_module("vae_fc2", nn::Linear(total_elements_, options.vae_nz()));
  vae_fc3_ = register_module("vae_fc3", nn::Linear(options.vae_nz(), total_elements_));

  vae_fc_up_sample_ = B::TensorSequential();
  vae_fc_up_sample_->push_back(detail::segresnetConv(d, kSmallestFilters, v, 1, 1, false));
  vae_fc_up_sample_->push_back(
      detail::segresnetUpsample(d, v, options.upsample_mode(), "SegResNetVAE"));
  vae_fc_up_sample_->push_back(L::get_norm_layer(norm, d, v));
  vae_fc_up_sample_->push_back(L::get_act_layer(options.act()));
  register_module("vae_fc_up_sample", vae_fc_up_sample_);

  // Reconstructs the input: SegResNet's final block with in_channels outputs.
  vae_conv_final_ = B::TensorSequential();
  vae_conv_final_->push_back(L::get_norm_layer(norm, d, options.init_filters()));
  vae_conv_final_->push_back(L::get_act_layer(options.act()));
  vae_conv_final_->push_back(
      detail::segresnetConv(d, options.init_filters(), options.in_channels(), 1, 1, true));
  register_module("vae_conv_final", vae_conv_final_);
  act_ = L::get_act_layer(options.act());
}

void SegResNetVAEImpl::checkInput(const at::Tensor &x) const {
  const int64_t d = options.spatial_dims();
  bool ok = x.dim() == d + 2 && x.size(1) == options.in_channels();
  for (int64_t i = 0; ok && i < d; ++i)
    ok = x.size(2 + i) == options.input_image_size()[i];
  if (!ok)
    throw Error("SegResNetVAE.input", "expected (B, " + std::to_string(options.in_channels()) +
                                          ", *input_image_size " +
                                          c10::str(at::IntArrayRef(options.input_image_size())) +
                                          "), got " + c10::str(x.sizes()));
}

std::pair<at::Tensor, std::vector<at::Tensor>> SegResNetVAEImpl::encode(const at::Tensor &x) {
  checkInput(x);
  return runEncoder(x);
}

at::Tensor SegResNetVAEImpl::vae_loss(const at::Tensor &net_input, const at::Tensor &vae_input) {
  at::Tensor h = vae_down_->forward(vae_input).reshape({-1, total_elements_});
  at::Tensor z_mean = vae_fc1_->forward(h);
  at::Tensor noise = at::randn_like(z_mean);
  at::Tensor reg, z;
  if (options.vae_estimate_std()) {
    at::Tensor sigma = at::softplus(vae_fc2_->forward(h));
    at::Tensor s2 = sigma * sigma;
    reg = 0.5 * (z_mean * z_mean + s2 - at::log(s2 + 1e-8) - 1).mean();
    z = z_mean + sigma * noise;
  } else {
    reg = (z_mean * z_mean).mean();
    z = z_mean + options.vae_default_std() * noise;
  }
  std::vector<int64_t> shape = {-1, kSmallestFilters};
  shape.insert(shape.end(), fc_insize_.begin(), fc_insize_.end());
  h = act_.forward(vae_fc3_->forward(z)).view(shape);
  h = vae_fc_up_sample_->forward(h);
  for (size_t i = 0; i < up_samples_.size(); ++i)
    h = up_layers_[i]->forward(up_samples_[i]->forward(h));
  h = vae_conv_final_->forward(h);
  if (h.sizes() != net_input.sizes())
    throw Error("SegResNetVAE.vae_loss", "the reconstruction " + c10::str(h.sizes()) +
                                             " does not match the network input " +
                                             c10::str(net_input.sizes()));
  return reg + at::mse_loss(h, net_input);
}

std::tuple<at::Tensor, at::Tensor> SegResNetVAEImpl::forward(const at::Tensor &x) {
  auto [h, levels] = encode(x);
  const at::Tensor vae_input = h;
  std::reverse(levels.begin(), levels.end());
  for (size_t i = 0; i < up_samples_.size(); ++i)
    h = up_layers_[i]->forward(up_samples_[i]->forward(h) + levels[i + 1]);
  if (options.use_conv_final())
    h = conv_final_->forward(h);
  if (!is_training())
    return {h, at::Tensor()};
  return {h, vae_loss(x, vae_input)};
}

} // namespace med::networks::nets
