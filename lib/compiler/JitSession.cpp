// Parses med IR, runs the lowering pipeline and JIT-compiles it with the host TargetMachine (so
// LLVM vectorises for the host's SIMD width). Misses go through the disk cache (DiskCache.h)
// first; compiles are stored there.
#include "med/compiler/JitSession.h"

#include "DiskCache.h"
#include "HostTuning.h"
#include "Microkernels.h"
#include "Optimize.h"

#include "med/MedOps.h"
#include "med/compiler/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <system_error>
#include <thread>

namespace med::compiler {
namespace {

// Collects diagnostics as text instead of printing them.
struct DiagnosticCollector {
  explicit DiagnosticCollector(mlir::MLIRContext &ctx)
      : handler(&ctx, [this](mlir::Diagnostic &d) {
          if (!text.empty())
            text += "\n";
          text += d.str();
          for (mlir::Diagnostic &note : d.getNotes())
            text += "\n  note: " + note.str();
          return mlir::success();
        }) {}
  std::string text;
  mlir::ScopedDiagnosticHandler handler;
};

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// The TargetMachine whose cost model the kernel optimizer vectorises for: the host's, with
// hostTuning()'s features (the optimizer, not codegen, decides whether loads become gathers).
std::unique_ptr<llvm::TargetMachine> hostTargetMachine(std::string *error) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    *error = llvm::toString(builder.takeError());
    return nullptr;
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // The small code model, position-independent: constants are read relative to the
  // instruction pointer instead of through a 64-bit address materialised in the loop (the
  // large model, a JIT's default). The loader links an object's sections into one block, and
  // reaches the process's functions (libm, the microkernels) through its own stubs.
  builder->setCodeModel(llvm::CodeModel::Small);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  if (!hostTuning().features.empty())
    builder->addFeatures({hostTuning().features});
  auto tm = builder->createTargetMachine();
  if (!tm) {
    *error = llvm::toString(tm.takeError());
    return nullptr;
  }
  return std::move(*tm);
}

// `_mlir_<name>(void **args)`: calls `f` with *args[i] as its i-th argument (and stores a
// result through args[n]): the packed entry the launcher calls (med_packed_kernel).
void addPackedEntry(llvm::Module &m, llvm::Function &f) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type *ptr = b.getPtrTy();
  auto *type = llvm::FunctionType::get(b.getVoidTy(), {ptr}, /*isVarArg=*/false);
  auto *entry =
      llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, "_mlir_" + f.getName(), m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::Value *args = entry->getArg(0);
  llvm::SmallVector<llvm::Value *> values;
  for (llvm::Argument &arg : f.args()) {
    llvm::Value *slot = b.CreateGEP(ptr, args, b.getInt64(arg.getArgNo()));
    values.push_back(b.CreateLoad(arg.getType(), b.CreateLoad(ptr, slot)));
  }
  llvm::Value *result = b.CreateCall(&f, values);
  if (!f.getReturnType()->isVoidTy())
    b.CreateStore(result, b.CreateLoad(ptr, b.CreateGEP(ptr, args, b.getInt64(f.arg_size()))));
  b.CreateRetVoid();
}

