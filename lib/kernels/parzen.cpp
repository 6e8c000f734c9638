// Launchers of the Parzen-window kernels, med.parzen_sums, med.parzen_window and
// med.parzen_window_grad, and their b-spline forms med.bspline_sums, med.bspline_window and
// med.bspline_window_grad (see med/kernels/parzen.h).
#include "med/kernels/parzen.h"

#include <ATen/ATen.h>

#include <cstring>
#include <functional>

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

/// The b-spline kernels' IR: the sums of one order over a flat block with the image's scale;
/// the window over the block and its sums into bins rows `kRow` apart; the gradient over two
/// flat blocks with one parameter vector, the flattened (bins x bins) derivatives then both
/// images' scales.
std::string bsplineSumsIR(rt::DType t, int64_t bins, int order) {
  const std::string e = mlirElement(t), m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  return header(e) + "%scale: memref<?xf64>, %out: " + m +
         ") attributes {llvm.emit_c_interface} {\n" +
         "  %x = bufferization.to_tensor %in0 restrict : " + m + "\n" +
         "  %sd = bufferization.to_tensor %scale restrict : memref<?xf64>\n" +
         "  %s = tensor.cast %sd : tensor<?xf64> to tensor<2xf64>\n" +
         "  %r = med.bspline_sums %x, %s {bins = " + std::to_string(bins) +
         " : i64, order = " + std::to_string(order) + " : i64} : " + v + ", tensor<2xf64> -> " + v +
         "\n  bufferization.materialize_in_destination %r in restrict writable %out : (" + v +
         ", " + m + ") -> ()\n  return\n}\n";
}

std::string bsplineWindowIR(rt::DType t, int64_t bins, int order) {
  const std::string e = mlirElement(t), k = std::to_string(bins);
  const std::string m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  const std::string rows = "memref<" + k + "x?x" + e + ", strided<[?, 1]>>";
  const std::string block = "tensor<" + k + "x?x" + e + ">";
  return header(e) + "%in1: " + m + ", %scale: memref<?xf64>, %out: " + rows +
         ") attributes {llvm.emit_c_interface} {\n" +
         "  %x = bufferization.to_tensor %in0 restrict : " + m + "\n" +
         "  %s = bufferization.to_tensor %in1 restrict : " + m + "\n" +
         "  %kd = bufferization.to_tensor %scale restrict : memref<?xf64>\n" +
         "  %k = tensor.cast %kd : tensor<?xf64> to tensor<2xf64>\n" +
         "  %r = med.bspline_window %x, %s, %k {order = " + std::to_string(order) +
         " : i64} : " + v + ", " + v + ", tensor<2xf64> -> " + block +
         "\n  bufferization.materialize_in_destination %r in restrict writable %out : (" + block +
         ", " + rows + ") -> ()\n  return\n}\n";
}

