// What the stencil losses on generated kernels (lib/losses/ddf.cpp, similarity.cpp) share
// (internal to lib/losses).
#pragma once

#include <ATen/core/Tensor.h>

namespace med::losses::detail {

/// The gradient with respect to `input`, itself differentiable, of sum over (b, c) of
/// go[b][c] times the sum of `map` (B, C, *spatial, an ATen graph of `input`) over channel
/// (b, c), summed in float64: what a kernel Function's backward returns under create_graph.
at::Tensor channelSumsGradWithGraph(const at::Tensor &map, const at::Tensor &input,
                                    const at::Tensor &go);

} // namespace med::losses::detail
