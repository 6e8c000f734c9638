#include "med/runtime/dtype.h"

namespace med::rt {

namespace {
struct Named {
  DType type;
  const char *name;
};
constexpr Named kNames[] = {{DType::UInt8, "uint8"},     {DType::Int8, "int8"},
                            {DType::UInt16, "uint16"},   {DType::Int16, "int16"},
                            {DType::Int32, "int32"},     {DType::Int64, "int64"},
                            {DType::Float32, "float32"}, {DType::Float64, "float64"}};
} // namespace

const char *dtypeName(DType t) {
  for (const Named &n : kNames)
    if (n.type == t)
      return n.name;
  return "unknown";
}

bool parseDType(const std::string &name, DType &out) {
  for (const Named &n : kNames)
    if (name == n.name) {
      out = n.type;
      return true;
    }
  return false;
}

} // namespace med::rt
