// Launchers of the generated Wasserstein Dice kernels (see med/kernels/wasserstein.h). The
// distance matrix and the gradient's coefficients reach the kernels as f64 operands, so one
// compiled kernel per dtype and class count serves every matrix.
#include "med/kernels/wasserstein.h"

#include <ATen/ATen.h>

#include <string>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"

namespace med::kernels {

using namespace detail;

namespace {

/// The kernels' IR: logit block, label map, a C x C f64 operand, then the output (`sums`: the
/// 2 C sums; else the gradient block, strided like the logits).
std::string kernelIR(rt::DType t, int64_t C, bool sums) {
  const std::string e = mlirElement(t), c = std::to_string(C);
  const std::string block = "memref<" + c + "x?x" + e + ", strided<[?, 1]>>",
                    blockTensor = "tensor<" + c + "x?x" + e + ">", labels = "memref<?x" + e + ">",
                    labelsTensor = "tensor<?x" + e + ">",
                    square = "tensor<" + std::to_string(C * C) + "xf64>",
                    result = sums ? "tensor<" + std::to_string(2 * C) + "xf64>" : blockTensor;
  const std::string out = sums ? "memref<?xf64>" : block;
  std::string ir = "func.func @med_kernel(%in0: " + block + ", %in1: " + labels +
                   ", %in2: memref<?xf64>, %out: " + out +
                   ") attributes {llvm.emit_c_interface} {\n"
                   "  %x = bufferization.to_tensor %in0 restrict : " +
                   block + "\n  %t = bufferization.to_tensor %in1 restrict : " + labels +
                   "\n  %md = bufferization.to_tensor %in2 restrict : memref<?xf64>\n"
                   "  %m = tensor.cast %md : tensor<?xf64> to " +
                   square + "\n  %s = med.wasserstein_" + (sums ? "sums" : "grad") +
                   " %x, %t, %m : " + blockTensor + ", " + labelsTensor + ", " + square + " -> " +
                   result + "\n";
  if (sums)
    ir += "  %r = tensor.cast %s : " + result +
          " to tensor<?xf64>\n"
          "  bufferization.materialize_in_destination %r in restrict writable %out : "
          "(tensor<?xf64>, memref<?xf64>) -> ()\n";
  else
    ir += "  bufferization.materialize_in_destination %s in restrict writable %out : (" +
          blockTensor + ", " + block + ") -> ()\n";
  return ir + "  return\n}\n";
}

/// Checks the logits and labels: (B, C, *spatial) and (B, 1, *spatial), C >= 2.
void checkOperands(const at::Tensor &x, const at::Tensor &labels, const std::string &owner) {
  const bool isLabels = detail::checkSoftmaxPair(
      x, labels, 0, 2, owner,
      "the Wasserstein Dice kernels need contiguous CPU float32/float64 logits (B, C >= 2, "
      "*spatial) and a (B, 1, *spatial) label map of their dtype");
  if (!isLabels)
    throw Error(owner, "the Wasserstein Dice kernels need a (B, 1, *spatial) label map, got one "
                       "target per class");
}

/// Binds item b's voxels [v0, v0 + count) of the logits and the labels.
void bindBlock(CallArgs &args, const at::Tensor &x, const at::Tensor &labels, int64_t b, int64_t v0,
               int64_t count) {
  const int64_t C = x.size(1), N = x.numel() / (x.size(0) * C);
  args.rows(elementAt(x, b * C * N + v0), C, count, N);
  args.flat(elementAt(labels, b * N + v0), count);
}

} // namespace

at::Tensor wasserstein_sums(const at::Tensor &logits, const at::Tensor &labels,
                            const at::Tensor &matrix, int threads, const std::string &owner) {
  checkOperands(logits, labels, owner);
  const int64_t B = logits.size(0), C = logits.size(1), N = B ? logits.numel() / (B * C) : 0;
  if (matrix.dim() != 2 || matrix.size(0) != C || matrix.size(1) != C)
    throw Error(owner, "the Wasserstein Dice kernels need a (" + std::to_string(C) + ", " +
                           std::to_string(C) + ") distance matrix");
  at::Tensor m = matrix.to(at::kDouble).contiguous().cpu();
  auto kernel = compiled(kernelIR(toDType(logits.scalar_type(), owner), C, true),
                         "Wasserstein Dice sums", owner);
  double *md = m.data_ptr<double>();
  at::Tensor sums = sumOverBlocks(*kernel, B, N, int(2 * C), threads,
                                  [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                                    bindBlock(args, logits, labels, b, v0, count);
                                    args.flat(md, C * C);
                                  });
  return sums.view({B, 2, C});
}

at::Tensor wasserstein_grad(const at::Tensor &logits, const at::Tensor &labels,
                            const at::Tensor &coefficients, int threads, const std::string &owner) {
  checkOperands(logits, labels, owner);
  const int64_t B = logits.size(0), C = logits.size(1);
  if (coefficients.dim() != 3 || coefficients.size(0) != B || coefficients.size(1) != C ||
      coefficients.size(2) != C || coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the Wasserstein Dice gradient kernel needs (B, " + std::to_string(C) +
                           ", " + std::to_string(C) + ") float64 coefficients");
  auto kernel = compiled(kernelIR(toDType(logits.scalar_type(), owner), C, false),
                         "Wasserstein Dice gradient", owner);
  at::Tensor coeff = coefficients.contiguous().cpu();
  double *k = coeff.data_ptr<double>();
  return gradOverItems(*kernel, logits, 0, threads,
                       [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                         bindBlock(args, logits, labels, b, v0, count);
                         args.flat(k + C * C * b, C * C);
                       });
}

} // namespace med::kernels
