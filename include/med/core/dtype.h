// Conversions between LibTorch's scalar types and the runtime's storage types.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

#include "med/runtime/dtype.h"

namespace med {

/// The runtime type of a torch scalar type, or nothing for types kernels do not store (bool,
/// complex, half): what decides whether a cast can be compiled.
std::optional<rt::DType> kernelDType(c10::ScalarType t);
/// The runtime type of a torch scalar type; throws med::Error(where, ...) for types kernels do
/// not support (bool, complex, half).
rt::DType toDType(c10::ScalarType t, const std::string &where);
/// The torch scalar type of a runtime type.
c10::ScalarType toScalarType(rt::DType t);

} // namespace med
