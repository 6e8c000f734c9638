// Buffers for the intermediate results of a compiled chain (internal to lib/transforms).
#pragma once

#include <ATen/core/Tensor.h>

namespace med::transforms::detail {

/// An uninitialised contiguous tensor of `sizes` and `type` for a result that lives only inside
/// one call (the output of a stage that the next stage reads). Its memory comes from a small
/// per-thread pool and returns there when the last reference is dropped: a fresh large block
/// would be handed back to the system on free and cost a page fault per 4 KiB on the next call,
/// more than a cheap kernel's own work. Never return such a tensor to a caller: the pool reuses
/// its memory as soon as nothing else refers to it.
at::Tensor scratch_tensor(at::IntArrayRef sizes, at::ScalarType type);

/// Lets this thread's pool keep `count` buffers (it never shrinks): a batch of n samples has 2n
/// intermediates alive at once, and buffers the pool cannot keep are fresh memory every call.
void scratch_keep(size_t count);

/// An uninitialised contiguous tensor of `sizes` and `type` for a compiled call's result, which
/// the caller owns. Its memory is a buffer of exactly its size from a second per-thread pool,
/// reused only once every reference to it (the caller's, and views of it) has been dropped: a
/// loop that calls a pipeline and drops each result then writes into memory already mapped,
/// instead of paying a page fault per 4 KiB of a fresh block on every call. The pool keeps at
/// most result_keep() buffers of the sizes this thread produced last (pinned memory, as for
/// scratch); results it cannot keep are ordinary fresh tensors.
at::Tensor result_tensor(at::IntArrayRef sizes, at::ScalarType type);

/// Lets this thread's result pool keep `count` buffers (it never shrinks; 2 at first, so a
/// caller may hold the previous result while the next is computed).
void result_keep(size_t count);

} // namespace med::transforms::detail
