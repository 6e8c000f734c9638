// The pieces every generated-kernel launcher of lib/kernels shares: element type names for the
// kernels' IR text, compilation through the JIT session, the fixed-block walk over
// (item, class) slabs, and the descriptors of a direct kernel call (internal to lib/kernels).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/runtime/dtype.h"
#include "med/runtime/kernel_abi.h"

namespace med::kernels::detail {

/// Elements per block: large enough that a call costs nothing next to its loop, small enough
/// that two threads share an image evenly. Fixed, so the blocks, and any sums folded in block
/// order, do not depend on the thread count.
constexpr int64_t kBlock = int64_t(1) << 16;

/// The MLIR element type of a runtime dtype ("ui8", "f32", ...).
const char *mlirElement(rt::DType t);

/// The kernel compiled from `ir` (memory cache, disk cache, then the JIT); throws med::Error
/// naming `owner` and `what` kernel when it does not compile.
std::shared_ptr<const compiler::Kernel> compiled(const std::string &ir, const char *what,
                                                 const std::string &owner);

/// The IR of a reduction kernel: `@med_kernel(%in0, ..., %out)` over `inputs` flat memrefs of
/// element type `t`, whose body `op` (an op name and its attributes, e.g. "med.overlap_counts
/// {binary}") reads them as tensors and gives a tensor<`results`xf64> written to %out.
std::string reductionIR(const std::string &op, int inputs, rt::DType t, int results);

/// Blocks of one slab of `len` elements (at least one when len > 0).
inline int64_t blocksPerSlab(int64_t len) { return (len + kBlock - 1) / kBlock; }

/// Calls fn(block, start, count) for every block of `slabs` consecutive slabs of `len` elements,
/// on up to `threads` threads. Blocks never straddle slabs; block b is the (b % blocksPerSlab)-th
/// of slab b / blocksPerSlab, and starts at element `start` of the whole buffer.
void forEachBlock(int64_t slabs, int64_t len, int threads,
                  const std::function<void(int64_t block, int64_t start, int64_t count)> &fn);

/// Throws med::Error naming `owner` unless `a` and `b` are contiguous CPU tensors of one dtype
/// (float32/float64 when `floatOnly`) and size, cut into `slabs` equal slabs.
void checkPair(const at::Tensor &a, const at::Tensor &b, int64_t slabs, bool floatOnly,
               const std::string &owner);

/// For the softmax kernels: (B, C, *spatial) logits with C >= `minClasses` and C > `first`, and
/// a target of their dtype, a (B, 1, *spatial) label map (when C > 1) or (B, C, *spatial),
/// both contiguous CPU float32/float64. Returns whether the target is a label map; otherwise
/// throws med::Error naming `owner` with `expected` as the message.
bool checkSoftmaxPair(const at::Tensor &x, const at::Tensor &t, int64_t first, int64_t minClasses,
                      const std::string &owner, const char *expected);

/// The arguments of one kernel call, built descriptor by descriptor: flat ranges, and blocks of
/// rows that lie a stride apart (a softmax kernel reads one item's C channels over a run of
/// voxels, each channel N elements after the previous one).
class CallArgs {
public:
  /// A flat memref<?xT> over `size` elements at `data`.
  void flat(void *data, int64_t size);
  /// A memref<RxNxT, strided<[?, 1]>> of `rows` rows of `count` elements, `stride` apart.
  void rows(void *data, int64_t rows, int64_t count, int64_t stride);
  /// Calls the kernel with the arguments added so far, on the calling thread.
  void call(const compiler::Kernel &kernel);

private:
  /// The next argument's index; throws med::Error past kMax arguments.
  int next();
  static constexpr int kMax = 12;
  med_memref1d flat_[kMax];
  med_memref2d rows_[kMax];
  void *descriptors_[kMax];
  void *args_[kMax];
  int count_ = 0;
};

/// Binds one block's inputs: slab `slab`, elements [offset, offset + count) of that slab.
using BindFn = std::function<void(CallArgs &args, int64_t slab, int64_t offset, int64_t count)>;

/// Runs a reduction kernel with `results` float64 outputs over every block of `slabs` slabs of
/// `len` elements, with the inputs `bind` gives each block and the block's results buffer after
/// them, and adds the blocks' outputs per slab in block order (exact for counts, and the same
/// for any thread count): a (slabs, results) float64 tensor.
at::Tensor sumOverBlocks(const compiler::Kernel &kernel, int64_t slabs, int64_t len, int results,
                         int threads, const BindFn &bind);

/// sumOverBlocks over flat inputs (one or two tensors of one size, cut into `slabs` equal slabs
/// and read at the same positions).
at::Tensor sumOverBlocks(const compiler::Kernel &kernel, const std::vector<at::Tensor> &inputs,
                         int64_t slabs, int results, int threads);

/// Runs an elementwise gradient kernel over every block of `slabs` slabs of `input` and
/// `target` (one size, cut into equal slabs): each call gets the block of both, `used` float64
/// parameters of its slab (`params` holds `stride` per slab) and the block of the result, a
/// fresh contiguous tensor like `input` (huge pages advised: a first-touch page fault per 4 KiB
/// cost more than the kernel).
at::Tensor gradOverBlocks(const compiler::Kernel &kernel, const at::Tensor &input,
                          const at::Tensor &target, int64_t slabs, const double *params,
                          int64_t stride, int64_t used, int threads);

/// gradOverBlocks over any number of inputs of one size (each call gets the block of every
/// input in order, then the parameters, then the block of a result like `inputs[0]`).
at::Tensor gradOverBlocks(const compiler::Kernel &kernel, const std::vector<at::Tensor> &inputs,
                          int64_t slabs, const double *params, int64_t stride, int64_t used,
                          int threads);

/// Runs a softmax gradient kernel over every block of each item of `logits` (B, C, *spatial):
/// each call gets the inputs `bind` gives (item, first voxel, voxel count), then the block of
/// the result's channels `first` .. C - 1, a fresh contiguous tensor like the logits whose
/// channels before `first` (not in the loss) are zero.
at::Tensor gradOverItems(const compiler::Kernel &kernel, const at::Tensor &logits, int64_t first,
                         int threads, const BindFn &bind);

/// The address of element `index` of a contiguous CPU tensor (counting from its first).
void *elementAt(const at::Tensor &t, int64_t index);

} // namespace med::kernels::detail
