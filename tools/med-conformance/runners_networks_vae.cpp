// Runners for SegResNetVAE and ViTAutoEnc, building the MONAI architecture from params.kwargs
// (networks_common.h records the state dict and runs the eval-mode forward pass).
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "med/networks/nets/segresnet_vae.h"
#include "med/networks/nets/vitautoenc.h"
#include "networks_common.h"

namespace med::conformance {
namespace N = med::networks::nets;
using nlohmann::json;

namespace {

Built makeSegResNetVAE(Kwargs &kw, const json &) {
  N::SegResNetVAEOptions o(kw.ints("input_image_size"));
  o.vae_estimate_std(kw.boolean("vae_estimate_std", false));
  o.vae_default_std(kw.number("vae_default_std", 0.3)).vae_nz(kw.integer("vae_nz", 256));
  o.spatial_dims(kw.integer("spatial_dims", 3)).init_filters(kw.integer("init_filters", 8));
  o.in_channels(kw.integer("in_channels", 1)).out_channels(kw.integer("out_channels", 2));
  o.dropout_prob(kw.optNumber("dropout_prob"));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  o.use_conv_final(kw.boolean("use_conv_final", true));
  o.blocks_down(kw.ints("blocks_down", o.blocks_down()));
  o.blocks_up(kw.ints("blocks_up", o.blocks_up()));
  o.upsample_mode(kw.string("upsample_mode", "nontrainable"));
  kw.finish();
  N::SegResNetVAE net(o);
  // MONAI returns (x, vae_loss) in train mode and (x, None) in eval mode; a loss is a 0-d
  // tensor, so its shape is [].
  return {
      net.ptr(), [net](const at::Tensor &x) mutable {
        auto [seg, loss] = net->forward(x);
        json second = loss.defined() ? shapeJson(loss.sizes()) : json(nullptr);
        return std::make_pair(json::array({shapeJson(seg.sizes()), second}), std::string("tuple"));
      }};
}

Built makeViTAutoEnc(Kwargs &kw, const json &) {
  N::ViTAutoEncOptions o(required(kw, "in_channels"), kw.ints("img_size"), kw.ints("patch_size"));
  o.out_channels(kw.integer("out_channels", 1)).deconv_chns(kw.integer("deconv_chns", 16));
  o.hidden_size(kw.integer("hidden_size", 768)).mlp_dim(kw.integer("mlp_dim", 3072));
  o.num_layers(kw.integer("num_layers", 12)).num_heads(kw.integer("num_heads", 12));
  o.proj_type(kw.string("proj_type", "conv"));
  o.dropout_rate(kw.number("dropout_rate", 0.0)).spatial_dims(kw.integer("spatial_dims", 3));
  o.qkv_bias(kw.boolean("qkv_bias", false)).save_attn(kw.boolean("save_attn", false));
  kw.finish();
  N::ViTAutoEnc net(o);
  // MONAI returns the tuple (x, hidden_states_out).
  return {
      net.ptr(), [net](const at::Tensor &x) mutable {
        N::ViTAutoEncOutput y = net->forward(x);
        json hidden = json::array();
        for (const auto &h : y.hidden_states_out)
          hidden.push_back(shapeJson(h.sizes()));
        return std::make_pair(json::array({shapeJson(y.x.sizes()), hidden}), std::string("tuple"));
      }};
}

} // namespace

void registerVaeNetworkRunners(Registry &r) {
  r.add("SegResNetVAE", networkRunner("SegResNetVAE", makeSegResNetVAE));
  r.add("ViTAutoEnc", networkRunner("ViTAutoEnc", makeViTAutoEnc));
}

} // namespace med::conformance
