// Runners for the transformer family and friends: ViT, UNETR, SwinUNETR and EfficientNetBN,
// each building the MONAI architecture from params.kwargs (networks_common.h does the rest).
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "med/core/error.h"
#include "med/networks/nets/efficientnet.h"
#include "med/networks/nets/swin_unetr.h"
#include "med/networks/nets/unetr.h"
#include "med/networks/nets/vit.h"
#include "networks_common.h"

namespace med::conformance {
namespace N = med::networks::nets;
using med::networks::layers::LayerSpec;
using nlohmann::json;

namespace {

constexpr const char *kForwardError = "forward raised";

Built makeViT(Kwargs &kw, const json &) {
  N::ViTOptions o(required(kw, "in_channels"), kw.ints("img_size"), kw.ints("patch_size"));
  o.hidden_size(kw.integer("hidden_size", 768)).mlp_dim(kw.integer("mlp_dim", 3072));
  o.num_layers(kw.integer("num_layers", 12)).num_heads(kw.integer("num_heads", 12));
  o.proj_type(kw.string("proj_type", "conv"))
      .pos_embed_type(kw.string("pos_embed_type", "learnable"));
  o.classification(kw.boolean("classification", false)).num_classes(kw.integer("num_classes", 2));
  o.dropout_rate(kw.number("dropout_rate", 0.0)).spatial_dims(kw.integer("spatial_dims", 3));
  o.post_activation(kw.string("post_activation", "Tanh"));
  o.qkv_bias(kw.boolean("qkv_bias", false)).save_attn(kw.boolean("save_attn", false));
  kw.finish();
  N::ViT net(o);
  // MONAI returns the tuple (x, hidden_states_out).
  return {
      net.ptr(), [net](const at::Tensor &x) mutable {
        N::ViTOutput y = net->forward(x);
        json hidden = json::array();
        for (const auto &h : y.hidden_states_out)
          hidden.push_back(shapeJson(h.sizes()));
        return std::make_pair(json::array({shapeJson(y.x.sizes()), hidden}), std::string("tuple"));
      }};
}

Built makeUNETR(Kwargs &kw, const json &) {
  N::UNETROptions o(required(kw, "in_channels"), required(kw, "out_channels"), kw.ints("img_size"));
  o.feature_size(kw.integer("feature_size", 16)).hidden_size(kw.integer("hidden_size", 768));
  o.mlp_dim(kw.integer("mlp_dim", 3072)).num_heads(kw.integer("num_heads", 12));
  o.proj_type(kw.string("proj_type", "conv"));
  o.norm_name(layerKwarg(kw, "norm_name", o.norm_name()));
  o.conv_block(kw.boolean("conv_block", true)).res_block(kw.boolean("res_block", true));
  o.dropout_rate(kw.number("dropout_rate", 0.0)).spatial_dims(kw.integer("spatial_dims", 3));
  o.qkv_bias(kw.boolean("qkv_bias", false)).save_attn(kw.boolean("save_attn", false));
  kw.finish();
  return built(N::UNETR(o));
}

Built makeSwinUNETR(Kwargs &kw, const json &) {
  N::SwinUNETROptions o(required(kw, "in_channels"), required(kw, "out_channels"));
  if (!kw.raw("img_size").is_null())
    o.img_size(kw.ints("img_size"));
  o.depths(kw.ints("depths", o.depths())).num_heads(kw.ints("num_heads", o.num_heads()));
  o.feature_size(kw.integer("feature_size", 24));
  o.norm_name(layerKwarg(kw, "norm_name", o.norm_name()));
  o.drop_rate(kw.number("drop_rate", 0.0)).attn_drop_rate(kw.number("attn_drop_rate", 0.0));
  o.dropout_path_rate(kw.number("dropout_path_rate", 0.0));
  o.normalize(kw.boolean("normalize", true));
  kw.only("use_checkpoint", {false, nullptr}, "gradient checkpointing is not implemented");
  o.spatial_dims(kw.integer("spatial_dims", 3)).downsample(kw.string("downsample", "merging"));
  o.use_v2(kw.boolean("use_v2", false));
  kw.finish();
  N::SwinUNETR net(o);
  // A forward that MONAI also rejects (the 32^3 input) is reported, not thrown: see withErrors.
  return {net.ptr(), [net](const at::Tensor &x) mutable {
            try {
              return std::make_pair(shapeJson(net->forward(x).sizes()), std::string("Tensor"));
            } catch (const Error &e) {
              return std::make_pair(json(e.what()), std::string(kForwardError));
            }
          }};
}

Built makeEfficientNetBN(Kwargs &kw, const json &) {
  N::EfficientNetBNOptions o(kw.string("model_name", ""));
  o.pretrained(kw.boolean("pretrained", true));
  if (o.pretrained())
    throw Unsupported("EfficientNetBN.pretrained: weights are not downloaded");
  kw.only("progress", {true, false}, "no download happens");
  kw.only("adv_prop", {false}, "adv_prop only selects pretrained weights");
  o.spatial_dims(kw.integer("spatial_dims", 2)).in_channels(kw.integer("in_channels", 3));
  o.num_classes(kw.integer("num_classes", 1000));
  o.norm(layerKwarg(kw, "norm", o.norm()));
  kw.finish();
  return built(N::EfficientNetBN(o));
}

/// Wraps a network runner so that a forward reported as failed (output_type kForwardError)
/// records forward_ok false, as MONAI's golden record does when its forward raised; the
/// exception text itself is Python's and is not compared.
Runner withErrors(Runner inner) {
  return [inner](const Case &c) {
    Outputs out = inner(c);
    if (out.scalars.value("output_type", std::string()) == kForwardError) {
      out.scalars["forward_ok"] = false;
      out.scalars.erase("output_shape");
      out.scalars.erase("output_type");
      out.skipped["error"] = "the text of MONAI's Python exception";
    }
    return out;
  };
}

} // namespace

void registerVitNetworkRunners(Registry &r) {
  r.add("ViT", networkRunner("ViT", makeViT));
  r.add("UNETR", networkRunner("UNETR", makeUNETR));
  r.add("EfficientNetBN", networkRunner("EfficientNetBN", makeEfficientNetBN));
  r.add("SwinUNETR", withErrors(networkRunner("SwinUNETR", makeSwinUNETR)));
}

} // namespace med::conformance
