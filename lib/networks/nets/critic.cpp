// Critic (critic.h).
#include "med/networks/nets/critic.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <c10/util/StringUtil.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace {
/// The Regressor behind a Critic: MONAI's Classifier with one class and no last activation.
RegressorOptions fromCritic(const CriticOptions &o) {
  return RegressorOptions(o.in_shape(), {1}, o.channels(), o.strides())
      .kernel_size(o.kernel_size())
      .num_res_units(o.num_res_units())
      .act(o.act())
      .norm(o.norm())
      .dropout(o.dropout())
      .bias(o.bias());
}
} // namespace

CriticImpl::CriticImpl(CriticOptions o) : RegressorImpl(fromCritic(o), /*linear_head=*/false) {}

at::Tensor CriticImpl::forward(const at::Tensor &x) {
  const auto &in = options.in_shape();
  if (x.dim() != static_cast<int64_t>(in.size()) + 1 ||
      !std::equal(in.begin(), in.end(), x.sizes().begin() + 1))
    throw Error("Critic.input",
                "expected (B, " + c10::Join(", ", in) + "), got " + c10::str(x.sizes()));
  at::Tensor flat = final_->forward(net_->forward(x)); // (B, C * prod(spatial))
  return flat.mean(1).view({flat.size(0), -1});
}

} // namespace med::networks::nets
