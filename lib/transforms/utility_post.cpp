// KeepLargestConnectedComponent and FillHoles (MONAI 1.4 semantics) on top of the labelling in
// components.cpp.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <set>

#include "med/core/error.h"
#include "med/transforms/utility.h"

namespace med::transforms {
namespace {

void checkConnectivity(const std::optional<int64_t> &c, const std::string &where) {
  if (c && (*c < 1 || *c > 3))
    throw Error(where,
                "expected a value in [1, 3] (at most the spatial rank), got " + std::to_string(*c));
}

// The connectivity for an image with `nsp` spatial axes (unset = full, as MONAI).
int64_t connectivityFor(const std::optional<int64_t> &c, int64_t nsp, const std::string &where) {
  if (c && *c > nsp)
    throw Error(where, "connectivity " + std::to_string(*c) + " exceeds the image's " +
                           std::to_string(nsp) + " spatial axes");
  return c.value_or(nsp);
}

int64_t spatialAxes(const at::Tensor &t, const std::string &where) {
  if (!t.defined() || t.dim() < 2 || t.dim() > 4)
    throw Error(where, "expected a channel-first image with 1 to 3 spatial axes");
  return t.dim() - 1;
}

// MONAI's get_unique_labels (discarding 0): one-hot channels that are not all zero, or the
// values of the single channel.
std::vector<double> labelsOf(const at::Tensor &img, bool onehot,
                             const std::optional<std::vector<int64_t>> &applied,
                             const std::string &where) {
  std::set<double> out;
  if (applied) {
    for (int64_t l : *applied) {
      if (onehot && (l < 0 || l >= img.size(0)))
        throw Error(where + ".applied_labels", "channel " + std::to_string(l) +
                                                   " does not exist in a one-hot image of " +
                                                   std::to_string(img.size(0)) + " channels");
      out.insert(static_cast<double>(l));
    }
  } else if (onehot) {
    for (int64_t c = 0; c < img.size(0); ++c)
      if (img[c].ne(0).any().item<bool>())
        out.insert(static_cast<double>(c));
  } else {
    if (img.size(0) != 1)
      throw Error(where, "an image that is not one-hot should have 1 channel, got " +
                             std::to_string(img.size(0)));
    at::Tensor u = std::get<0>(at::_unique(img[0].flatten().to(at::kDouble)));
    const double *p = u.data_ptr<double>();
    out.insert(p, p + u.numel());
  }
  out.erase(0.0);
  return std::vector<double>(out.begin(), out.end());
}

} // namespace

// --- KeepLargestConnectedComponent --------------------------------------------------------------

KeepLargestConnectedComponent::KeepLargestConnectedComponent(Options o) : o_(std::move(o)) {
  checkConnectivity(o_.connectivity(), "KeepLargestConnectedComponent.connectivity");
  if (o_.num_components() < 1)
    throw Error("KeepLargestConnectedComponent.num_components",
                "expected at least 1, got " + std::to_string(o_.num_components()));
}

MetaTensor KeepLargestConnectedComponent::eager(const MetaTensor &img) const {
  const int64_t nsp = spatialAxes(img.data, name());
  const int64_t conn = connectivityFor(o_.connectivity(), nsp, name() + ".connectivity");
  const bool onehot = o_.is_onehot().value_or(img.data.size(0) > 1);
  const std::vector<double> labels = labelsOf(img.data, onehot, o_.applied_labels(), name());
  at::Tensor out = img.data.clone();
  auto largest = [&](const at::Tensor &fg) {
    return detail::largestComponents(fg, conn, o_.num_components());
  };
  if (labels.empty())
    return img.withData(out);
  if (o_.independent()) {
    for (double l : labels) {
      at::Tensor ch = onehot ? out.select(0, static_cast<int64_t>(l)) : out.select(0, 0);
      at::Tensor fg = onehot ? ch.gt(0) : ch.eq(l);
      ch.masked_fill_(fg.logical_and(largest(fg).logical_not()), 0);
    }
  } else if (!onehot) {
    at::Tensor ch = out.select(0, 0), fg = at::zeros_like(ch, at::kBool);
    for (double l : labels)
      fg = fg.logical_or(ch.eq(l));
    ch.masked_fill_(fg.logical_and(largest(fg).logical_not()), 0);
  } else {
    at::Tensor fg = at::zeros_like(out.select(0, 0), at::kBool);
    for (double l : labels)
      fg = fg.logical_or(out.select(0, static_cast<int64_t>(l)).eq(1));
    at::Tensor drop = fg.logical_and(largest(fg).logical_not());
    for (double l : labels)
      out.select(0, static_cast<int64_t>(l)).masked_fill_(drop, 0);
  }
  return img.withData(out);
}

// --- FillHoles -----------------------------------------------------------------------------------

FillHoles::FillHoles(Options o) : o_(std::move(o)) {
  checkConnectivity(o_.connectivity(), "FillHoles.connectivity");
}

MetaTensor FillHoles::eager(const MetaTensor &img) const {
  const int64_t nsp = spatialAxes(img.data, name());
  const int64_t conn = connectivityFor(o_.connectivity(), nsp, name() + ".connectivity");
  const bool onehot = img.data.size(0) > 1;
  at::Tensor out = img.data.clone();
  for (double l : labelsOf(img.data, onehot, o_.applied_labels(), name())) {
    at::Tensor ch = onehot ? out.select(0, static_cast<int64_t>(l)) : out.select(0, 0);
    // Voxels reachable from outside the image through voxels that are not the label.
    at::Tensor outside = detail::borderConnected(onehot ? ch.eq(0) : ch.ne(l), conn);
    if (onehot)
      ch.copy_(outside.logical_not());
    else
      ch.masked_fill_(outside.logical_not(), l);
  }
  return img.withData(out);
}

} // namespace med::transforms
