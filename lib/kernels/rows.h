// Launching the stencil kernels of lib/kernels (med.ddf_energy, med.lncc_map, ...): each call
// computes a run of whole rows of one channel, the channels and runs spread over threads
// (internal to lib/kernels).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "launch.h"

namespace med::kernels::detail {

/// The IR of a stencil kernel: `@med_kernel(%in0, ..., %params, %out0, ...)` over `inputs` flat
/// memrefs of element type `t`, whose body applies `op` (its name; `attrs` its attribute
/// dictionary, e.g. "{order = 2}") to the inputs as tensors with the window [params[0],
/// params[1]] and the `args` f64 operands params[2 ..], and writes each of its `results`
/// windows, flattened, to an output.
std::string rowsIR(const std::string &op, const std::string &attrs, int inputs, rt::DType t,
                   int64_t args, int results);

/// A channel's kernel args (the f64 operands after the window's first row and row count).
using ChannelArgsFn = std::function<const std::vector<double> &(int64_t channel)>;

/// One call: (task = channel * runs + run, channel, first row, rows, params), params being
/// [first row, rows, the channel's args, `extra` more for the caller to set].
using RunFn = std::function<void(int64_t task, int64_t channel, int64_t first, int64_t count,
                                 std::vector<double> &params)>;

/// The runs of a channel of `rows` rows of `length` voxels: about kBlock voxels each.
int64_t runsOf(int64_t rows, int64_t length);

/// Calls fn for every run of rows of each of `channels` channels, on up to `threads` threads.
void forEachRun(int64_t channels, int64_t rows, int64_t length, const ChannelArgsFn &args,
                int extra, int threads, const RunFn &fn);

/// A map kernel's values summed per channel in float64: each call writes its run into a buffer
/// of the calling thread (reused, so it stays in cache), which is summed at once; the runs are
/// added in order, so the (channels) float64 result does not depend on `threads`. `bind` adds
/// the call's inputs (before the params and the output).
at::Tensor sumOfRuns(const compiler::Kernel &kernel, at::ScalarType type, int64_t channels,
                     int64_t rows, int64_t length, const ChannelArgsFn &args, int threads,
                     const std::function<void(CallArgs &, int64_t channel)> &bind);

/// The padding a stencil that reaches `reach` voxels along each spatial axis of `x` (B, C,
/// *spatial) needs on both sides of a flat channel: reach times the sum of the strides.
int64_t stencilPad(const at::Tensor &x, int64_t reach);

/// A (channels, pad + volume + pad) copy of `x`'s `channels` contiguous channels with `pad`
/// zeros on both sides of each (huge pages advised: a first-touch page fault per 4 KiB costs
/// more than the kernels that read it).
at::Tensor padChannels(const at::Tensor &x, int64_t channels, int64_t pad);

/// An empty (channels, pad + volume + pad) buffer like padChannels' with zero pads.
at::Tensor paddedLike(const at::Tensor &x, int64_t channels, int64_t pad);

} // namespace med::kernels::detail
