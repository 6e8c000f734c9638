// Launchers of the generated focal loss kernels: med.focal_sums, med.focal_grad and their softmax
// forms (see med/kernels/losses.h). gamma and alpha reach the kernels as f64 parameters, so one
// compiled kernel per dtype (and alpha or not, channel count, label map or not) serves them all.
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

/// The head shared by the kernels' IR: the signature (`args`, then the output) and the
/// to_tensor of the first two arguments.
std::string header(const std::string &args, const std::string &in0, const std::string &in1) {
  return "func.func @med_kernel(" + args + ") attributes {llvm.emit_c_interface} {\n" +
         "  %x = bufferization.to_tensor %in0 restrict : " + in0 +
         "\n  %t = bufferization.to_tensor %in1 restrict : " + in1 + "\n";
}

/// Loads `count` f64 values %p0.. from the memref argument `name`.
std::string loads(const std::string &name, int count) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    s += "  %c" + n + " = arith.constant " + n + " : index\n  %p" + n + " = memref.load " + name +
         "[%c" + n + "] : memref<?xf64>\n";
  }
  return s;
}

/// Writes the tensor %r of type `type` into %out of memref type `outType` and returns.
std::string store(const std::string &type, const std::string &outType) {
  return "  bufferization.materialize_in_destination %r in restrict writable %out : (" + type +
         ", " + outType + ") -> ()\n  return\n}\n";
}

/// The sigmoid sums kernel's IR: input, target, params [gamma (, alpha)], the one sum.
std::string sumsIR(rt::DType t, bool alpha) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  return header("%in0: " + m + ", %in1: " + m + ", %params: memref<?xf64>, %out: memref<?xf64>", m,
                m) +
         loads("%params", alpha ? 2 : 1) + "  %s = med.focal_sums %x, %t, %p0" +
         (alpha ? ", %p1" : "") + " : " + v + ", " + v +
         " -> tensor<1xf64>\n  %r = tensor.cast %s : tensor<1xf64> to tensor<?xf64>\n" +
         store("tensor<?xf64>", "memref<?xf64>");
}

/// The sigmoid gradient kernel's IR: input, target, params [coefficient, gamma (, alpha)], the
/// gradient.
std::string gradIR(rt::DType t, bool alpha) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  return header("%in0: " + m + ", %in1: " + m + ", %params: memref<?xf64>, %out: " + m, m, m) +
         loads("%params", alpha ? 3 : 2) + "  %r = med.focal_grad %x, %t, %p0, %p1" +
         (alpha ? ", %p2" : "") + " : " + v + ", " + v + " -> " + v + "\n" + store(v, m);
}

/// The softmax kernels' operand types for C rows: the logit block, the target (a flat label map
/// or a block like the logits), as memref and tensor types.
struct Types {
  std::string block, blockTensor, target, targetTensor;
};
Types softmaxTypes(rt::DType t, int64_t C, bool labels) {
  const std::string e = mlirElement(t), c = std::to_string(C);
  Types s{"memref<" + c + "x?x" + e + ", strided<[?, 1]>>", "tensor<" + c + "x?x" + e + ">", "",
          ""};
  s.target = labels ? "memref<?x" + e + ">" : s.block;
  s.targetTensor = labels ? "tensor<?x" + e + ">" : s.blockTensor;
  return s;
}

std::string firstAttr(int64_t first) {
  return first ? " {first = " + std::to_string(first) + "}" : "";
}

/// The softmax sums kernel's IR: logit block, target, params [gamma], the C (+1) sums.
std::string softmaxSumsIR(rt::DType t, int64_t C, bool labels, int64_t first) {
  const Types s = softmaxTypes(t, C, labels);
  const std::string r = "tensor<" + std::to_string(C + (labels ? 1 : 0)) + "xf64>";
  return header("%in0: " + s.block + ", %in1: " + s.target +
                    ", %params: memref<?xf64>, %out: memref<?xf64>",
                s.block, s.target) +
         loads("%params", 1) + "  %s = med.softmax_focal_sums %x, %t, %p0" + firstAttr(first) +
         " : " + s.blockTensor + ", " + s.targetTensor + " -> " + r +
         "\n  %r = tensor.cast %s : " + r + " to tensor<?xf64>\n" +
         store("tensor<?xf64>", "memref<?xf64>");
}

/// The softmax gradient kernel's IR: logit block, target, the item's C coefficients, params
/// [gamma], the gradient block (strided like the logits).
std::string softmaxGradIR(rt::DType t, int64_t C, bool labels, int64_t first) {
  const Types s = softmaxTypes(t, C, labels);
  const std::string k = "tensor<" + std::to_string(C) + "xf64>";
  return header("%in0: " + s.block + ", %in1: " + s.target +
                    ", %coeff: memref<?xf64>, %params: memref<?xf64>, %out: " + s.block,
                s.block, s.target) +
         "  %kd = bufferization.to_tensor %coeff restrict : memref<?xf64>\n  %k = tensor.cast "
         "%kd : tensor<?xf64> to " +
         k + "\n" + loads("%params", 1) + "  %r = med.softmax_focal_grad %x, %t, %k, %p0" +
         firstAttr(first) + " : " + s.blockTensor + ", " + s.targetTensor + ", " + k + " -> " +
         s.blockTensor + "\n" + store(s.blockTensor, s.block);
}

