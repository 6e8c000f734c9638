// Launchers of the generated loss kernels: med.dice_sums, med.dice_grad and their softmax forms,
// med.hausdorff_dt_sums and med.hausdorff_dt_grad (see med/kernels/losses.h).
#include "med/kernels/losses.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"

namespace med::kernels {

using namespace detail;

namespace {

std::string flags(bool sigmoid, bool squared) {
  if (sigmoid && squared)
    return " {sigmoid, squared}";
  return sigmoid ? " {sigmoid}" : squared ? " {squared}" : "";
}

/// The gradient kernel's IR: input, target, the slab's two coefficients, the output.
std::string gradIR(rt::DType t, bool sigmoid, bool squared) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  return "func.func @med_kernel(%in0: " + m + ", %in1: " + m +
         ", %params: memref<?xf64>, %out: " + m +
         ") attributes {llvm.emit_c_interface} {\n  %x = bufferization.to_tensor %in0 restrict : " +
         m + "\n  %t = bufferization.to_tensor %in1 restrict : " + m +
         "\n  %c0 = arith.constant 0 : index\n  %c1 = arith.constant 1 : index\n"
         "  %di = memref.load %params[%c0] : memref<?xf64>\n"
         "  %dp = memref.load %params[%c1] : memref<?xf64>\n"
         "  %g = med.dice_grad %x, %t, %di, %dp" +
         flags(sigmoid, squared) + " : " + v + ", " + v + " -> " + v +
         "\n  bufferization.materialize_in_destination %g in restrict writable %out : (" + v +
         ", " + m + ") -> ()\n  return\n}\n";
}

/// The softmax kernels' operand types: the logit block, the target (a flat label map or a block
/// like the logits), as memref and tensor types.
struct SoftmaxTypes {
  std::string block, blockTensor, target, targetTensor;
};
SoftmaxTypes softmaxTypes(rt::DType t, int64_t C, bool labels) {
  const std::string e = mlirElement(t), c = std::to_string(C);
  SoftmaxTypes s{"memref<" + c + "x?x" + e + ", strided<[?, 1]>>", "tensor<" + c + "x?x" + e + ">",
                 "", ""};
  s.target = labels ? "memref<?x" + e + ">" : s.block;
  s.targetTensor = labels ? "tensor<?x" + e + ">" : s.blockTensor;
  return s;
}

/// The softmax sums kernel's IR: logit block, target, the 3 C sums.
std::string softmaxSumsIR(rt::DType t, int64_t C, bool labels, bool squared) {
  const SoftmaxTypes s = softmaxTypes(t, C, labels);
  const std::string r = "tensor<" + std::to_string(3 * C) + "xf64>";
  return "func.func @med_kernel(%in0: " + s.block + ", %in1: " + s.target +
         ", %out: memref<?xf64>) attributes {llvm.emit_c_interface} {\n"
         "  %x = bufferization.to_tensor %in0 restrict : " +
         s.block + "\n  %t = bufferization.to_tensor %in1 restrict : " + s.target +
         "\n  %r = med.softmax_dice_sums %x, %t" + flags(false, squared) + " : " + s.blockTensor +
         ", " + s.targetTensor + " -> " + r + "\n  %c = tensor.cast %r : " + r +
         " to tensor<?xf64>\n"
         "  bufferization.materialize_in_destination %c in restrict writable %out : "
         "(tensor<?xf64>, memref<?xf64>) -> ()\n  return\n}\n";
}

/// The softmax gradient kernel's IR: logit block, target, the item's 2 C coefficients, the
/// gradient block (strided like the logits).
std::string softmaxGradIR(rt::DType t, int64_t C, bool labels, bool squared) {
  const SoftmaxTypes s = softmaxTypes(t, C, labels);
  const std::string k = "tensor<" + std::to_string(2 * C) + "xf64>";
  return "func.func @med_kernel(%in0: " + s.block + ", %in1: " + s.target +
         ", %params: memref<?xf64>, %out: " + s.block +
         ") attributes {llvm.emit_c_interface} {\n"
         "  %x = bufferization.to_tensor %in0 restrict : " +
         s.block + "\n  %t = bufferization.to_tensor %in1 restrict : " + s.target +
         "\n  %p = bufferization.to_tensor %params restrict : memref<?xf64>\n  %k = tensor.cast "
         "%p : tensor<?xf64> to " +
         k + "\n  %g = med.softmax_dice_grad %x, %t, %k" + flags(false, squared) + " : " +
         s.blockTensor + ", " + s.targetTensor + ", " + k + " -> " + s.blockTensor +
         "\n  bufferization.materialize_in_destination %g in restrict writable %out : (" +
         s.blockTensor + ", " + s.block + ") -> ()\n  return\n}\n";
}

/// (B, C, N) logits and their target, checked: whether the target is a label map.
bool checkSoftmaxPair(const at::Tensor &x, const at::Tensor &t, const std::string &owner) {
  return detail::checkSoftmaxPair(
      x, t, 0, 2, owner,
      "the softmax Dice kernels need contiguous CPU float32/float64 logits (B, C >= 2, *spatial) "
      "and a target of their dtype, (B, 1, *spatial) labels or (B, C, *spatial)");
}

/// Binds item b's voxels [v0, v0 + count) of the logits and the target.
void bindSoftmaxBlock(CallArgs &args, const at::Tensor &x, const at::Tensor &t, bool labels,
                      int64_t b, int64_t v0, int64_t count) {
  const int64_t C = x.size(1), N = x.numel() / (x.size(0) * C);
  args.rows(elementAt(x, b * C * N + v0), C, count, N);
  if (labels)
    args.flat(elementAt(t, b * N + v0), count);
  else
    args.rows(elementAt(t, b * C * N + v0), C, count, N);
}

} // namespace

