// A traced chain of med ops, as plain data, and its translation to med IR. Transforms append
// OpSpecs while being traced; the result is printed as med IR and handed to the JIT. Free of MLIR
// and LibTorch so the transform library does not compile against either.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "med/runtime/dtype.h"

namespace med::frontend {

/// One med operation: its mnemonic, attributes and result element type. A new field must also
/// go into chainKey() (TraceChain.cpp), which memoises traced IR by these fields.
///
///   OpSpec{"threshold_intensity", {{"threshold", 0.2}, {"cval", 0.0}}, {"above"},
///          rt::DType::Float32, "ThresholdIntensity"}
struct OpSpec {
  std::string op;                                    ///< mnemonic without "med."
  std::vector<std::pair<std::string, double>> attrs; ///< f64 attributes
  std::vector<std::string> flags;                    ///< unit attributes that are set
  rt::DType result;                                  ///< storage type of the result
  std::string origin;                                ///< transform that emitted it, for errors
  /// Operands after the image: indices into the kernel's per-call parameters (f64), or
  /// kIndexBase for the global index of the buffer's first element (index).
  std::vector<int> operands = {};
  static constexpr int kIndexBase = -1;
  /// False for ops that reduce over the whole image first (min/max): a fused schedule starts a
  /// new kernel there, so the elementwise prefix stays parallel and is computed once.
  bool elementwise = true;
  /// False for ops whose per-voxel work is heavy (random numbers, pow/log/cos). A fused
  /// schedule keeps them out of the prologue of a nearest resample that is not a plain copy
  /// (it may read a voxel many times) and out of the epilogue of an interpolating one (the
  /// gather's loop is vectorised for the gather); after a nearest resample, or before a copy,
  /// they fuse. Gaussian noise is the exception: it runs in a kernel of its own, where the CPU
  /// target calls its microkernel (traceChains, compose_plan.cpp).
  bool cheap = true;
  /// String attributes (e.g. a resample's "mode").
  std::vector<std::pair<std::string, std::string>> strings = {};
  /// True for med.resample: it reads the whole image and yields the kernel's output window
  /// (traceToIR passes the output buffer's offset and size), and ops after it index voxels of
  /// the output. A kernel holds at most one such op.
  bool resamples = false;
  /// For med.resample: it reads a per-call displacement (a dense deformation), which the kernel
  /// takes as its last buffer, flat f32 (ResamplePlan::field).
  bool displaced = false;
};

/// A chain applied to a 1-D buffer of `input` elements. Kernels work on flattened buffers: an
/// intensity chain does not depend on the image's shape, so one kernel serves every size.
struct ChainSpec {
  rt::DType input = rt::DType::Float32;
  std::vector<OpSpec> ops;
  /// Per-call f64 parameters the kernel reads (its third buffer when > 0). Transforms reserve
  /// them while tracing; the pipeline fills them on every call (random draws).
  int numParams = 0;
  /// Spatial axes of the images the chain is traced for (2 or 3; 0 when unknown, e.g. while
  /// validating parameters). Spatial ops size their parameter lists by it.
  int spatialRank = 0;
  /// False: the module says `med.microkernels = false` and every op stays in generated code
  /// (Schedule::microkernels; the CPU pipeline's med-use-microkernels then does nothing).
  bool microkernels = true;
  /// Storage type after the last op (the input type for an empty chain).
  rt::DType output() const { return ops.empty() ? input : ops.back().result; }
  /// Whether the kernel gathers (has a med.resample): it then reads its input whole while its
  /// output is split between threads.
  bool gathers() const {
    for (const OpSpec &op : ops)
      if (op.resamples)
        return true;
    return false;
  }
  /// Whether the kernel reads a displacement (a resample that is `displaced`).
  bool readsField() const {
    for (const OpSpec &op : ops)
      if (op.displaced)
        return true;
    return false;
  }
};

/// Builds the med IR module of `chain`: `func.func @med_kernel(%in: memref<?xT, strided<[1],
/// offset: ?>>, %out: memref<?xU, ...>[, %params: memref<?xf64>][, %field: memref<?xf32>])`
/// that reads `in` (and `field`, when chain.readsField()), applies the
/// ops and writes `out`. The module is verified;
/// on failure returns an empty string, sets *error to the diagnostics and *origin (if given) to
/// the `origin` of the first op at fault.
std::string traceToIR(const ChainSpec &chain, std::string *error, std::string *origin = nullptr);

/// Where traceToIR keeps `chain`'s traced IR on disk, beside the kernels; empty when the disk
/// cache is off. The file is "medulla-trace v1\n", the length of the key in decimal and "\n",
/// the key (traceCacheKey: the compiler's version and everything the trace depends on), then
/// the IR. A new process whose memo misses reads it instead of tracing; a file whose key differs
/// is ignored (and replaced).
std::string traceCacheFile(const ChainSpec &chain);
std::string traceCacheKey(const ChainSpec &chain);

} // namespace med::frontend