/// (B, C, *spatial) logits and their target, checked for the softmax focal kernels (classes
/// `first` .. C - 1): whether the target is a label map.
bool checkSoftmaxPair(const at::Tensor &x, const at::Tensor &t, int64_t first,
                      const std::string &owner) {
  return detail::checkSoftmaxPair(
      x, t, first, 1, owner,
      "the softmax focal kernels need contiguous CPU float32/float64 logits (B, C, *spatial) "
      "with classes past `first`, and a target of their dtype, (B, 1, *spatial) labels or "
      "(B, C, *spatial)");
}

/// Binds item b's voxels [v0, v0 + count) of the logits' (and per-class targets') channels
/// first .. C - 1, or of the label map.
void bindBlock(CallArgs &args, const at::Tensor &x, const at::Tensor &t, bool labels, int64_t first,
               int64_t b, int64_t v0, int64_t count) {
  const int64_t C = x.size(1), N = x.numel() / (x.size(0) * C);
  args.rows(elementAt(x, (b * C + first) * N + v0), C - first, count, N);
  if (labels)
    args.flat(elementAt(t, b * N + v0), count);
  else
    args.rows(elementAt(t, (b * C + first) * N + v0), C - first, count, N);
}

} // namespace

at::Tensor focal_sums(const at::Tensor &input, const at::Tensor &target, int64_t slabs,
                      double gamma, std::optional<double> alpha, int threads,
                      const std::string &owner) {
  checkPair(input, target, slabs, true, owner);
  const rt::DType type = toDType(input.scalar_type(), owner);
  auto kernel = compiled(sumsIR(type, alpha.has_value()), "focal sums", owner);
  const std::vector<double> params = {gamma, alpha.value_or(0.0)};
  const int64_t len = slabs ? input.numel() / slabs : 0;
  at::Tensor sums = sumOverBlocks(*kernel, slabs, len, 1, threads,
                                  [&](CallArgs &args, int64_t slab, int64_t v0, int64_t n) {
                                    args.flat(elementAt(input, slab * len + v0), n);
                                    args.flat(elementAt(target, slab * len + v0), n);
                                    args.flat(const_cast<double *>(params.data()), alpha ? 2 : 1);
                                  });
  return sums.view({slabs});
}

at::Tensor focal_grad(const at::Tensor &input, const at::Tensor &target,
                      const at::Tensor &coefficients, double gamma, std::optional<double> alpha,
                      int threads, const std::string &owner) {
  const int64_t slabs = coefficients.dim() == 1 ? coefficients.size(0) : -1;
  if (slabs < 0 || coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the focal gradient kernel needs (slabs) float64 coefficients");
  checkPair(input, target, slabs, true, owner);
  const rt::DType type = toDType(input.scalar_type(), owner);
  auto kernel = compiled(gradIR(type, alpha.has_value()), "focal gradient", owner);
  // Per slab: its coefficient, gamma and alpha.
  at::Tensor params = at::empty({slabs, 3}, at::kDouble);
  params.select(1, 0).copy_(coefficients);
  params.select(1, 1).fill_(gamma);
  params.select(1, 2).fill_(alpha.value_or(0.0));
  return gradOverBlocks(*kernel, input, target, slabs, params.data_ptr<double>(), 3, alpha ? 3 : 2,
                        threads);
}

at::Tensor softmax_focal_sums(const at::Tensor &logits, const at::Tensor &target, int64_t first,
                              double gamma, int threads, const std::string &owner) {
  const bool labels = checkSoftmaxPair(logits, target, first, owner);
  const int64_t B = logits.size(0), C = logits.size(1), N = B ? logits.numel() / (B * C) : 0;
  const int64_t kept = C - first, results = kept + (labels ? 1 : 0);
  auto kernel = compiled(
      softmaxSumsIR(toDType(logits.scalar_type(), owner), kept, labels, labels ? first : 0),
      "softmax focal sums", owner);
  double g = gamma;
  return sumOverBlocks(*kernel, B, N, int(results), threads,
                       [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                         bindBlock(args, logits, target, labels, first, b, v0, count);
                         args.flat(&g, 1);
                       });
}

at::Tensor softmax_focal_grad(const at::Tensor &logits, const at::Tensor &target,
                              const at::Tensor &coefficients, int64_t first, double gamma,
                              int threads, const std::string &owner) {
  const bool labels = checkSoftmaxPair(logits, target, first, owner);
  const int64_t B = logits.size(0), C = logits.size(1);
  const int64_t kept = C - first;
  if (coefficients.dim() != 2 || coefficients.size(0) != B || coefficients.size(1) != kept ||
      coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the softmax focal gradient kernel needs (B, " + std::to_string(kept) +
                           ") float64 coefficients");
  auto kernel = compiled(
      softmaxGradIR(toDType(logits.scalar_type(), owner), kept, labels, labels ? first : 0),
      "softmax focal gradient", owner);
  at::Tensor coeff = coefficients.contiguous().cpu();
  double *k = coeff.data_ptr<double>();
  double g = gamma;
  // The dropped channels (before `first`) are not in the loss: zero gradient.
  return gradOverItems(*kernel, logits, first, threads,
                       [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                         bindBlock(args, logits, target, labels, first, b, v0, count);
                         args.flat(k + kept * b, kept);
                         args.flat(&g, 1);
                       });
}

} // namespace med::kernels