std::string bsplineGradIR(rt::DType t, int64_t bins) {
  const std::string e = mlirElement(t), jk = std::to_string(bins * bins);
  const std::string m = "memref<?x" + e + ">", v = "tensor<?x" + e + ">";
  const std::string scale = "tensor<2xf64>", joint = "tensor<" + jk + "xf64>";
  auto slice = [&](const std::string &name, int64_t at, const std::string &size,
                   const std::string &type) {
    return "  %" + name + " = tensor.extract_slice %p[" + std::to_string(at) + "] [" + size +
           "] [1] : tensor<?xf64> to " + type + "\n";
  };
  return header(e) + "%in1: " + m + ", %params: memref<?xf64>, %out: " + m +
         ") attributes {llvm.emit_c_interface} {\n" +
         "  %x = bufferization.to_tensor %in0 restrict : " + m + "\n" +
         "  %y = bufferization.to_tensor %in1 restrict : " + m + "\n" +
         "  %p = bufferization.to_tensor %params restrict : memref<?xf64>\n" +
         slice("j", 0, jk, joint) + slice("sx", bins * bins, "2", scale) +
         slice("sy", bins * bins + 2, "2", scale) +
         "  %r = med.bspline_window_grad %x, %y, %sx, %sy, %j : " + v + ", " + v + ", " + scale +
         ", " + scale + ", " + joint + " -> " + v +
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
int64_t checkImages(const at::Tensor &a, const at::Tensor &b, int64_t bins, int64_t fewest,
                    const std::string &owner) {
  if (bins < fewest || bins > kParzenMaxBins)
    throw Error(owner, "the Parzen kernels take " + std::to_string(fewest) + " to " +
                           std::to_string(kParzenMaxBins) + " bins, got " + std::to_string(bins));
  if (a.dim() < 1 || !b.sizes().equals(a.sizes()))
    throw Error(owner, "the Parzen kernels need two (B, *) images of one shape");
  checkPair(a, b, a.size(0), true, owner);
  return a.size(0);
}

/// Fills `rows` (bins rows kRow apart) with the weights of the `len` voxels at `x` of image
/// `image` (0: the first, 1: the second), `sums` a buffer of kChunk voxels for the kernels.
using WeighFn = std::function<void(int image, void *x, int64_t len, void *sums, void *rows)>;

/// The joint histogram (B, bins, bins) float64 of two checked images over their N voxels per
/// item: blocks of voxels weighed by `weigh` in chunks, each chunk's product added into the
/// block's float64 partials, the partials added in block order, over N.
at::Tensor jointOver(const at::Tensor &a, const at::Tensor &b, int64_t items, int64_t bins,
                     int threads, const WeighFn &weigh) {
  const int64_t n = items ? a.numel() / items : 0, per = blocksPerSlab(n);
  std::vector<double> partial(size_t(items * per * bins * bins), 0.0);
  forEachBlock(items, n, threads, [&](int64_t block, int64_t start, int64_t count) {
    at::Tensor wa = at::empty({bins * kRow}, a.options()), wb = at::empty_like(wa);
    at::Tensor s = at::empty({kChunk}, a.options());
    double *acc = partial.data() + block * bins * bins;
    for (int64_t c0 = 0; c0 < count; c0 += kChunk) {
      const int64_t len = std::min(kChunk, count - c0);
      weigh(0, elementAt(a, start + c0), len, s.data_ptr(), wa.data_ptr());
      weigh(1, elementAt(b, start + c0), len, s.data_ptr(), wb.data_ptr());
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

} // namespace

at::Tensor parzen_joint(const at::Tensor &a, const at::Tensor &b,
                        const std::vector<double> &centres, double preterm, int threads,
                        const std::string &owner) {
  const int64_t bins = int64_t(centres.size()), items = checkImages(a, b, bins, 1, owner);
  const rt::DType t = toDType(a.scalar_type(), owner);
  auto sums = compiled(sumsIR(t, bins), "Parzen sums", owner);
  auto window = compiled(windowIR(t, bins), "Parzen window", owner);
  std::vector<double> params = {preterm};
  double *c = const_cast<double *>(centres.data());
  return jointOver(a, b, items, bins, threads, [&](int, void *x, int64_t len, void *s, void *out) {
    CallArgs first;
    first.flat(x, len);
    first.flat(c, bins);
    first.flat(params.data(), 1);
    first.flat(s, len);
    first.call(*sums);
    CallArgs second;
    second.flat(x, len);
    second.flat(s, len);
    second.flat(c, bins);
    second.flat(params.data(), 1);
    second.rows(out, bins, len, kRow);
    second.call(*window);
  });
}

at::Tensor parzen_joint_grad(const at::Tensor &a, const at::Tensor &b,
                             const std::vector<double> &centres, double preterm,
                             const at::Tensor &g, int threads, const std::string &owner) {
  const int64_t bins = int64_t(centres.size()), items = checkImages(a, b, bins, 1, owner);
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

at::Tensor bspline_joint(const at::Tensor &a, const at::Tensor &b, int64_t bins,
                         const BsplineScale &scaleA, const BsplineScale &scaleB, int threads,
                         const std::string &owner) {
  const int64_t items = checkImages(a, b, bins, 5, owner);
  const rt::DType t = toDType(a.scalar_type(), owner);
  // Per image: its order (cubic for the first, a box for the second), kernels and scale.
  std::shared_ptr<const compiler::Kernel> sums[2], window[2];
  for (int image : {0, 1}) {
    const int order = image == 0 ? 3 : 0;
    sums[image] = compiled(bsplineSumsIR(t, bins, order), "b-spline sums", owner);
    window[image] = compiled(bsplineWindowIR(t, bins, order), "b-spline window", owner);
  }
  std::vector<double> scale[2] = {{scaleA.size, scaleA.min}, {scaleB.size, scaleB.min}};
  return jointOver(a, b, items, bins, threads,
                   [&](int image, void *x, int64_t len, void *s, void *out) {
                     CallArgs first;
                     first.flat(x, len);
                     first.flat(scale[image].data(), 2);
                     first.flat(s, len);
                     first.call(*sums[image]);
                     CallArgs second;
                     second.flat(x, len);
                     second.flat(s, len);
                     second.flat(scale[image].data(), 2);
                     second.rows(out, bins, len, kRow);
                     second.call(*window[image]);
                   });
}

at::Tensor bspline_joint_grad(const at::Tensor &a, const at::Tensor &b, int64_t bins,
                              const BsplineScale &scaleA, const BsplineScale &scaleB,
                              const at::Tensor &g, int threads, const std::string &owner) {
  const int64_t items = checkImages(a, b, bins, 5, owner);
  if (!g.sizes().equals({items, bins, bins}) || g.scalar_type() != at::kDouble ||
      !g.is_contiguous() || !g.device().is_cpu())
    throw Error(owner, "the b-spline gradient needs the joint histogram's gradient as a "
                       "contiguous CPU float64 (B, bins, bins) tensor");
  const int64_t n = items ? a.numel() / items : 0;
  auto kernel = compiled(bsplineGradIR(toDType(a.scalar_type(), owner), bins),
                         "b-spline window gradient", owner);
  // Per item its derivatives over N (the histogram's mean), then both scales.
  const int64_t stride = bins * bins + 4;
  std::vector<double> params(size_t(items * stride));
  const double *gd = g.data_ptr<double>();
  for (int64_t item = 0; item < items; ++item) {
    double *p = params.data() + item * stride;
    for (int64_t k = 0; k < bins * bins; ++k)
      p[k] = gd[item * bins * bins + k] / double(n);
    p[bins * bins] = scaleA.size;
    p[bins * bins + 1] = scaleA.min;
    p[bins * bins + 2] = scaleB.size;
    p[bins * bins + 3] = scaleB.min;
  }
  return gradOverBlocks(*kernel, a, b, items, params.data(), stride, stride, threads);
}

} // namespace med::kernels
