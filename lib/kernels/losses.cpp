// Launchers of the generated loss kernels: med.dice_sums and med.dice_grad (see
// med/kernels/losses.h).
#include "med/kernels/losses.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/runtime/memory.h"

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
  at::Tensor grad = at::empty_like(input, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  const int64_t len = slabs ? input.numel() / slabs : 0, per = blocksPerSlab(len);
  double *c = coeff.data_ptr<double>();
  forEachBlock(slabs, len, threads, [&](int64_t b, int64_t start, int64_t count) {
    rt::BufferRef buffers[4] = {bufferOf(input, start, count),
                                bufferOf(target, start, count),
                                {c + 2 * (b / per), 2, 8, /*split=*/false},
                                bufferOf(grad, start, count)};
    rt::launchWhole(kernel->entry, buffers, 4);
  });
  return grad;
}

} // namespace med::kernels
