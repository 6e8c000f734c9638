// The runtime's microkernels as the compiler sees them: the names generated code calls
// (med-use-microkernels) and their addresses in this process, which the JIT binds explicitly
// (executables link the runtime statically and do not export its symbols).
#pragma once

#include "med/runtime/ukernels.h"

#include <utility>

namespace mlir::med {

/// med_uk_resample_linear_f32: med.resample, bilinear, zeros or border, float32.
inline constexpr const char *kResampleLinearF32 = "med_uk_resample_linear_f32";

/// med_uk_gaussian_noise_f32: med.gaussian_noise, float32.
inline constexpr const char *kGaussianNoiseF32 = "med_uk_gaussian_noise_f32";

/// med_uk_coarse_dropout_f32: med.coarse_dropout, float32 (not fill_range without dropout_holes).
inline constexpr const char *kCoarseDropoutF32 = "med_uk_coarse_dropout_f32";

/// Every microkernel: its symbol name and address, for the JIT's symbol table.
inline const std::pair<const char *, void *> kMicrokernels[] = {
    {kResampleLinearF32, reinterpret_cast<void *>(&med_uk_resample_linear_f32)},
    {kGaussianNoiseF32, reinterpret_cast<void *>(&med_uk_gaussian_noise_f32)},
    {kCoarseDropoutF32, reinterpret_cast<void *>(&med_uk_coarse_dropout_f32)},
};

} // namespace mlir::med
