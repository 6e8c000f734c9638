// Whole-image statistics of a compiled chain computed by generated reduction kernels (internal
// to lib/transforms).
#pragma once

#include <ATen/core/Tensor.h>

#include <utility>

namespace med::transforms::detail {

/// (min, max) of every element of `input` (contiguous, CPU, any image dtype), compared in the
/// compute type (float32 for integer and float32 images, float64 for float64), NaN propagating,
/// (+inf, -inf) when empty. A `med.extrema` kernel compiled for the dtype runs over fixed blocks
/// of the input on up to `threads` threads; the blocks' pairs are combined in block order, so
/// the result does not depend on the thread count. Throws med::Error naming `owner` when the
/// kernel cannot be compiled.
std::pair<double, double> compiled_extrema(const at::Tensor &input, int threads,
                                           const std::string &owner);

} // namespace med::transforms::detail
