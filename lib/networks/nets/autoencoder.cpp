// AutoEncoder and VarAutoEncoder (autoencoder.h).
#include "med/networks/nets/autoencoder.h"

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace nn = torch::nn;

namespace {
AutoEncoderOptions fromVae(const VarAutoEncoderOptions &o) {
  if (o.in_shape().size() != static_cast<size_t>(o.spatial_dims()) + 1)
    throw Error("VarAutoEncoder.in_shape",
                "expected (channels, *spatial) with " + std::to_string(o.spatial_dims()) +
                    " spatial sizes, got " + std::to_string(o.in_shape().size()) + " entries");
  return AutoEncoderOptions(o.spatial_dims(), o.in_shape()[0], o.out_channels(), o.channels(),
                            o.strides())
      .kernel_size(o.kernel_size())
      .up_kernel_size(o.up_kernel_size())
      .num_res_units(o.num_res_units())
      .inter_channels(o.inter_channels())
      .inter_dilations(o.inter_dilations())
      .num_inter_units(o.num_inter_units())
      .act(o.act())
      .norm(o.norm())
      .dropout(o.dropout())
      .bias(o.bias());
}
} // namespace

AutoEncoderImpl::AutoEncoderImpl(AutoEncoderOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("AutoEncoder.spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  const auto &ch = options.channels();
  const auto &st = options.strides();
  if (ch.empty() || ch.size() != st.size())
    throw Error("AutoEncoder.strides", "expected one stride per channels entry (" +
                                           std::to_string(ch.size()) + "), got " +
                                           std::to_string(st.size()));
  auto dil = options.inter_dilations();
  if (dil.empty())
    dil.assign(options.inter_channels().size(), 1);
  if (dil.size() != options.inter_channels().size())
    throw Error("AutoEncoder.inter_dilations", "expected one entry per inter_channels entry");
  auto conv = [&](int64_t in, int64_t out) {
    return B::ConvolutionOptions(d, in, out)
        .kernel_size(options.kernel_size())
        .act(options.act())
        .norm(options.norm())
        .dropout(B::dropoutSpec(options.dropout()))
        .bias(options.bias())
        .padding(options.padding());
  };
  auto res = [&](int64_t in, int64_t out) {
    return B::ResidualUnitOptions(d, in, out)
        .kernel_size(options.kernel_size())
        .act(options.act())
        .norm(options.norm())
        .dropout(B::dropoutSpec(options.dropout()))
        .bias(options.bias())
        .padding(options.padding());
  };

  encode_ = B::TensorSequential();
  int64_t c = options.in_channels();
  for (size_t i = 0; i < ch.size(); ++i) {
    if (options.num_res_units() > 0)
      encode_->push_back(
          "encode_" + std::to_string(i),
          B::ResidualUnit(res(c, ch[i]).strides({st[i]}).subunits(options.num_res_units())));
    else
      encode_->push_back("encode_" + std::to_string(i),
                         B::Convolution(conv(c, ch[i]).strides({st[i]})));
    c = ch[i];
  }
  register_module("encode", encode_);

  if (options.inter_channels().empty()) {
    intermediate_ = nn::AnyModule(nn::Identity());
  } else {
    B::TensorSequential inter;
    for (size_t i = 0; i < options.inter_channels().size(); ++i) {
      int64_t dc = options.inter_channels()[i];
      if (options.num_inter_units() > 0)
        inter->push_back(
            "inter_" + std::to_string(i),
            B::ResidualUnit(res(c, dc).subunits(options.num_inter_units()).dilation({dil[i]})));
      else
        inter->push_back("inter_" + std::to_string(i),
                         B::Convolution(conv(c, dc).dilation({dil[i]})));
      c = dc;
    }
    intermediate_ = nn::AnyModule(inter);
  }
  register_module("intermediate", intermediate_.ptr());
  encoded_channels_ = c;

  std::vector<int64_t> dch(ch.rbegin() + 1, ch.rend());
  dch.push_back(options.out_channels());
  std::vector<int64_t> dst(st.rbegin(), st.rend());
  decode_ = B::TensorSequential();
  for (size_t i = 0; i < dch.size(); ++i) {
    const bool last = i + 1 == dst.size();
    B::TensorSequential layer;
    layer->push_back("conv", B::Convolution(conv(c, dch[i])
                                                .strides({dst[i]})
                                                .kernel_size(options.up_kernel_size())
                                                .conv_only(last && options.num_res_units() == 0)
                                                .is_transposed(true)));
    if (options.num_res_units() > 0)
      layer->push_back("resunit",
                       B::ResidualUnit(res(dch[i], dch[i]).subunits(1).last_conv_only(last)));
    decode_->push_back("decode_" + std::to_string(i), layer);
    c = dch[i];
  }
  register_module("decode", decode_);
}

at::Tensor AutoEncoderImpl::forward(const at::Tensor &x) {
  if (x.dim() != options.spatial_dims() + 2 || x.size(1) != options.in_channels())
    throw Error("AutoEncoder.input", "expected (B, " + std::to_string(options.in_channels()) +
                                         ", " + std::to_string(options.spatial_dims()) +
                                         " spatial axes), got " + c10::str(x.sizes()));
  return decode_->forward(intermediate_.forward(encode_->forward(x)));
}

VarAutoEncoderImpl::VarAutoEncoderImpl(VarAutoEncoderOptions o)
    : AutoEncoderImpl(fromVae(o)), vae_options(std::move(o)) {
  const int64_t d = vae_options.spatial_dims();
  auto k = B::detail::perAxis(vae_options.kernel_size(), d, "VarAutoEncoder.kernel_size");
  final_size_.assign(vae_options.in_shape().begin() + 1, vae_options.in_shape().end());
  for (int64_t s : vae_options.strides())
    for (int64_t a = 0; a < d; ++a) {
      int64_t p = (k[a] - 1) / 2; // MONAI's calculate_out_shape with same padding
      final_size_[a] = (final_size_[a] - k[a] + 2 * p) / s + 1;
      if (final_size_[a] < 1)
        throw Error("VarAutoEncoder.in_shape", "too small for the strided layers");
    }
  int64_t linear = encoded_channels_;
  for (int64_t s : final_size_)
    linear *= s;
  mu_ = register_module("mu", nn::Linear(linear, vae_options.latent_size()));
  logvar_ = register_module("logvar", nn::Linear(linear, vae_options.latent_size()));
  decodeL_ = register_module("decodeL", nn::Linear(vae_options.latent_size(), linear));
}

std::tuple<at::Tensor, at::Tensor> VarAutoEncoderImpl::encode_forward(const at::Tensor &x) {
  const auto &in = vae_options.in_shape();
  if (x.dim() != static_cast<int64_t>(in.size()) + 1 ||
      !std::equal(in.begin(), in.end(), x.sizes().begin() + 1))
    throw Error("VarAutoEncoder.input",
                "expected (B, " + c10::Join(", ", in) + "), got " + c10::str(x.sizes()));
  at::Tensor h = intermediate_.forward(encode_->forward(x));
  h = h.reshape({h.size(0), -1});
  return {mu_->forward(h), logvar_->forward(h)};
}

at::Tensor VarAutoEncoderImpl::decode_forward(const at::Tensor &z, bool use_sigmoid) {
  at::Tensor h = at::relu(decodeL_->forward(z));
  std::vector<int64_t> shape{h.size(0), encoded_channels_};
  shape.insert(shape.end(), final_size_.begin(), final_size_.end());
  h = decode_->forward(h.reshape(shape));
  return use_sigmoid ? at::sigmoid(h) : h;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>
VarAutoEncoderImpl::forward(const at::Tensor &x) {
  auto [mu, logvar] = encode_forward(x);
  // MONAI's reparameterize: only the noise depends on the mode; eval mode still adds the
  // standard deviation (z = mu + std), it does not return mu.
  at::Tensor std = at::exp(0.5 * logvar);
  at::Tensor z = (is_training() ? at::randn_like(std) * std : std) + mu;
  return {decode_forward(z, vae_options.use_sigmoid()), mu, logvar, z};
}

} // namespace med::networks::nets
