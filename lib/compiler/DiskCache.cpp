// The on-disk kernel cache: key, entry format, atomic writes and the object loader.
// See docs/kernel-cache.md for the rules; this file implements them.
#include "DiskCache.h"
#include "HostTuning.h"
#include "Microkernels.h"
#include "Optimize.h"

#include "MedCompilerVersion.h" // generated: MED_COMPILER_VERSION

#include "med/compiler/JitSession.h" // fingerprint()

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace med::compiler::disk {
namespace {

// Entry layout (all integers little-endian):
//   0  char[8] magic "MEDKERN\0"
//   8  u64     xxh3-64 of bytes [16, end)
//   16 u32     format version
//   20 u32     flags (bit 0: elementwise)
//   24 u64     key size      32 u64 IR size      40 u64 object size
//   48 key, IR, object
constexpr char kMagic[8] = {'M', 'E', 'D', 'K', 'E', 'R', 'N', '\0'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 48;
constexpr uint32_t kElementwiseFlag = 1;
// Kernels are kilobytes; anything this large is not ours and is not read into memory.
constexpr uint64_t kMaxEntryBytes = uint64_t(256) << 20;

void appendU32(std::string &s, uint32_t v) {
  char b[4];
  llvm::support::endian::write32le(b, v);
  s.append(b, 4);
}

void appendU64(std::string &s, uint64_t v) {
  char b[8];
  llvm::support::endian::write64le(b, v);
  s.append(b, 8);
}

std::string hex(const uint8_t *bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

const char *env(const char *name) {
  const char *v = std::getenv(name);
  return v && *v ? v : nullptr;
}

// Deletes temporary files that writers which crashed before their rename left behind. A live
// writer's file is seconds old, so only files older than kAbandonedAfter are touched.
void removeAbandonedTemporaries(const std::string &dir) {
  constexpr auto kAbandonedAfter = std::chrono::minutes(10);
  auto now = std::chrono::system_clock::now();
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    if (!name.contains(".medk.tmp-") && !name.contains(".medtrace.tmp-")) // kernels, traces
      continue;
    llvm::sys::fs::file_status status;
    if (!llvm::sys::fs::status(it->path(), status) &&
        now - status.getLastModificationTime() > kAbandonedAfter)
      llvm::sys::fs::remove(it->path());
  }
}

} // namespace

std::string compilerVersion() {
  return std::string(MED_COMPILER_VERSION) + "/llvm-" + LLVM_VERSION_STRING;
}

std::string cacheDir() {
  if (const char *dir = env("MEDULLA_CACHE_DIR"))
    return std::strcmp(dir, "off") == 0 ? std::string() : std::string(dir);
  if (const char *xdg = env("XDG_CACHE_HOME"))
    return std::string(xdg) + "/medulla/kernels";
  if (const char *home = env("HOME"))
    return std::string(home) + "/.cache/medulla/kernels";
  return {};
}

const std::string &hostKey() {
  static const std::string key = [] {
    std::string k;
    k += "triple=" + llvm::sys::getProcessTriple() + "\n";
    k += "cpu=" + llvm::sys::getHostCPUName().str() + "\n";
    // StringMap order is unspecified: sort so the key is stable across processes.
    std::vector<std::string> features;
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      features.push_back((f.getValue() ? "+" : "-") + f.getKey().str());
    std::sort(features.begin(), features.end());
    k += "features=";
    for (size_t i = 0; i < features.size(); ++i)
      k += (i ? "," : "") + features[i];
    k += "\n";
    k += "compiler=" + compilerVersion() + "\n";
    // How the object was made and is entered; change these when JitSession's codegen changes.
    // vectorMathAvailable() also loads libmvec, which objects made with it call into.
    k += std::string("codegen=O3,host-tm,") + (vectorMathAvailable() ? "libmvec" : "scalar-libm") +
         "\n";
    k += "tuning=" + hostTuning().features + "\n";
    k += std::string("ukernels=") + (hostTuning().microkernels ? "on" : "off") + "\n";
    k += "abi=_mlir__mlir_ciface_med_kernel(void**)\n";
    return k;
  }();
  return key;
}

std::string entryKey(const std::string &ir) {
  return "medulla-kernel-cache v" + std::to_string(kFormatVersion) + "\nir=" + fingerprint(ir) +
         "\n" + hostKey();
}

std::string entryPath(const std::string &dir, const std::string &key) {
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(key));
  return dir + "/" + hex(digest.data(), 16) + ".medk";
}

ReadResult readEntry(const std::string &path, const std::string &key, const std::string &ir,
                     Entry *entry, std::string *why) {
  uint64_t size = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(path, size)) {
    // No file, or no directory (yet): an ordinary miss.
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory)
      return ReadResult::Missing;
    *why = "cannot stat: " + ec.message();
    return ReadResult::Invalid;
  }
  if (size < kHeaderSize || size > kMaxEntryBytes) {
    *why = "bad size " + std::to_string(size);
    return ReadResult::Invalid;
  }
  // IsVolatile: read() rather than mmap, so a file truncated under us cannot raise SIGBUS.
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false, /*IsVolatile=*/true);
  if (!file) {
    if (file.getError() == std::errc::no_such_file_or_directory)
      return ReadResult::Missing;
    *why = "cannot read: " + file.getError().message();
    return ReadResult::Invalid;
  }
  llvm::StringRef data = (*file)->getBuffer();
  const char *p = data.data();
  if (data.size() < kHeaderSize || std::memcmp(p, kMagic, sizeof kMagic) != 0) {
    *why = "not a kernel cache entry";
    return ReadResult::Invalid;
  }
  using namespace llvm::support::endian;
  uint64_t checksum = read64le(p + 8);
  uint32_t version = read32le(p + 16);
  uint32_t flags = read32le(p + 20);
  uint64_t keySize = read64le(p + 24), irSize = read64le(p + 32), objSize = read64le(p + 40);
  if (version != kFormatVersion) {
    *why = "format version " + std::to_string(version);
    return ReadResult::Invalid;
  }
  uint64_t body = data.size() - kHeaderSize;
  // Each size is bounded before adding, so the sum cannot overflow.
  if (keySize > body || irSize > body || objSize > body || keySize + irSize + objSize != body) {
    *why = "truncated or inconsistent sizes";
    return ReadResult::Invalid;
  }
  if (llvm::xxh3_64bits(data.drop_front(16)) != checksum) {
    *why = "checksum mismatch";
    return ReadResult::Invalid;
  }
  llvm::StringRef storedKey = data.substr(kHeaderSize, keySize);
  llvm::StringRef storedIR = data.substr(kHeaderSize + keySize, irSize);
  if (storedKey != key) {
    *why = "stale entry or hash collision: the stored key differs";
    return ReadResult::Invalid;
  }
  if (storedIR != ir) {
    *why = "IR fingerprint collision: the stored IR differs";
    return ReadResult::Invalid;
  }
  entry->key = storedKey.str();
  entry->ir = storedIR.str();
  entry->elementwise = (flags & kElementwiseFlag) != 0;
  entry->object = data.substr(kHeaderSize + keySize + irSize, objSize).str();
  return ReadResult::Ok;
}

