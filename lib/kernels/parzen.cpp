// Launchers of the Parzen-window kernels, med.parzen_sums, med.parzen_window and
// med.parzen_window_grad (see med/kernels/parzen.h).
#include "med/kernels/parzen.h"

#include <ATen/ATen.h>

#include <cstring>

#include "launch.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/runtime/memory.h"

namespace med::kernels {

using namespace detail;

namespace {

/// Voxels weighed per call: two (bins x chunk) weight blocks stay in the L2 cache. Their rows
/// lie kRow elements apart, not a power of two, so the rows read together do not share L1 sets.
constexpr int64_t kChunk = 2048, kRow = kChunk + 16;

/// The kernels' signature up to the first input.
std::string header(const std::string &e) {
  return "func.func @med_kernel(%in0: memref<?x" + e + ">, ";
}

/// The kernels' IR: the exponentials' sums over a flat block; the window over the block and
/// its sums into bins rows `kRow` apart; the gradient over two flat blocks with the flattened
/// (bins x bins) derivatives.
std::string sumsIR(rt::DType t, int64_t bins) {
  const std::string e = mlirElement(t), k = std::to_string(bins);
  const std::string m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  return header(e) + "%centres: memref<?xf64>, %params: memref<?xf64>, %out: " + m +
         ") attributes {llvm.emit_c_interface} {\n" +
         "  %x = bufferization.to_tensor %in0 restrict : " + m + "\n" +
         "  %cd = bufferization.to_tensor %centres restrict : memref<?xf64>\n" +
         "  %c = tensor.cast %cd : tensor<?xf64> to tensor<" + k + "xf64>\n" +
         "  %i0 = arith.constant 0 : index\n  %p = memref.load %params[%i0] : memref<?xf64>\n" +
         "  %r = med.parzen_sums %x, %c, %p : " + v + ", tensor<" + k + "xf64> -> " + v +
         "\n  bufferization.materialize_in_destination %r in restrict writable %out : (" + v +
         ", " + m + ") -> ()\n  return\n}\n";
}

std::string windowIR(rt::DType t, int64_t bins) {
  const std::string e = mlirElement(t), k = std::to_string(bins);
  const std::string m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  const std::string rows = "memref<" + k + "x?x" + e + ", strided<[?, 1]>>";
  const std::string block = "tensor<" + k + "x?x" + e + ">";
  return header(e) + "%in1: " + m +
         ", %centres: memref<?xf64>, %params: memref<?xf64>, %out: " + rows +
         ") attributes {llvm.emit_c_interface} {\n" +
         "  %x = bufferization.to_tensor %in0 restrict : " + m + "\n" +
         "  %s = bufferization.to_tensor %in1 restrict : " + m + "\n" +
         "  %cd = bufferization.to_tensor %centres restrict : memref<?xf64>\n" +
         "  %c = tensor.cast %cd : tensor<?xf64> to tensor<" + k + "xf64>\n" +
         "  %i0 = arith.constant 0 : index\n  %p = memref.load %params[%i0] : memref<?xf64>\n" +
         "  %r = med.parzen_window %x, %s, %c, %p : " + v + ", " + v + ", tensor<" + k +
         "xf64> -> " + block +
         "\n  bufferization.materialize_in_destination %r in restrict writable %out : (" + block +
         ", " + rows + ") -> ()\n  return\n}\n";
}

std::string gradIR(rt::DType t, int64_t bins) {
  const std::string e = mlirElement(t), k = std::to_string(bins);
  const std::string jk = std::to_string(bins * bins), m = "memref<?x" + e + ">";
  const std::string v = "tensor<?x" + e + ">";
  return header(e) + "%in1: " + m +
         ", %centres: memref<?xf64>, %joint: memref<?xf64>, %params: memref<?xf64>, %out: " + m +
         ") attributes {llvm.emit_c_interface} {\n" +
         "  %x = bufferization.to_tensor %in0 restrict : " + m + "\n" +
         "  %y = bufferization.to_tensor %in1 restrict : " + m + "\n" +
         "  %cd = bufferization.to_tensor %centres restrict : memref<?xf64>\n" +
         "  %c = tensor.cast %cd : tensor<?xf64> to tensor<" + k + "xf64>\n" +
         "  %jd = bufferization.to_tensor %joint restrict : memref<?xf64>\n" +
         "  %j = tensor.cast %jd : tensor<?xf64> to tensor<" + jk + "xf64>\n" +
         "  %i0 = arith.constant 0 : index\n  %p = memref.load %params[%i0] : memref<?xf64>\n" +
         "  %r = med.parzen_window_grad %x, %y, %c, %j, %p : " + v + ", " + v + ", tensor<" + k +
         "xf64>, tensor<" + jk + "xf64> -> " + v +
         "\n  bufferization.materialize_in_destination %r in restrict writable %out : (" + v +
         ", " + m + ") -> ()\n  return\n}\n";
}

/// acc[i][j] += sum_v wa[i][v] wb[j][v] over `len` voxels of rows `stride` apart: the block's
/// share of the joint histogram, with four 32-byte lane accumulators per entry (GCC vector
/// code; at::mm would hand a 23 x 23 product to a BLAS whose threads spin between calls). The
/// lanes are added in a fixed order, so the result depends only on the block.
template <typename T> struct Lanes;
template <> struct Lanes<float> { typedef float type __attribute__((vector_size(32))); };
template <> struct Lanes<double> { typedef double type __attribute__((vector_size(32))); };

template <typename T>
inline __attribute__((always_inline)) void
accumulateJoint(const T *wa, const T *wb, int64_t bins, int64_t len, int64_t stride, double *acc) {
  using Vec = typename Lanes<T>::type;
  constexpr int64_t lanes = 32 / sizeof(T);
  for (int64_t i = 0; i < bins; ++i)
    for (int64_t j = 0; j < bins; ++j) {
      const T *a = wa + i * stride, *b = wb + j * stride;
      Vec s[4] = {};
      int64_t v = 0;
      for (; v + 4 * lanes <= len; v += 4 * lanes)
        for (int u = 0; u < 4; ++u) {
          Vec x, y;
          std::memcpy(&x, a + v + u * lanes, sizeof(Vec));
          std::memcpy(&y, b + v + u * lanes, sizeof(Vec));
          s[u] += x * y;
        }
      double total = 0;
      for (; v < len; ++v)
        total += double(a[v]) * double(b[v]);
      for (int u = 0; u < 4; ++u)
        for (int64_t k = 0; k < lanes; ++k)
          total += double(s[u][k]);
      acc[i * bins + j] += total;
    }
}

/// accumulateJoint built for AVX2 (x86-64-v3) and for the baseline, the one the CPU runs
/// chosen when the library loads: the project builds for the baseline, and at 4 lanes without
/// FMA this product took as long as the kernels.
__attribute__((target_clones("arch=x86-64-v3", "default"))) void
accumulateJointF32(const float *wa, const float *wb, int64_t bins, int64_t len, int64_t stride,
                   double *acc) {
  accumulateJoint(wa, wb, bins, len, stride, acc);
}
__attribute__((target_clones("arch=x86-64-v3", "default"))) void
accumulateJointF64(const double *wa, const double *wb, int64_t bins, int64_t len, int64_t stride,
                   double *acc) {
  accumulateJoint(wa, wb, bins, len, stride, acc);
}

/// Checks a pair for the kernels; returns the item count B.
int64_t checkImages(const at::Tensor &a, const at::Tensor &b, const std::vector<double> &centres,
                    const std::string &owner) {
  const int64_t bins = int64_t(centres.size());
  if (bins < 1 || bins > kParzenMaxBins)
    throw Error(owner, "the Parzen kernels take 1 to " + std::to_string(kParzenMaxBins) +
                           " bins, got " + std::to_string(bins));
  if (a.dim() < 1 || !b.sizes().equals(a.sizes()))
    throw Error(owner, "the Parzen kernels need two (B, *) images of one shape");
  checkPair(a, b, a.size(0), true, owner);
  return a.size(0);
}

} // namespace

at::Tensor parzen_joint(const at::Tensor &a, const at::Tensor &b,
                        const std::vector<double> &centres, double preterm, int threads,
                        const std::string &owner) {
  const int64_t items = checkImages(a, b, centres, owner), bins = int64_t(centres.size());
  const int64_t n = items ? a.numel() / items : 0, per = blocksPerSlab(n);
  const rt::DType t = toDType(a.scalar_type(), owner);
  auto sums = compiled(sumsIR(t, bins), "Parzen sums", owner);
  auto window = compiled(windowIR(t, bins), "Parzen window", owner);
  std::vector<double> params = {preterm};
  std::vector<double> partial(size_t(items * per * bins * bins), 0.0);
  forEachBlock(items, n, threads, [&](int64_t block, int64_t start, int64_t count) {
    at::Tensor wa = at::empty({bins * kRow}, a.options()), wb = at::empty_like(wa);
    at::Tensor s = at::empty({kChunk}, a.options());
    double *acc = partial.data() + block * bins * bins;
    for (int64_t c0 = 0; c0 < count; c0 += kChunk) {
      const int64_t len = std::min(kChunk, count - c0);
      for (auto [in, out] : {std::pair{&a, &wa}, std::pair{&b, &wb}}) {
        CallArgs first;
        first.flat(elementAt(*in, start + c0), len);
        first.flat(const_cast<double *>(centres.data()), bins);
        first.flat(params.data(), 1);
        first.flat(s.data_ptr(), len);
        first.call(*sums);
        CallArgs second;
        second.flat(elementAt(*in, start + c0), len);
        second.flat(s.data_ptr(), len);
        second.flat(const_cast<double *>(centres.data()), bins);
        second.flat(params.data(), 1);
        second.rows(out->data_ptr(), bins, len, kRow);
        second.call(*window);
      }
      if (a.scalar_type() == at::kFloat)
        accumulateJointF32(wa.data_ptr<float>(), wb.data_ptr<float>(), bins, len, kRow, acc);
      else
        accumulateJointF64(wa.data_ptr<double>(), wb.data_ptr<double>(), bins, len, kRow, acc);
    }
  });
  at::Tensor joint = at::zeros({items, bins, bins}, at::kDouble);
  double *o = joint.data_ptr<double>();
  for (int64_t block = 0; block < items * per; ++block)
    for (int64_t k = 0; k < bins * bins; ++k)
      o[(block / per) * bins * bins + k] += partial[block * bins * bins + k];
  return n ? joint / double(n) : joint;
}

at::Tensor parzen_joint_grad(const at::Tensor &a, const at::Tensor &b,
                             const std::vector<double> &centres, double preterm,
                             const at::Tensor &g, int threads, const std::string &owner) {
  const int64_t items = checkImages(a, b, centres, owner), bins = int64_t(centres.size());
  if (!g.sizes().equals({items, bins, bins}) || g.scalar_type() != at::kDouble ||
      !g.is_contiguous() || !g.device().is_cpu())
    throw Error(owner, "the Parzen gradient needs the joint histogram's gradient as a contiguous "
                       "CPU float64 (B, bins, bins) tensor");
  const int64_t n = items ? a.numel() / items : 0;
  const rt::DType t = toDType(a.scalar_type(), owner);
  auto kernel = compiled(gradIR(t, bins), "Parzen window gradient", owner);
  // Per item its derivatives over N (the histogram's mean), then preterm: `stride` apart.
  const int64_t stride = bins * bins + 1;
  std::vector<double> params(size_t(items * stride));
  const double *gd = g.data_ptr<double>();
  for (int64_t item = 0; item < items; ++item) {
    for (int64_t k = 0; k < bins * bins; ++k)
      params[item * stride + k] = gd[item * bins * bins + k] / double(n);
    params[item * stride + bins * bins] = preterm;
  }
  const int64_t per = blocksPerSlab(n);
  at::Tensor grad = at::empty_like(a, at::MemoryFormat::Contiguous);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  forEachBlock(items, n, threads, [&](int64_t block, int64_t start, int64_t count) {
    double *p = params.data() + (block / per) * stride;
    CallArgs args;
    args.flat(elementAt(a, start), count);
    args.flat(elementAt(b, start), count);
    args.flat(const_cast<double *>(centres.data()), bins);
    args.flat(p, bins * bins);
    args.flat(p + bins * bins, 1);
    args.flat(elementAt(grad, start), count);
    args.call(*kernel);
  });
  return grad;
}

} // namespace med::kernels
