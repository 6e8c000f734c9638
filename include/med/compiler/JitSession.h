// The CPU JIT: med IR text in, a callable kernel out, cached in memory by the IR's text and on
// disk by the IR, the host and the compiler version (docs/kernel-cache.md), so a second process
// loads object code instead of compiling. This header is free of MLIR and LibTorch so any layer
// may hold kernels.
#pragma once

#include <cstdint>
#include <future>
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
  double compileMs = 0;    ///< wall time of parse + passes + LLVM codegen (0 when fromDisk)
  /// True when the object code came from the disk cache (no MLIR passes, no LLVM codegen ran).
  bool fromDisk = false;
  double loadMs = 0; ///< wall time to read, verify and link the disk entry (0 unless fromDisk)
  std::shared_ptr<void> owner;
};

/// Counters of a session, for benchmarks and the demo's report.
struct JitStats {
  int64_t hits = 0;     ///< served from the in-memory cache
  int64_t misses = 0;   ///< compiled (parse + passes + codegen)
  int64_t diskHits = 0; ///< loaded from the disk cache instead of compiled
  /// Disk entries found but not used (truncated, corrupt, stale key, IR mismatch, unlinkable);
  /// each was recompiled and replaced.
  int64_t diskRejected = 0;
  int64_t diskStores = 0; ///< entries written to the disk cache
  double compileMs = 0;   ///< total over misses
  double loadMs = 0;      ///< total over diskHits
};

/// Compiles modules that hold one `func.func @med_kernel` taking 1-D memrefs (inputs, then the
/// output). Thread-safe: different IR compiles concurrently (each compile has its own MLIR
/// context and LLVM JIT), and callers asking for IR that is being compiled wait for that compile
/// instead of repeating it. On an in-memory miss the disk cache is tried before compiling, and
/// every compile is stored there (see diskCacheDir()).
///
///   std::string error;
///   auto k = med::compiler::JitSession::global().compile(irText, &error);
///   if (!k) throw med::Error("Compose", error);
class JitSession {
public:
  static JitSession &global();

  /// The kernel for `ir`, compiled (or loaded from disk) on first use. On failure returns null
  /// and sets *error to the diagnostics (which name the op and attribute at fault). *cacheHit is
  /// true only for an in-memory hit; a disk hit shows as Kernel::fromDisk.
  std::shared_ptr<const Kernel> compile(const std::string &ir, std::string *error,
                                        bool *cacheHit = nullptr);
  /// Starts compiling `ir` on a thread of its own, unless it is cached or being compiled, or
  /// loads it right away when the disk cache holds it; a compile() of the same IR meanwhile waits
  /// for that result. Compiles run at most one per core, in the order asked: a cold pipeline asks
  /// for every kernel it will need, costliest first, so they compile side by side instead of one
  /// segment after another. The future is ready when the kernel is; its destructor waits for the
  /// compile, so whoever holds it keeps the work from outliving them. Failures surface at the later
  /// compile().
  ///
  ///   auto pending = JitSession::global().prefetch(irText);
  std::future<void> prefetch(const std::string &ir);
  JitStats stats() const;
  /// Drops every kernel cached in memory (kernels already handed out stay valid); the disk cache
  /// is untouched, so the next compile of the same IR loads from disk.
  void clear();

  /// The disk cache directory in effect: $MEDULLA_CACHE_DIR, else $XDG_CACHE_HOME/medulla/kernels,
  /// else $HOME/.cache/medulla/kernels; empty when disabled (MEDULLA_CACHE_DIR=off). The
  /// environment is read at every miss, so it may change while the process runs.
  static std::string diskCacheDir();
  /// The compiler's version with a hash of the sources that shape generated code and traced IR
  /// (lib/compiler, dialects, the tracer) and LLVM's version: part of every disk cache key.
  static std::string compilerVersion();

private:
  JitSession();
  struct InFlight; // a compile in progress: its result, once set, and who waits for it
  // The miss of `flight`, compiled in its turn `ticket` (or loaded from disk), published to the
  // cache and to whoever waits on the flight.
  std::shared_ptr<const Kernel> finishMiss(const std::string &ir,
                                           const std::shared_ptr<InFlight> &flight, uint64_t ticket,
                                           std::string *error, bool diskChecked = false);
  // Sets the flight's outcome, caches a kernel, and wakes whoever waits on the flight.
  void publish(const std::string &ir, const std::shared_ptr<InFlight> &flight,
               const std::shared_ptr<const Kernel> &kernel, const std::string &error);
  // The disk cache's kernel for `ir`, linked into this process, or null (none, disabled, or
  // unusable: the caller compiles and overwrites it).
  std::shared_ptr<const Kernel> diskHit(const std::string &ir);
  std::shared_ptr<const Kernel> compileMiss(const std::string &ir, uint64_t ticket,
                                            std::string *error, bool diskChecked);
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Kernel>> cache_;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> inFlight_;
  JitStats stats_;
};

/// 64-bit FNV-1a of a string as 16 hex digits: the IR fingerprint used in cache keys and logs.
std::string fingerprint(const std::string &text);

} // namespace med::compiler
