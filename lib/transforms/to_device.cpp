// ToDevice (MONAI 1.4 semantics).
#include "med/transforms/to_device.h"

#include <ATen/Context.h>
#include <c10/core/Device.h>

#include "med/core/error.h"

namespace med::transforms {
namespace {

// Parses torch's device spelling, as a med::Error naming the parameter when it is not one.
c10::Device parseDevice(const std::string &s) {
  try {
    return c10::Device(s);
  } catch (const std::exception &) {
    throw Error("ToDevice.device",
                "expected a torch device such as \"cpu\", \"cuda\" or \"cuda:0\", got \"" + s +
                    "\"");
  }
}

} // namespace

ToDevice::ToDevice(Options o) : o_(std::move(o)) {
  c10::Device d = parseDevice(o_.device());
  if (!d.is_cpu() && !d.is_cuda())
    throw Error("ToDevice.device",
                "only \"cpu\" and \"cuda\" devices are supported, got \"" + o_.device() + "\"");
}

MetaTensor ToDevice::eager(const MetaTensor &img) const {
  if (!img.data.defined())
    throw Error(name(), "the image tensor is undefined");
  c10::Device d = parseDevice(o_.device());
  if (d.is_cuda()) {
    if (!at::hasCUDA())
      throw Error("ToDevice.device", "\"" + o_.device() +
                                         "\" requested but CUDA is not available in this "
                                         "process (no GPU, or LibTorch built without CUDA)");
    if (d.has_index() && d.index() >= int(at::getNumGPUs()))
      throw Error("ToDevice.device", "\"" + o_.device() + "\" requested but only " +
                                         std::to_string(at::getNumGPUs()) + " GPU(s) are visible");
  }
  return img.withData(img.data.to(d, /*non_blocking=*/o_.non_blocking()));
}

} // namespace med::transforms