// Compiles `ir`; when `object` is given, also returns the object code for the disk cache.
std::shared_ptr<Kernel> compileUncached(const std::string &ir, std::string *error,
                                        std::string *object) {
  auto start = std::chrono::steady_clock::now();
  mlir::DialectRegistry registry;
  mlir::med::registerMedCompilerDialects(registry);
  mlir::MLIRContext ctx(registry, mlir::MLIRContext::Threading::DISABLED);
  DiagnosticCollector diags(ctx);

  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(ir, &ctx);
  if (!module) {
    *error = diags.text.empty() ? "cannot parse the med IR" : diags.text;
    return nullptr;
  }
  auto func = module->lookupSymbol<mlir::func::FuncOp>("med_kernel");
  if (!func) {
    *error = "the module has no func.func @med_kernel";
    return nullptr;
  }
  auto kernel = std::make_shared<Kernel>();
  bool statistics = false; // a whole-image statistics kernel (Optimize.h: no unrolling)
  func.walk([&](mlir::Operation *op) {
    kernel->elementwise &= mlir::med::isElementwise(op);
    statistics |= mlir::isa<mlir::med::ExtremaOp, mlir::med::MomentsOp, mlir::med::OverlapCountsOp,
                            mlir::med::ErrorSumsOp>(op);
  });

  mlir::PassManager pm(&ctx);
#ifdef NDEBUG
  // The traced IR was verified when it was built and the passes are verified by the lit tests
  // (med-opt verifies after each pass): verifying again after each of the ~25 passes was a
  // third of their time.
  pm.enableVerifier(false);
#endif
  mlir::med::buildLowerToLLVMPipeline(pm, hostTuning().microkernels);
  if (mlir::failed(pm.run(*module))) {
    *error = diags.text.empty() ? "lowering the med IR failed" : diags.text;
    return nullptr;
  }

  static std::once_flag initTargets;
  std::call_once(initTargets, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  std::unique_ptr<llvm::TargetMachine> tm = hostTargetMachine(error);
  if (!tm)
    return nullptr;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = mlir::translateModuleToLLVMIR(*module, llvmContext);
  if (!llvmModule) {
    *error = diags.text.empty() ? "translating to LLVM IR failed" : diags.text;
    return nullptr;
  }
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(tm->getTargetTriple().str());
  llvm::Function *ciface = llvmModule->getFunction("_mlir_ciface_med_kernel");
  if (!ciface || ciface->isDeclaration()) {
    *error = "the module has no _mlir_ciface_med_kernel";
    return nullptr;
  }
  addPackedEntry(*llvmModule, *ciface);
  // O3 + vector math library (a loop calling log/cos vectorises); see Optimize.h.
  if (llvm::Error err = makeKernelOptimizer(tm.get(), /*unroll=*/!statistics)(llvmModule.get())) {
    *error = "optimizing the kernel failed: " + llvm::toString(std::move(err));
    return nullptr;
  }
  // The object code, linked by the same loader as the disk cache's entries (DiskCache.h).
  llvm::SmallVector<char, 0> code;
  {
    llvm::raw_svector_ostream stream(code);
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, stream, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      *error = "the target cannot emit object code";
      return nullptr;
    }
    codegen.run(*llvmModule);
  }
  std::string emitted(code.begin(), code.end());
  disk::LoadedObject loaded;
  std::string why;
  kernel->fingerprint = fingerprint(ir);
  if (!disk::loadObject(emitted, "medulla-kernel-" + kernel->fingerprint, &loaded, &why)) {
    *error = "JIT: " + why;
    return nullptr;
  }
  kernel->entry = loaded.entry;
  kernel->ir = ir;
  kernel->owner = std::move(loaded.owner);
  kernel->compileMs = msSince(start);
  if (object)
    *object = std::move(emitted);
  return kernel;
}

// At most `limit` compiles at once, admitted in ticket order. More compiles than cores only
// share the cores, so the longest would finish later than it must. A ticket is taken where the
// compile is asked for (on the asking thread, so the order is the caller's, not the order the
// compiling threads happen to start in) and is either used (acquire, release) or skipped (a
// disk hit needs no slot): a cold pipeline asks for its costliest kernel first, which then
// starts at once while the others take turns on the remaining cores.
class CompileSlots {
public:
  explicit CompileSlots(unsigned limit) : limit_(std::max(1u, limit)) {}
  uint64_t take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return next_++;
  }
  void acquire(uint64_t ticket) {
    std::unique_lock<std::mutex> lock(mutex_);
    turn_.wait(lock, [&] { return ticket == admitted_ && running_ < limit_; });
    ++running_;
    advance(); // the next ticket may fit in another slot
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
    turn_.notify_all();
  }
  void skip(uint64_t ticket) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ticket == admitted_)
      advance();
    else
      skipped_.insert(ticket);
  }
  // A slot for the scope of one compile.
  struct Held {
    Held(CompileSlots &s, uint64_t ticket) : slots(s) { slots.acquire(ticket); }
    ~Held() { slots.release(); }
    Held(const Held &) = delete;
    Held &operator=(const Held &) = delete;
    CompileSlots &slots;
  };

