// The CPU JIT: med IR text in, a callable kernel out, cached in memory by the IR's text.
// This header is free of MLIR and LibTorch so any layer may hold kernels.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "med/runtime/kernel_abi.h"

namespace med::compiler {

/// A compiled kernel. `entry` follows runtime/kernel_abi.h; the kernel stays valid while this
/// object lives (it owns the JIT'ed code).
struct Kernel {
  med_packed_kernel entry = nullptr;
  /// True when every output element depends only on the same input element, so the launcher may
  /// split the buffers across threads; false when the kernel reduces over the whole input.
  bool elementwise = true;
  std::string fingerprint; ///< 16 hex digits of a hash of the med IR
  std::string ir;          ///< the med IR it was compiled from
  double compileMs = 0;    ///< wall time of parse + passes + LLVM codegen
  std::shared_ptr<void> owner;
};

/// Counters of a session, for benchmarks and the demo's report.
struct JitStats {
  int64_t hits = 0;
  int64_t misses = 0;
  double compileMs = 0;
};

/// Compiles modules that hold one `func.func @med_kernel` taking 1-D memrefs (inputs, then the
/// output). Thread-safe; compiles are serialised.
///
///   std::string error;
///   auto k = med::compiler::JitSession::global().compile(irText, &error);
///   if (!k) throw med::Error("Compose", error);
class JitSession {
public:
  static JitSession &global();

  /// The kernel for `ir`, compiled on first use. On failure returns null and sets *error to the
  /// diagnostics (which name the op and attribute at fault).
  std::shared_ptr<const Kernel> compile(const std::string &ir, std::string *error,
                                        bool *cacheHit = nullptr);
  JitStats stats() const;
  /// Drops every cached kernel (kernels already handed out stay valid).
  void clear();

private:
  JitSession();
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Kernel>> cache_;
  JitStats stats_;
};

/// 64-bit FNV-1a of a string as 16 hex digits: the IR fingerprint used in cache keys and logs.
std::string fingerprint(const std::string &text);

} // namespace med::compiler