bool writeEntry(const std::string &dir, const std::string &path, const Entry &entry,
                std::string *error) {
  std::string bytes(kMagic, sizeof kMagic);
  appendU64(bytes, 0); // checksum, filled below
  appendU32(bytes, kFormatVersion);
  appendU32(bytes, entry.elementwise ? kElementwiseFlag : 0);
  appendU64(bytes, entry.key.size());
  appendU64(bytes, entry.ir.size());
  appendU64(bytes, entry.object.size());
  bytes += entry.key;
  bytes += entry.ir;
  bytes += entry.object;
  llvm::support::endian::write64le(&bytes[8],
                                   llvm::xxh3_64bits(llvm::StringRef(bytes).drop_front(16)));

  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  // A unique name per writer: two processes storing the same key never share a temporary file.
  int fd = -1;
  llvm::SmallString<256> tmp;
  std::string model = path + ".tmp-%%%%%%%%%%%%";
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp)) {
    *error = "cannot create a temporary file in " + dir + ": " + ec.message();
    return false;
  }
  bool ok;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
    os.close();
    ok = !os.has_error();
    if (!ok) {
      *error = "cannot write " + tmp.str().str() + ": " + os.error().message();
      os.clear_error();
    }
  }
  if (ok) {
    // rename() replaces `path` atomically: a reader opens the old inode or the new, never a mix.
    if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
      *error = "cannot rename onto " + path + ": " + ec.message();
      ok = false;
    }
  }
  if (!ok)
    llvm::sys::fs::remove(tmp);
  else
    removeAbandonedTemporaries(dir);
  return ok;
}