private:
  // Moves the turn past the admitted ticket and any skipped ones after it.
  void advance() {
    ++admitted_;
    while (skipped_.erase(admitted_))
      ++admitted_;
    turn_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable turn_;
  const unsigned limit_;
  unsigned running_ = 0;
  uint64_t next_ = 0, admitted_ = 0;
  std::set<uint64_t> skipped_;
};

CompileSlots &compileSlots() {
  static CompileSlots *slots = new CompileSlots(std::thread::hardware_concurrency());
  return *slots;
}

// MEDULLA_CACHE_LOG=1 reports the disk cache's decisions on stderr: why an entry was rejected
// or could not be stored is otherwise invisible (both only cost a compile).
void logDisk(const std::string &what, const std::string &path, const std::string &why = {}) {
  const char *log = std::getenv("MEDULLA_CACHE_LOG");
  if (log && *log && std::string(log) != "0")
    llvm::errs() << "medulla kernel cache: " << what << " " << path
                 << (why.empty() ? "" : ": " + why) << "\n";
}

// The kernel stored at `path` for (`key`, `ir`), or null when there is none or it is unusable
// (*rejected is then set: the caller recompiles and overwrites the entry).
std::shared_ptr<Kernel> loadFromDisk(const std::string &path, const std::string &key,
                                     const std::string &ir, bool *rejected) {
  auto start = std::chrono::steady_clock::now();
  disk::Entry entry;
  std::string why;
  disk::ReadResult read = disk::readEntry(path, key, ir, &entry, &why);
  *rejected = read == disk::ReadResult::Invalid;
  if (*rejected)
    logDisk("rejected", path, why);
  if (read != disk::ReadResult::Ok)
    return nullptr;
  disk::LoadedObject loaded;
  if (!disk::loadObject(entry.object, path, &loaded, &why)) {
    *rejected = true;
    logDisk("rejected", path, why);
    return nullptr;
  }
  logDisk("hit", path);
  auto kernel = std::make_shared<Kernel>();
  kernel->entry = loaded.entry;
  kernel->elementwise = entry.elementwise;
  kernel->fingerprint = fingerprint(ir);
  kernel->ir = ir;
  kernel->owner = std::move(loaded.owner);
  kernel->fromDisk = true;
  kernel->loadMs = msSince(start);
  return kernel;
}

} // namespace

std::string fingerprint(const std::string &text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

JitSession::JitSession() = default;

JitSession &JitSession::global() {
  // Never destroyed: JIT'ed code must outlive every static that may still call it, and removing
  // kernels from the loader JIT after libLLVM's own statics are gone would crash at exit.
  static JitSession *session = new JitSession();
  return *session;
}

struct JitSession::InFlight {
  std::condition_variable done;
  bool finished = false;
  std::shared_ptr<const Kernel> kernel;
  std::string error;
};

std::shared_ptr<const Kernel> JitSession::compile(const std::string &ir, std::string *error,
                                                  bool *cacheHit) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = cache_.find(ir);
  if (cacheHit)
    *cacheHit = it != cache_.end();
  if (it != cache_.end()) {
    ++stats_.hits;
    return it->second;
  }
  // Someone is compiling this IR: wait for their result.
  if (auto running = inFlight_.find(ir); running != inFlight_.end()) {
    std::shared_ptr<InFlight> flight = running->second;
    flight->done.wait(lock, [&] { return flight->finished; });
    if (!flight->kernel && error)
      *error = flight->error;
    return flight->kernel;
  }
  auto flight = std::make_shared<InFlight>();
  inFlight_.emplace(ir, flight);
  const uint64_t ticket = compileSlots().take();
  lock.unlock();
  return finishMiss(ir, flight, ticket, error);
}

std::shared_ptr<const Kernel> JitSession::finishMiss(const std::string &ir,
                                                     const std::shared_ptr<InFlight> &flight,
                                                     uint64_t ticket, std::string *error,
                                                     bool diskChecked) {
  std::string message;
  std::shared_ptr<const Kernel> kernel = compileMiss(ir, ticket, &message, diskChecked);
  publish(ir, flight, kernel, message);
  if (!kernel && error)
    *error = message;
  return kernel;
}

