#include "med/kernels/reductions.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/runtime/launcher.h"

namespace med::kernels {

namespace {

/// Elements per block: large enough that a call costs nothing next to its loop, small enough
/// that two threads share an image evenly. Fixed, so the blocks do not depend on `threads`.
constexpr int64_t kBlock = int64_t(1) << 16;

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

/// The reduction kernel's IR for one element type: the extrema of the input chunk written to
/// the 2-element output.
std::string extremaIR(rt::DType t) {
  std::string e = mlirElement(t);
  return "func.func @med_kernel(%in: memref<?x" + e +
         ">, %out: memref<?xf64>) attributes {llvm.emit_c_interface} {\n"
         "  %t = bufferization.to_tensor %in restrict : memref<?x" +
         e +
         ">\n"
         "  %0 = med.extrema %t : tensor<?x" +
         e +
         "> -> tensor<2xf64>\n"
         "  %1 = tensor.cast %0 : tensor<2xf64> to tensor<?xf64>\n"
         "  bufferization.materialize_in_destination %1 in restrict writable %out : "
         "(tensor<?xf64>, memref<?xf64>) -> ()\n"
         "  return\n"
         "}\n";
}

/// The counting kernel's IR: [overlap, |pred|, |target|, bad] of two chunks of one type.
std::string overlapIR(rt::DType t, bool binary) {
  std::string m = std::string("memref<?x") + mlirElement(t) + ">";
  std::string v = std::string("tensor<?x") + mlirElement(t) + ">";
  return "func.func @med_kernel(%a: " + m + ", %b: " + m +
         ", %out: memref<?xf64>) attributes {llvm.emit_c_interface} {\n"
         "  %p = bufferization.to_tensor %a restrict : " +
         m + "\n  %y = bufferization.to_tensor %b restrict : " + m +
         "\n  %0 = med.overlap_counts %p, %y " + (binary ? "{binary} " : "") + ": " + v + ", " + v +
         " -> tensor<4xf64>\n"
         "  %1 = tensor.cast %0 : tensor<4xf64> to tensor<?xf64>\n"
         "  bufferization.materialize_in_destination %1 in restrict writable %out : "
         "(tensor<?xf64>, memref<?xf64>) -> ()\n"
         "  return\n"
         "}\n";
}

std::shared_ptr<const compiler::Kernel> compiled(const std::string &ir, const char *what,
                                                 const std::string &owner) {
  std::string error;
  auto kernel = compiler::JitSession::global().compile(ir, &error);
  if (!kernel)
    throw Error(owner, std::string("the ") + what + " kernel failed to compile: " + error);
  return kernel;
}

/// torch.min / torch.max on two partial results: NaN wins.
double nanMin(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }
double nanMax(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }

} // namespace

std::pair<double, double> extrema(const at::Tensor &input, int threads, const std::string &owner) {
  auto kernel = compiled(extremaIR(toDType(input.scalar_type(), owner)), "extrema", owner);
  const int64_t n = input.numel(), blocks = (n + kBlock - 1) / kBlock;
  const int size = static_cast<int>(input.element_size());
  const char *base = static_cast<const char *>(input.data_ptr());
  std::vector<double> partial(2 * blocks);
  rt::parallelFor(blocks, threads, 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      const int64_t start = b * kBlock, count = std::min(kBlock, n - start);
      rt::BufferRef buffers[2] = {
          {const_cast<char *>(base) + start * size, count, size, /*split=*/false},
          {partial.data() + 2 * b, 2, 8, /*split=*/false}};
      rt::launchWhole(kernel->entry, buffers, 2);
    }
  });
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int64_t b = 0; b < blocks; ++b) {
    lo = nanMin(lo, partial[2 * b]);
    hi = nanMax(hi, partial[2 * b + 1]);
  }
  return {lo, hi};
}

at::Tensor overlap_counts(const at::Tensor &pred, const at::Tensor &target, int64_t slabs,
                          bool binary, int threads, const std::string &owner) {
  const rt::DType type = toDType(pred.scalar_type(), owner);
  if (target.scalar_type() != pred.scalar_type() || target.numel() != pred.numel() ||
      !pred.is_contiguous() || !target.is_contiguous() || slabs < 0 ||
      (slabs == 0 ? pred.numel() != 0 : pred.numel() % slabs != 0))
    throw Error(owner, "overlap counts need contiguous pred and target of one dtype and size, "
                       "cut into equal slabs");
  auto kernel = compiled(overlapIR(type, binary), "overlap counting", owner);
  const int64_t len = slabs ? pred.numel() / slabs : 0, perSlab = (len + kBlock - 1) / kBlock;
  const int size = static_cast<int>(pred.element_size());
  const char *p = static_cast<const char *>(pred.data_ptr());
  const char *y = static_cast<const char *>(target.data_ptr());
  std::vector<double> partial(4 * slabs * perSlab);
  rt::parallelFor(slabs * perSlab, threads, 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      const int64_t start = (b / perSlab) * len + (b % perSlab) * kBlock;
      const int64_t count = std::min(kBlock, len - (b % perSlab) * kBlock);
      rt::BufferRef buffers[3] = {
          {const_cast<char *>(p) + start * size, count, size, /*split=*/false},
          {const_cast<char *>(y) + start * size, count, size, /*split=*/false},
          {partial.data() + 4 * b, 4, 8, /*split=*/false}};
      rt::launchWhole(kernel->entry, buffers, 3);
    }
  });
  // Whole counts below 2^53 add exactly in any order.
  at::Tensor out = at::zeros({slabs, 4}, at::kDouble);
  double *o = out.data_ptr<double>();
  for (int64_t b = 0; b < slabs * perSlab; ++b)
    for (int k = 0; k < 4; ++k)
      o[4 * (b / perSlab) + k] = k < 3 ? o[4 * (b / perSlab) + k] + partial[4 * b + k]
                                       : std::max(o[4 * (b / perSlab) + k], partial[4 * b + k]);
  return out;
}

} // namespace med::kernels