namespace {

// The one LLJIT every loaded kernel links into. Building a JIT (target machine, linking layer,
// process-symbol generator) cost more than linking a kernel, so a process pays it once. Each
// kernel gets a dylib of its own (all define the same entry symbol), linked against `shared`:
// the microkernels and what the generator resolved from this process (libm, the memref
// helpers), so a symbol is looked up in the process once however many kernels call it.
struct SharedJit {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  llvm::orc::JITDylib *shared = nullptr;
  std::string error; ///< why the JIT could not be built; every load then reports it
  std::atomic<uint64_t> next{0};
};

SharedJit *buildSharedJit() {
  auto *s = new SharedJit;
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    s->error = llvm::toString(jtmb.takeError());
    return s;
  }
  // No platform runtime (kernels have no static initialisers) and no implicit process-symbols
  // dylib: the generator below resolves libm and the memref helpers from this process.
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*jtmb))
                 .setLinkProcessSymbolsByDefault(false)
                 .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
                 .create();
  if (!jit) {
    s->error = "cannot create the JIT: " + llvm::toString(jit.takeError());
    return s;
  }
  // Failures come back from lookup(); do not also print them to stderr.
  (*jit)->getExecutionSession().setErrorReporter(
      [](llvm::Error err) { llvm::consumeError(std::move(err)); });
  llvm::orc::JITDylib &shared = (*jit)->getMainJITDylib();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process) {
    s->error = llvm::toString(process.takeError());
    return s;
  }
  shared.addGenerator(std::move(*process));
  llvm::orc::SymbolMap microkernels; // calls of the runtime's microkernels: this process's copies
  for (const auto &[name, address] : mlir::med::kMicrokernels)
    microkernels[(*jit)->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                                   llvm::JITSymbolFlags::Exported};
  if (llvm::Error err = shared.define(llvm::orc::absoluteSymbols(std::move(microkernels)))) {
    s->error = "cannot bind the microkernels: " + llvm::toString(std::move(err));
    return s;
  }
  s->shared = &shared;
  s->jit = std::move(*jit);
  return s;
}

// Built on first use and never destroyed: kernels held by objects that outlive static
// destruction (caches in other libraries' statics) must not see their code unmapped.
SharedJit &sharedJit() {
  static SharedJit *jit = buildSharedJit();
  return *jit;
}

// Owns one kernel's dylib: dropping the last kernel that uses it frees its code and memory.
struct LoadedDylib {
  llvm::orc::JITDylib *dylib = nullptr;
  LoadedDylib() = default;
  LoadedDylib(const LoadedDylib &) = delete;
  LoadedDylib &operator=(const LoadedDylib &) = delete;
  ~LoadedDylib() {
    if (dylib)
      llvm::consumeError(sharedJit().jit->getExecutionSession().removeJITDylib(*dylib));
  }
};

} // namespace

bool loadObject(const std::string &object, const std::string &name, LoadedObject *out,
                std::string *error) {
  SharedJit &s = sharedJit();
  if (!s.jit) {
    *error = s.error;
    return false;
  }
  llvm::orc::ExecutionSession &session = s.jit->getExecutionSession();
  auto owner = std::make_shared<LoadedDylib>();
  llvm::orc::JITDylib &dylib = session.createBareJITDylib("medk" + std::to_string(s.next++));
  owner->dylib = &dylib;
  dylib.addToLinkOrder(*s.shared);
  if (llvm::Error err =
          s.jit->addObjectFile(dylib, llvm::MemoryBuffer::getMemBufferCopy(object, name))) {
    *error = "cannot add the object: " + llvm::toString(std::move(err));
    return false;
  }
  auto symbol = s.jit->lookup(dylib, "_mlir__mlir_ciface_med_kernel");
  if (!symbol) {
    *error = "cannot link the object: " + llvm::toString(symbol.takeError());
    return false;
  }
  out->entry = symbol->toPtr<med_packed_kernel>();
  out->owner = std::move(owner);
  return true;
}

} // namespace med::compiler::disk
