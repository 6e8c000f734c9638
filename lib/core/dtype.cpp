#include "med/core/dtype.h"

#include "med/core/error.h"

namespace med {

std::optional<rt::DType> kernelDType(c10::ScalarType t) {
  switch (t) {
  case c10::ScalarType::Byte:
    return rt::DType::UInt8;
  case c10::ScalarType::Char:
    return rt::DType::Int8;
  case c10::ScalarType::Short:
    return rt::DType::Int16;
  case c10::ScalarType::Int:
    return rt::DType::Int32;
  case c10::ScalarType::Long:
    return rt::DType::Int64;
  case c10::ScalarType::Float:
    return rt::DType::Float32;
  case c10::ScalarType::Double:
    return rt::DType::Float64;
  default:
    return std::nullopt;
  }
}

rt::DType toDType(c10::ScalarType t, const std::string &where) {
  if (std::optional<rt::DType> d = kernelDType(t))
    return *d;
  throw Error(where, std::string("unsupported tensor dtype ") + c10::toString(t) +
                         "; expected uint8, int8, int16, int32, int64, float32 or float64");
}

c10::ScalarType toScalarType(rt::DType t) {
  switch (t) {
  case rt::DType::UInt8:
    return c10::ScalarType::Byte;
  case rt::DType::Int8:
    return c10::ScalarType::Char;
  case rt::DType::UInt16:
    throw Error("dtype", "uint16 has no LibTorch 1.13 tensor type; load such images as int32");
  case rt::DType::Int32:
    return c10::ScalarType::Int;
  case rt::DType::Int16:
    return c10::ScalarType::Short;
  case rt::DType::Int64:
    return c10::ScalarType::Long;
  case rt::DType::Float32:
    return c10::ScalarType::Float;
  case rt::DType::Float64:
    return c10::ScalarType::Double;
  }
  return c10::ScalarType::Float;
}

} // namespace med
