// Runners for further MONAI architectures: AHNet. Each builds the network from params.kwargs
// (networks_common.h records the state-dict layout and runs the forward pass).
#include <string>

#include "med/networks/nets/ahnet.h"
#include "networks_common.h"

namespace med::conformance {
namespace N = med::networks::nets;

namespace {

Built makeAHNet(Kwargs &kw, const nlohmann::json & /*kwargs*/) {
  N::AHNetOptions o;
  o.layers(kw.ints("layers", o.layers()))
      .spatial_dims(kw.integer("spatial_dims", o.spatial_dims()))
      .in_channels(kw.integer("in_channels", o.in_channels()))
      .out_channels(kw.integer("out_channels", o.out_channels()))
      .psp_block_num(kw.integer("psp_block_num", o.psp_block_num()))
      .upsample_mode(kw.string("upsample_mode", o.upsample_mode()))
      .pretrained(kw.boolean("pretrained", o.pretrained()))
      .progress(kw.boolean("progress", o.progress()));
  kw.finish();
  return built(N::AHNet(o));
}

} // namespace

void registerMoreNetworkRunners(Registry &r) { r.add("AHNet", networkRunner("AHNet", makeAHNet)); }

} // namespace med::conformance
