// ToDevice: moves an image to a torch device between the steps of a pipeline (MONAI's
// ToDevice), e.g. to run the last transforms and the network on the GPU.
#pragma once

#include <string>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// Options of ToDevice: the target `device` as torch spells it ("cpu", "cuda", "cuda:1"), and
/// `non_blocking` for an asynchronous copy from pinned memory (torch's Tensor.to keyword).
struct ToDeviceOptions {
  ToDeviceOptions(std::string device) : device_(std::move(device)) {}
  TORCH_ARG(std::string, device);
  TORCH_ARG(bool, non_blocking) = false;
};

/// MONAI ToDevice: the image's data on `device`, metadata unchanged. Only "cpu" and "cuda"
/// devices; asking for CUDA where it is not available (or for a GPU index that does not exist)
/// throws med::Error when the transform runs. Runs on the host inside compiled pipelines.
///
///   Compose({LoadImage(), EnsureChannelFirst(), ToDevice(ToDeviceOptions("cuda:0"))})
class ToDevice : public HostTransform {
public:
  using Options = ToDeviceOptions;
  explicit ToDevice(Options o);
  std::string name() const override { return "ToDevice"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

using ToDeviced = Dictionary<ToDevice>;

} // namespace med::transforms
