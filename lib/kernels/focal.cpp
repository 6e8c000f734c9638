// Launchers of the generated focal loss kernels: med.focal_sums, med.focal_grad, the `_terms`
// maps of reduction "none" and their gradients, and the softmax forms of all
// (see med/kernels/losses.h). gamma and alpha reach the kernels as f64 parameters, so one
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

/// The IR of the sigmoid kernels that map elements: `op` (med.focal_grad or med.focal_terms)
/// over input, target, params [coefficient, gamma (, alpha)], into the output; with `upstream`
/// (med.focal_terms_grad) a third input, the map's incoming gradient, follows the target.
std::string mapIR(const std::string &op, rt::DType t, bool alpha, bool upstream = false) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  const std::string up =
      upstream ? "  %u = bufferization.to_tensor %in2 restrict : " + m + "\n" : "";
  return header("%in0: " + m + ", %in1: " + m + (upstream ? ", %in2: " + m : "") +
                    ", %params: memref<?xf64>, %out: " + m,
                m, m) +
         up + loads("%params", alpha ? 3 : 2) + "  %r = " + op + " %x, %t, " +
         (upstream ? "%u, " : "") + "%p0, %p1" + (alpha ? ", %p2" : "") + " : " + v + ", " + v +
         (upstream ? ", " + v : "") + " -> " + v + "\n" + store(v, m);
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

/// The IR of the softmax kernels that write a block: `op` (med.softmax_focal_grad or
/// med.softmax_focal_terms) over logit block, target, C coefficients, params [gamma], into a
/// block strided like the logits; with `upstream` (med.softmax_focal_terms_grad) a block of the
/// map's incoming gradient follows the target.
std::string softmaxMapIR(const std::string &op, rt::DType t, int64_t C, bool labels, int64_t first,
                         bool upstream = false) {
  const Types s = softmaxTypes(t, C, labels);
  const std::string k = "tensor<" + std::to_string(C) + "xf64>";
  return header("%in0: " + s.block + ", %in1: " + s.target +
                    (upstream ? ", %in2: " + s.block : "") +
                    ", %coeff: memref<?xf64>, %params: memref<?xf64>, %out: " + s.block,
                s.block, s.target) +
         (upstream ? "  %u = bufferization.to_tensor %in2 restrict : " + s.block + "\n" : "") +
         "  %kd = bufferization.to_tensor %coeff restrict : memref<?xf64>\n  %k = tensor.cast "
         "%kd : tensor<?xf64> to " +
         k + "\n" + loads("%params", 1) + "  %r = " + op + " %x, %t, " + (upstream ? "%u, " : "") +
         "%k, %p0" + firstAttr(first) + " : " + s.blockTensor + ", " + s.targetTensor +
         (upstream ? ", " + s.blockTensor : "") + ", " + k + " -> " + s.blockTensor + "\n" +
         store(s.blockTensor, s.block);
}

