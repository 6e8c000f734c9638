#include "launch.h"

#include <algorithm>

#include "med/core/error.h"

namespace med::kernels::detail {

const char *mlirElement(rt::DType t) {
  switch (t) {
  case rt::DType::UInt8:
    return "ui8";
  case rt::DType::Int8:
    return "i8";
  case rt::DType::UInt16:
    return "ui16";
  case rt::DType::Int16:
    return "i16";
  case rt::DType::Int32:
    return "i32";
  case rt::DType::Int64:
    return "i64";
  case rt::DType::Float32:
    return "f32";
  case rt::DType::Float64:
    return "f64";
  }
  return "?";
}

std::shared_ptr<const compiler::Kernel> compiled(const std::string &ir, const char *what,
                                                 const std::string &owner) {
  std::string error;
  auto kernel = compiler::JitSession::global().compile(ir, &error);
  if (!kernel)
    throw Error(owner, std::string("the ") + what + " kernel failed to compile: " + error);
  return kernel;
}

std::string reductionIR(const std::string &op, int inputs, rt::DType t, int results) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  const std::string r = "tensor<" + std::to_string(results) + "xf64>";
  std::string args, loads, operands, types;
  for (int i = 0; i < inputs; ++i) {
    const std::string n = std::to_string(i), sep = i ? ", " : "";
    args += "%in" + n + ": " + m + ", ";
    loads += "  %x" + n + " = bufferization.to_tensor %in" + n + " restrict : " + m + "\n";
    operands += sep + "%x" + n;
    types += sep + v;
  }
  // The op's attributes (after its name) go between the operands and the type list.
  const size_t space = op.find(' ');
  const std::string name = op.substr(0, space), attrs = space == op.npos ? "" : op.substr(space);
  return "func.func @med_kernel(" + args + "%out: memref<?xf64>) attributes " +
         "{llvm.emit_c_interface} {\n" + loads + "  %r = " + name + " " + operands + attrs + " : " +
         types + " -> " + r + "\n  %c = tensor.cast %r : " + r +
         " to tensor<?xf64>\n"
         "  bufferization.materialize_in_destination %c in restrict writable %out : "
         "(tensor<?xf64>, memref<?xf64>) -> ()\n  return\n}\n";
}

void forEachBlock(int64_t slabs, int64_t len, int threads,
                  const std::function<void(int64_t, int64_t, int64_t)> &fn) {
  const int64_t per = blocksPerSlab(len);
  rt::parallelFor(slabs * per, threads, 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      const int64_t offset = (b % per) * kBlock;
      fn(b, (b / per) * len + offset, std::min(kBlock, len - offset));
    }
  });
}

rt::BufferRef bufferOf(const at::Tensor &t, int64_t start, int64_t count) {
  const int size = static_cast<int>(t.element_size());
  return {static_cast<char *>(t.data_ptr()) + start * size, count, size, /*split=*/false};
}

} // namespace med::kernels::detail
