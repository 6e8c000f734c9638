// The on-disk kernel cache of the CPU JIT (internal to med_compiler). A second process that needs
// a kernel some earlier process compiled loads its object code instead of running the MLIR passes
// and LLVM codegen again. Layout, key and atomicity rules: docs/kernel-cache.md.
#pragma once

#include "med/runtime/kernel_abi.h"

#include <memory>
#include <string>

namespace med::compiler::disk {

/// The directory entries live in, from MEDULLA_CACHE_DIR, else $XDG_CACHE_HOME/medulla/kernels,
/// else $HOME/.cache/medulla/kernels. Empty when the cache is disabled (MEDULLA_CACHE_DIR=off) or
/// no directory can be named. Read on every call so tests and tools may change it at run time.
std::string cacheDir();
/// MED_COMPILER_VERSION and the LLVM version: what generated code and traced IR depend on.
std::string compilerVersion();

/// What generated code depends on besides the IR: target triple, host CPU name and features, and
/// the compiler's version (Medulla version + hash of the compiler's sources + LLVM version).
/// Computed once per process; part of every key.
const std::string &hostKey();

/// The full key of `ir` on this host: its fingerprint plus hostKey(). Entries store it verbatim.
std::string entryKey(const std::string &ir);

/// The file that holds the entry for `key` in `dir` (named by a hash of the whole key).
std::string entryPath(const std::string &dir, const std::string &key);

/// One cache entry: what a new process needs to run a kernel without compiling it.
struct Entry {
  std::string key; ///< entryKey() of the IR, verified on load
  std::string ir;  ///< the med IR text, verified on load (guards fingerprint collisions)
  bool elementwise = true;
  std::string object; ///< relocatable object file (ELF on Linux) holding the packed entry
};

/// Outcome of reading an entry file.
enum class ReadResult {
  Missing, ///< no file: an ordinary miss
  Invalid, ///< truncated, corrupt, other format version, other key or other IR: recompile
  Ok,
};

/// Reads and validates the entry at `path` for (`key`, `ir`). Never crashes on bad input; on
/// Invalid, *why says what was wrong.
ReadResult readEntry(const std::string &path, const std::string &key, const std::string &ir,
                     Entry *entry, std::string *why);

/// Writes `entry` atomically: a unique temporary file in `dir`, then rename() onto `path`, so
/// readers see either the old file, no file or the complete new one, and concurrent writers of
/// the same key both succeed (the last rename wins; both wrote equivalent entries).
bool writeEntry(const std::string &dir, const std::string &path, const Entry &entry,
                std::string *error);

/// A kernel linked from an object file, with no MLIR or codegen involved.
struct LoadedObject {
  med_packed_kernel entry = nullptr;
  std::shared_ptr<void> owner; ///< keeps the kernel's dylib (and so the code) alive
};

/// Links `object` into a dylib of its own in the process's one loader JIT (built on first use),
/// resolving libm and other helpers from the process, and looks up the packed entry
/// `_mlir__mlir_ciface_med_kernel`.
bool loadObject(const std::string &object, const std::string &name, LoadedObject *out,
                std::string *error);

} // namespace med::compiler::disk