void JitSession::publish(const std::string &ir, const std::shared_ptr<InFlight> &flight,
                         const std::shared_ptr<const Kernel> &kernel, const std::string &error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (kernel)
    cache_.emplace(ir, kernel);
  flight->kernel = kernel;
  flight->error = error;
  flight->finished = true;
  inFlight_.erase(ir);
  flight->done.notify_all();
}

std::future<void> JitSession::prefetch(const std::string &ir) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (cache_.count(ir) || inFlight_.count(ir)) {
    std::promise<void> done;
    done.set_value();
    return done.get_future();
  }
  // In flight and in line from now, on this thread: compile(ir) meanwhile waits for this
  // result, and the compile takes its turn in the order it was asked for.
  auto flight = std::make_shared<InFlight>();
  inFlight_.emplace(ir, flight);
  const uint64_t ticket = compileSlots().take();
  lock.unlock();
  // A kernel the disk cache holds is linked here: that takes a fraction of a millisecond, and
  // starting a thread for it cost more (1-2 ms each, measured, with LibTorch's thread-local
  // state to set up), so a warm pipeline's prefetches ran slower than loading in turn.
  if (std::shared_ptr<const Kernel> kernel = diskHit(ir)) {
    compileSlots().skip(ticket);
    publish(ir, flight, kernel, "");
    std::promise<void> done;
    done.set_value();
    return done.get_future();
  }
  auto run = [this, ir, flight, ticket] {
    std::string ignored; // a compile() of the same IR reports it
    finishMiss(ir, flight, ticket, &ignored, /*diskChecked=*/true);
  };
  try {
    return std::async(std::launch::async, run);
  } catch (const std::system_error &) {
    run(); // no thread to be had: compile here, so the flight and its turn are not left open
    std::promise<void> done;
    done.set_value();
    return done.get_future();
  }
}

std::shared_ptr<const Kernel> JitSession::diskHit(const std::string &ir) {
  std::string dir = disk::cacheDir();
  if (dir.empty() || !hostTuning().error.empty())
    return nullptr;
  std::string key = disk::entryKey(ir);
  bool rejected = false;
  std::shared_ptr<Kernel> kernel = loadFromDisk(disk::entryPath(dir, key), key, ir, &rejected);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.diskRejected += rejected;
  if (kernel) {
    ++stats_.diskHits;
    stats_.loadMs += kernel->loadMs;
  }
  return kernel;
}

// Disk cache (unless the caller looked there already), else compile and store; runs without
// the session lock except to update stats.
std::shared_ptr<const Kernel> JitSession::compileMiss(const std::string &ir, uint64_t ticket,
                                                      std::string *error, bool diskChecked) {
  bool compiles = false; // else the ticket's turn is skipped: loading needs no slot
  auto skipTurn = llvm::make_scope_exit([&] {
    if (!compiles)
      compileSlots().skip(ticket);
  });
  if (!hostTuning().error.empty()) {
    *error = hostTuning().error;
    return nullptr;
  }
  if (!diskChecked)
    if (std::shared_ptr<const Kernel> kernel = diskHit(ir))
      return kernel;
  std::string dir = disk::cacheDir();
  std::string key, path;
  if (!dir.empty()) {
    key = disk::entryKey(ir);
    path = disk::entryPath(dir, key);
  }
  std::string object;
  std::shared_ptr<Kernel> kernel;
  {
    compiles = true;
    CompileSlots::Held slot(compileSlots(), ticket);
    kernel = compileUncached(ir, error, dir.empty() ? nullptr : &object);
  }
  if (!kernel)
    return nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.misses;
    stats_.compileMs += kernel->compileMs;
  }
  // A failed store (read-only or full disk) costs this process nothing: the kernel is compiled.
  std::string storeError;
  if (object.empty()) {
    if (!dir.empty())
      logDisk("not stored (no object code)", path);
  } else if (disk::writeEntry(dir, path, disk::Entry{key, ir, kernel->elementwise, object},
                              &storeError)) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.diskStores;
    logDisk("stored", path);
  } else {
    logDisk("not stored", path, storeError);
  }
  return kernel;
}

std::string JitSession::diskCacheDir() { return disk::cacheDir(); }

std::string JitSession::compilerVersion() { return disk::compilerVersion(); }

JitStats JitSession::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void JitSession::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  cache_.clear();
}

} // namespace med::compiler
