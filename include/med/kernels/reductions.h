// Generated reduction kernels: whole-image statistics computed by `med` ops (med.extrema,
// med.moments, med.overlap_counts, med.error_sums) compiled through the JIT and its disk cache,
// launched over fixed blocks of the input on up to `threads` threads. The blocks' partial results
// are combined on the host in block order, so a result never depends on the thread count.
// Transforms split at a reduction and metrics' counting and error passes call these.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <string>
#include <utility>

namespace med::kernels {

/// (min, max) of every element of `input` (contiguous, CPU, any image dtype), compared in the
/// compute type (float32 for integer and float32 images, float64 for float64), NaN propagating,
/// (+inf, -inf) when empty. Throws med::Error naming `owner` when the kernel cannot be compiled.
///
///   auto [lo, hi] = med::kernels::extrema(image, 2, "RandAdjustContrast");
std::pair<double, double> extrema(const at::Tensor &input, int threads, const std::string &owner);

/// [n, sum v, sum v^2] of the values v of `input` (contiguous, CPU, any image dtype) converted
/// to float32, over every element or, with `nonzero`, over the elements whose float32 value is
/// not 0 (NaN counts); the square and the sums in float64, blocks folded in order. The mean is
/// sum / n and the population variance sum v^2 / n - mean^2.
///
///   auto [n, s, q] = med::kernels::moments(image, false, 2, "NormalizeIntensity");
std::array<double, 3> moments(const at::Tensor &input, bool nonzero, int threads,
                              const std::string &owner);

/// The IR extrema() and moments() compile for inputs of `dtype` (an image dtype; throws
/// med::Error otherwise): a cold pipeline hands it to JitSession::prefetch so the kernel
/// compiles beside the pipeline's own.
std::string extrema_ir(c10::ScalarType dtype);
std::string moments_ir(c10::ScalarType dtype, bool nonzero);

/// Set counts of two masks cut into `slabs` equal consecutive slabs (a (B, C, *spatial) pair
/// has B * C): a (slabs, 4) float64 tensor of [|P and Y|, |P|, |Y|, bad] per slab, where an
/// element is in its set when nonzero (NaN included) and `bad` is 1 when the slab holds a NaN
/// or, with `binary`, a value other than 0 and 1. `pred` and `target` are contiguous CPU tensors
/// of one image dtype and the same number of elements, a multiple of `slabs`. Throws med::Error
/// naming `owner` when the kernel cannot be compiled.
///
///   at::Tensor k = med::kernels::overlap_counts(y_pred, y, B * C, true, 1, "DiceMetric");
at::Tensor overlap_counts(const at::Tensor &pred, const at::Tensor &target, int64_t slabs,
                          bool binary, int threads, const std::string &owner);

/// Per-slab error sums of `pred` against `target` cut into `slabs` equal consecutive slabs: a
/// (slabs, 2) float64 tensor [sum d d, sum |d|] with d = target - pred formed in the input
/// dtype, summed in float64 in block order. Contiguous CPU float32/float64 tensors of one dtype
/// and size. NaN propagates into the sums.
///
///   at::Tensor s = med::kernels::error_sums(y_pred, y, B, 1, "MSEMetric");
at::Tensor error_sums(const at::Tensor &pred, const at::Tensor &target, int64_t slabs, int threads,
                      const std::string &owner);

} // namespace med::kernels