/// Per slab its coefficient, gamma and alpha (0 without): a (slabs, 3) float64 tensor.
at::Tensor slabParams(const at::Tensor &coefficients, double gamma, std::optional<double> alpha) {
  at::Tensor params = at::empty({coefficients.size(0), 3}, at::kDouble);
  params.select(1, 0).copy_(coefficients);
  params.select(1, 1).fill_(gamma);
  params.select(1, 2).fill_(alpha.value_or(0.0));
  return params;
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
  auto kernel = compiled(mapIR("med.focal_grad", type, alpha.has_value()), "focal gradient", owner);
  at::Tensor params = slabParams(coefficients, gamma, alpha);
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
  auto kernel =
      compiled(softmaxMapIR("med.softmax_focal_grad", toDType(logits.scalar_type(), owner), kept,
                            labels, labels ? first : 0),
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

at::Tensor focal_terms(const at::Tensor &input, const at::Tensor &target,
                       const at::Tensor &coefficients, double gamma, std::optional<double> alpha,
                       int threads, const std::string &owner) {
  const int64_t slabs = coefficients.dim() == 1 ? coefficients.size(0) : -1;
  if (slabs < 0 || coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the focal map kernel needs (slabs) float64 coefficients");
  checkPair(input, target, slabs, true, owner);
  const rt::DType type = toDType(input.scalar_type(), owner);
  auto kernel = compiled(mapIR("med.focal_terms", type, alpha.has_value()), "focal map", owner);
  at::Tensor params = slabParams(coefficients, gamma, alpha);
  return gradOverBlocks(*kernel, input, target, slabs, params.data_ptr<double>(), 3, alpha ? 3 : 2,
                        threads);
}

at::Tensor focal_terms_grad(const at::Tensor &input, const at::Tensor &target,
                            const at::Tensor &upstream, const at::Tensor &coefficients,
                            double gamma, std::optional<double> alpha, int threads,
                            const std::string &owner) {
  const int64_t slabs = coefficients.dim() == 1 ? coefficients.size(0) : -1;
  if (slabs < 0 || coefficients.scalar_type() != at::kDouble)
    throw Error(owner, "the focal map gradient kernel needs (slabs) float64 coefficients");
  checkPair(input, target, slabs, true, owner);
  checkPair(input, upstream, slabs, true, owner);
  const rt::DType type = toDType(input.scalar_type(), owner);
  auto kernel = compiled(mapIR("med.focal_terms_grad", type, alpha.has_value(), true),
                         "focal map gradient", owner);
  at::Tensor params = slabParams(coefficients, gamma, alpha);
  return gradOverBlocks(*kernel, {input, target, upstream}, slabs, params.data_ptr<double>(), 3,
                        alpha ? 3 : 2, threads);
}

at::Tensor softmax_focal_terms(const at::Tensor &logits, const at::Tensor &target,
                               const std::vector<double> &coefficients, int64_t first, double gamma,
                               int threads, const std::string &owner) {
  const bool labels = checkSoftmaxPair(logits, target, first, owner);
  const int64_t kept = logits.size(1) - first;
  if (int64_t(coefficients.size()) != kept)
    throw Error(owner, "the softmax focal map kernel needs " + std::to_string(kept) +
                           " coefficients, one per kept class");
  auto kernel =
      compiled(softmaxMapIR("med.softmax_focal_terms", toDType(logits.scalar_type(), owner), kept,
                            labels, labels ? first : 0),
               "softmax focal map", owner);
  double g = gamma;
  at::Tensor map = gradOverItems(*kernel, logits, first, threads,
                                 [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                                   bindBlock(args, logits, target, labels, first, b, v0, count);
                                   args.flat(const_cast<double *>(coefficients.data()), kept);
                                   args.flat(&g, 1);
                                 });
  return first ? map.slice(1, first).contiguous() : map;
}

at::Tensor softmax_focal_terms_grad(const at::Tensor &logits, const at::Tensor &target,
                                    const at::Tensor &upstream,
                                    const std::vector<double> &coefficients, int64_t first,
                                    double gamma, int threads, const std::string &owner) {
  const bool labels = checkSoftmaxPair(logits, target, first, owner);
  const int64_t B = logits.size(0), C = logits.size(1), kept = C - first;
  const int64_t N = B ? logits.numel() / (B * C) : 0;
  if (int64_t(coefficients.size()) != kept)
    throw Error(owner, "the softmax focal map gradient kernel needs " + std::to_string(kept) +
                           " coefficients, one per kept class");
  if (!upstream.is_contiguous() || upstream.scalar_type() != logits.scalar_type() ||
      upstream.numel() != B * kept * N)
    throw Error(owner, "the softmax focal map gradient kernel needs a contiguous incoming "
                       "gradient of the map's shape and the logits' dtype");
  auto kernel =
      compiled(softmaxMapIR("med.softmax_focal_terms_grad", toDType(logits.scalar_type(), owner),
                            kept, labels, labels ? first : 0, true),
               "softmax focal map gradient", owner);
  double g = gamma;
  return gradOverItems(*kernel, logits, first, threads,
                       [&](CallArgs &args, int64_t b, int64_t v0, int64_t count) {
                         bindBlock(args, logits, target, labels, first, b, v0, count);
                         args.rows(elementAt(upstream, b * kept * N + v0), kept, count, N);
                         args.flat(const_cast<double *>(coefficients.data()), kept);
                         args.flat(&g, 1);
                       });
}

} // namespace med::kernels