at::Tensor dice_sums(const at::Tensor &input, const at::Tensor &target, int64_t slabs, bool sigmoid,
                     bool squared, int threads, const std::string &owner) {
  checkPair(input, target, slabs, true, owner);
  const rt::DType type = toDType(input.scalar_type(), owner);
  auto kernel = compiled(reductionIR("med.dice_sums" + flags(sigmoid, squared), 2, type, 3),
                         "Dice sums", owner);
  return sumOverBlocks(*kernel, {input, target}, slabs, 3, threads);
}

at::Tensor dice_grad(const at::Tensor &input, const at::Tensor &target,
                     const at::Tensor &coefficients, bool sigmoid, bool squared, int threads,
                     const std::string &owner) {
  const int64_t slabs = coefficients.dim() == 2 ? coefficients.size(0) : -1;
  if (slabs < 0 || coefficients.size(1) != 2 || coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the Dice gradient kernel needs (slabs, 2) float64 coefficients");
  checkPair(input, target, slabs, true, owner);
  const rt::DType type = toDType(input.scalar_type(), owner);
  auto kernel = compiled(gradIR(type, sigmoid, squared), "Dice gradient", owner);
  at::Tensor coeff = coefficients.contiguous().cpu();
  return gradOverBlocks(*kernel, input, target, slabs, coeff.data_ptr<double>(), 2, 2, threads);
}

at::Tensor softmax_dice_sums(const at::Tensor &logits, const at::Tensor &target, bool squared,
                             int threads, const std::string &owner) {
  const bool labels = checkSoftmaxPair(logits, target, owner);
  const int64_t B = logits.size(0), C = logits.size(1), N = B ? logits.numel() / (B * C) : 0;
  auto kernel = compiled(softmaxSumsIR(toDType(logits.scalar_type(), owner), C, labels, squared),
                         "softmax Dice sums", owner);
  at::Tensor sums = sumOverBlocks(*kernel, B, N, int(3 * C), threads,
                                  [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                                    bindSoftmaxBlock(args, logits, target, labels, b, v0, count);
                                  });
  return sums.view({B, 3, C});
}

at::Tensor softmax_dice_grad(const at::Tensor &logits, const at::Tensor &target,
                             const at::Tensor &coefficients, bool squared, int threads,
                             const std::string &owner) {
  const bool labels = checkSoftmaxPair(logits, target, owner);
  const int64_t B = logits.size(0), C = logits.size(1);
  if (coefficients.dim() != 3 || coefficients.size(0) != B || coefficients.size(1) != 2 ||
      coefficients.size(2) != C || coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the softmax Dice gradient kernel needs (B, 2, C) float64 coefficients");
  auto kernel = compiled(softmaxGradIR(toDType(logits.scalar_type(), owner), C, labels, squared),
                         "softmax Dice gradient", owner);
  at::Tensor coeff = coefficients.contiguous().cpu();
  double *k = coeff.data_ptr<double>();
  return gradOverItems(*kernel, logits, 0, threads,
                       [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                         bindSoftmaxBlock(args, logits, target, labels, b, v0, count);
                         args.flat(k + 2 * C * b, 2 * C);
                       });
}

namespace {

/// The HausdorffDTLoss kernels' IR over four flat memrefs of `t` (input, target, the two
/// fields), params [alpha] (sums) or [coefficient, alpha] (gradient), then the output.
std::string hausdorffIR(rt::DType t, bool sums) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  std::string ir = "func.func @med_kernel(";
  for (int i = 0; i < 4; ++i)
    ir += "%in" + std::to_string(i) + ": " + m + ", ";
  ir += "%params: memref<?xf64>, %out: " + (sums ? std::string("memref<?xf64>") : m) +
        ") attributes {llvm.emit_c_interface} {\n";
  for (int i = 0; i < 4; ++i)
    ir += "  %v" + std::to_string(i) + " = bufferization.to_tensor %in" + std::to_string(i) +
          " restrict : " + m + "\n";
  ir += "  %c0 = arith.constant 0 : index\n  %p0 = memref.load %params[%c0] : memref<?xf64>\n";
  const std::string operands = " %v0, %v1, %v2, %v3, ";
  const std::string types = " : " + v + ", " + v + ", " + v + ", " + v + " -> ";
  if (sums)
    return ir + "  %s = med.hausdorff_dt_sums" + operands + "%p0" + types +
           "tensor<1xf64>\n  %r = tensor.cast %s : tensor<1xf64> to tensor<?xf64>\n"
           "  bufferization.materialize_in_destination %r in restrict writable %out : "
           "(tensor<?xf64>, memref<?xf64>) -> ()\n  return\n}\n";
  return ir +
         "  %c1 = arith.constant 1 : index\n  %p1 = memref.load %params[%c1] : memref<?xf64>\n"
         "  %r = med.hausdorff_dt_grad" +
         operands + "%p0, %p1" + types + v +
         "\n  bufferization.materialize_in_destination %r in restrict writable %out : (" + v +
         ", " + m + ") -> ()\n  return\n}\n";
}

/// Checks the four operands of the HausdorffDTLoss kernels: one size and dtype, cut into slabs.
void checkHausdorff(const std::vector<at::Tensor> &in, int64_t slabs, const std::string &owner) {
  for (size_t i = 1; i < in.size(); ++i)
    checkPair(in[0], in[i], slabs, true, owner);
}

} // namespace

at::Tensor hausdorff_dt_sums(const at::Tensor &input, const at::Tensor &target,
                             const at::Tensor &inputField, const at::Tensor &targetField,
                             int64_t slabs, double alpha, int threads, const std::string &owner) {
  const std::vector<at::Tensor> in = {input, target, inputField, targetField};
  checkHausdorff(in, slabs, owner);
  auto kernel = compiled(hausdorffIR(toDType(input.scalar_type(), owner), true),
                         "HausdorffDTLoss sums", owner);
  const int64_t len = slabs ? input.numel() / slabs : 0;
  at::Tensor sums = sumOverBlocks(*kernel, slabs, len, 1, threads,
                                  [&](CallArgs &args, int64_t slab, int64_t v0, int64_t n) {
                                    for (const at::Tensor &t : in)
                                      args.flat(elementAt(t, slab * len + v0), n);
                                    args.flat(&alpha, 1);
                                  });
  return sums.view({slabs});
}

at::Tensor hausdorff_dt_grad(const at::Tensor &input, const at::Tensor &target,
                             const at::Tensor &inputField, const at::Tensor &targetField,
                             const at::Tensor &coefficients, double alpha, int threads,
                             const std::string &owner) {
  const int64_t slabs = coefficients.dim() == 1 ? coefficients.size(0) : -1;
  if (slabs < 0 || coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the HausdorffDTLoss gradient kernel needs (slabs) float64 coefficients");
  const std::vector<at::Tensor> in = {input, target, inputField, targetField};
  checkHausdorff(in, slabs, owner);
  auto kernel = compiled(hausdorffIR(toDType(input.scalar_type(), owner), false),
                         "HausdorffDTLoss gradient", owner);
  at::Tensor params = at::empty({slabs, 2}, at::kDouble);
  params.select(1, 0).copy_(coefficients);
  params.select(1, 1).fill_(alpha);
  return gradOverBlocks(*kernel, in, slabs, params.data_ptr<double>(), 2, 2, threads);
}

} // namespace med::kernels
