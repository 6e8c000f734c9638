// The dictionary form of MONAI's data: key -> MetaTensor.
#pragma once

#include <map>
#include <string>

#include "med/core/meta_tensor.h"

namespace med {

/// What dictionary transforms ("...d") take and return, as MONAI's `dict` of MetaTensors.
///
///   med::Data d = med::io::LoadImaged({"image"})({{"image", "ch2.nii.gz"}});
using Data = std::map<std::string, MetaTensor>;

} // namespace med
