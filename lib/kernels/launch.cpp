// Compiling and launching the generated kernels of lib/kernels (see launch.h).
#include "launch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "med/core/error.h"
#include "med/runtime/launcher.h"
#include "med/runtime/memory.h"

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

void checkPair(const at::Tensor &a, const at::Tensor &b, int64_t slabs, bool floatOnly,
               const std::string &owner) {
  const bool floating = a.scalar_type() == at::kFloat || a.scalar_type() == at::kDouble;
  if ((floatOnly && !floating) || b.scalar_type() != a.scalar_type() || b.numel() != a.numel() ||
      !a.is_contiguous() || !b.is_contiguous() || !a.device().is_cpu() || !b.device().is_cpu() ||
      slabs < 0 || (slabs == 0 ? a.numel() != 0 : a.numel() % slabs != 0))
    throw Error(owner, std::string("the kernel needs two contiguous CPU ") +
                           (floatOnly ? "float32/float64 " : "") +
                           "tensors of one dtype and size, cut into equal slabs");
}

bool checkSoftmaxPair(const at::Tensor &x, const at::Tensor &t, int64_t first, int64_t minClasses,
                      const std::string &owner, const char *expected) {
  const bool floating = x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble;
  const bool shaped = x.dim() >= 2 && first >= 0 && x.size(1) > first && x.size(1) >= minClasses &&
                      t.dim() == x.dim() && t.size(0) == x.size(0) &&
                      t.sizes().slice(2).equals(x.sizes().slice(2));
  const bool labels = shaped && t.size(1) == 1 && x.size(1) > 1;
  if (!floating || !shaped || (!labels && t.size(1) != x.size(1)) ||
      t.scalar_type() != x.scalar_type() || !x.is_contiguous() || !t.is_contiguous() ||
      !x.device().is_cpu() || !t.device().is_cpu())
    throw Error(owner, expected);
  return labels;
}

int CallArgs::next() {
  if (count_ == kMax)
    throw Error("CallArgs", "more than " + std::to_string(kMax) + " kernel arguments");
  return count_++;
}

void CallArgs::flat(void *data, int64_t size) {
  const int i = next();
  flat_[i] = med_memref1d{data, data, 0, size, 1};
  descriptors_[i] = &flat_[i];
}

void CallArgs::rows(void *data, int64_t rows, int64_t count, int64_t stride) {
  const int i = next();
  rows_[i] = med_memref2d{data, data, 0, {rows, count}, {stride, 1}};
  descriptors_[i] = &rows_[i];
}

void CallArgs::call(const compiler::Kernel &kernel) {
  for (int i = 0; i < count_; ++i)
    args_[i] = &descriptors_[i];
  kernel.entry(args_);
}

at::Tensor sumOverBlocks(const compiler::Kernel &kernel, int64_t slabs, int64_t len, int results,
                         int threads, const BindFn &bind) {
  const int64_t per = blocksPerSlab(len);
  std::vector<double> partial(size_t(results * slabs * per));
  forEachBlock(slabs, len, threads, [&](int64_t block, int64_t start, int64_t size) {
    CallArgs args;
    const int64_t slab = block / per;
    bind(args, slab, start - slab * len, size);
    args.flat(partial.data() + results * block, results);
    args.call(kernel);
  });
  at::Tensor out = at::zeros({slabs, results}, at::kDouble);
  double *o = out.data_ptr<double>();
  for (int64_t block = 0; block < slabs * per; ++block)
    for (int k = 0; k < results; ++k)
      o[results * (block / per) + k] += partial[results * block + k];
  return out;
}

at::Tensor sumOverBlocks(const compiler::Kernel &kernel, const std::vector<at::Tensor> &inputs,
                         int64_t slabs, int results, int threads) {
  const int64_t len = slabs ? inputs[0].numel() / slabs : 0;
  return sumOverBlocks(kernel, slabs, len, results, threads,
                       [&](CallArgs &args, int64_t slab, int64_t offset, int64_t count) {
                         for (const at::Tensor &t : inputs)
                           args.flat(elementAt(t, slab * len + offset), count);
                       });
}

at::Tensor gradOverBlocks(const compiler::Kernel &kernel, const at::Tensor &input,
                          const at::Tensor &target, int64_t slabs, const double *params,
                          int64_t stride, int64_t used, int threads) {
  return gradOverBlocks(kernel, std::vector<at::Tensor>{input, target}, slabs, params, stride, used,
                        threads);
}

at::Tensor gradOverBlocks(const compiler::Kernel &kernel, const std::vector<at::Tensor> &inputs,
                          int64_t slabs, const double *params, int64_t stride, int64_t used,
                          int threads) {
  const at::Tensor &input = inputs.front();
  at::Tensor grad = at::empty_like(input, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  const int64_t len = slabs ? input.numel() / slabs : 0, per = blocksPerSlab(len);
  forEachBlock(slabs, len, threads, [&](int64_t b, int64_t start, int64_t count) {
    CallArgs args;
    for (const at::Tensor &t : inputs)
      args.flat(elementAt(t, start), count);
    args.flat(const_cast<double *>(params) + stride * (b / per), used);
    args.flat(elementAt(grad, start), count);
    args.call(kernel);
  });
  return grad;
}

at::Tensor gradOverItems(const compiler::Kernel &kernel, const at::Tensor &logits, int64_t first,
                         int threads, const BindFn &bind) {
  const int64_t B = logits.size(0), C = logits.size(1), N = B ? logits.numel() / (B * C) : 0;
  at::Tensor grad = at::empty_like(logits, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  if (first > 0)
    grad.view({B, C, N}).slice(1, 0, first).zero_();
  const int64_t per = blocksPerSlab(N);
  forEachBlock(B, N, threads, [&](int64_t block, int64_t start, int64_t count) {
    const int64_t b = block / per, v0 = start - b * N;
    CallArgs args;
    bind(args, b, v0, count);
    args.rows(elementAt(grad, (b * C + first) * N + v0), C - first, count, N);
    args.call(kernel);
  });
  return grad;
}

void *elementAt(const at::Tensor &t, int64_t index) {
  return static_cast<char *>(t.data_ptr()) + index * t.element_size();
}

} // namespace med::kernels::detail
