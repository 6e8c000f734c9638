// Element types the runtime and generated kernels understand; no LibTorch or MLIR here.
#pragma once

#include <cstdint>
#include <string>

namespace med::rt {

/// Storage type of a buffer. Names follow numpy/torch ("uint8", "int16", "float32").
enum class DType : uint8_t { UInt8, Int8, UInt16, Int16, Int32, Int64, Float32, Float64 };

/// Bytes per element.
inline int dtypeSize(DType t) {
  switch (t) {
  case DType::UInt8:
  case DType::Int8:
    return 1;
  case DType::UInt16:
  case DType::Int16:
    return 2;
  case DType::Int32:
  case DType::Float32:
    return 4;
  case DType::Int64:
  case DType::Float64:
    return 8;
  }
  return 0;
}

/// numpy-style name, e.g. "uint8".
const char *dtypeName(DType t);
/// Parses a numpy-style name; returns false when the name is unknown.
bool parseDType(const std::string &name, DType &out);
inline bool isFloat(DType t) { return t == DType::Float32 || t == DType::Float64; }

} // namespace med::rt
