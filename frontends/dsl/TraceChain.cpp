// ChainSpec -> med IR. Builds generic operations by name so new ops need no code here.
#include "med/frontends/Chain.h"

#include "med/MedDialect.h"
#include "med/compiler/JitSession.h"
#include "med/compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>
#include <unordered_map>

namespace med::frontend {
namespace {

std::string traceUncached(const ChainSpec &chain, std::string *error, std::string *origin);

mlir::Type elementType(mlir::MLIRContext &ctx, rt::DType t) {
  using S = mlir::IntegerType::SignednessSemantics;
  switch (t) {
  case rt::DType::UInt8:
    return mlir::IntegerType::get(&ctx, 8, S::Unsigned);
  case rt::DType::Int8:
    return mlir::IntegerType::get(&ctx, 8);
  case rt::DType::UInt16:
    return mlir::IntegerType::get(&ctx, 16, S::Unsigned);
  case rt::DType::Int16:
    return mlir::IntegerType::get(&ctx, 16);
  case rt::DType::Int32:
    return mlir::IntegerType::get(&ctx, 32);
  case rt::DType::Int64:
    return mlir::IntegerType::get(&ctx, 64);
  case rt::DType::Float32:
    return mlir::Float32Type::get(&ctx);
  case rt::DType::Float64:
    return mlir::Float64Type::get(&ctx);
  }
  return {};
}

// One context per thread, reused: creating one and loading the dialects costs more than
// tracing a chain, and a pipeline traces every kernel again when its own cache misses. Never
// destroyed (like the JIT session): a context torn down after LLVM's statics at exit crashes.
mlir::MLIRContext &traceContext() {
  thread_local mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<mlir::med::MedDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                    mlir::bufferization::BufferizationDialect, mlir::memref::MemRefDialect>();
    auto *c = new mlir::MLIRContext(registry, mlir::MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

// A text that determines the traced IR: every field of the chain and its ops. Floats are
// written in hex so keys of different values never collide.
std::string chainKey(const ChainSpec &chain) {
  std::string k;
  llvm::raw_string_ostream os(k);
  auto hex = [&](double v) { os << llvm::format("%a", v) << ','; };
  os << static_cast<int>(chain.input) << '|' << chain.numParams << '|' << chain.spatialRank << '|'
     << chain.microkernels;
  for (const OpSpec &op : chain.ops) {
    os << "\n"
       << op.op << '|' << static_cast<int>(op.result) << '|' << op.origin << '|' << op.elementwise
       << op.cheap << op.resamples << op.displaced << '|';
    for (const auto &[name, v] : op.attrs) {
      os << name << '=';
      hex(v);
    }
    os << '|';
    for (const std::string &flag : op.flags)
      os << flag << ',';
    os << '|';
    for (int operand : op.operands)
      os << operand << ',';
    os << '|';
    for (const auto &[name, v] : op.strings)
      os << name << '=' << v.size() << ':' << v << ',';
  }
  return os.str();
}

} // namespace

namespace {

// Traced IR on disk, beside the kernels (docs/kernel-cache.md, "Traced IR"): a new process whose
// kernels all come from the disk cache then never creates an MLIR context, the largest part of
// its first call. The file holds its full key (the compiler's version, which hashes this file,
// and the chain's key), checked on load, then the IR. Written to a temporary name and renamed,
// as the kernels are; any failure only costs a trace.
constexpr llvm::StringLiteral kTraceMagic = "medulla-trace v1\n";

std::string traceKey(const std::string &chainKey) {
  return compiler::JitSession::compilerVersion() + "\n" + chainKey;
}

std::string loadTrace(const std::string &path, const std::string &key) {
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file)
    return {};
  llvm::StringRef text = (*file)->getBuffer();
  if (!text.consume_front(kTraceMagic))
    return {};
  size_t length = 0;
  auto [count, rest] = text.split('\n');
  if (count.getAsInteger(10, length) || rest.size() < length || rest.take_front(length) != key)
    return {};
  return rest.drop_front(length).str();
}

void storeTrace(const std::string &path, const std::string &key, const std::string &ir) {
  int fd = -1;
  llvm::SmallString<256> tmp;
  // The first trace of a process with a fresh cache comes before any kernel made the directory.
  if (llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)) ||
      llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%%%%%", fd, tmp))
    return;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << kTraceMagic << key.size() << "\n" << key << ir;
    if (os.has_error()) {
      os.clear_error();
      llvm::sys::fs::remove(tmp);
      return;
    }
  }
  if (llvm::sys::fs::rename(tmp, path))
    llvm::sys::fs::remove(tmp);
}

} // namespace

std::string traceCacheKey(const ChainSpec &chain) { return traceKey(chainKey(chain)); }

std::string traceCacheFile(const ChainSpec &chain) {
  const std::string dir = compiler::JitSession::diskCacheDir();
  if (dir.empty())
    return {};
  return dir + "/" + compiler::fingerprint(traceCacheKey(chain)) + ".medtrace";
}

std::string traceToIR(const ChainSpec &chain, std::string *error, std::string *origin) {
  // Memoised per process: a second pipeline of the same chain (a data loader worker, a
  // re-compiled Compose) skips MLIR entirely; so does a new process that traced it before
  // (traceCacheFile). Only successful traces are kept.
  static std::mutex mutex;
  static auto *traced = new std::unordered_map<std::string, std::string>();
  std::string key = chainKey(chain);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = traced->find(key); it != traced->end())
      return it->second;
  }
  const std::string file = traceCacheFile(chain), fullKey = traceKey(key);
  std::string ir = file.empty() ? std::string() : loadTrace(file, fullKey);
  if (ir.empty()) {
    ir = traceUncached(chain, error, origin);
    if (!ir.empty() && !file.empty())
      storeTrace(file, fullKey, ir);
  }
  if (!ir.empty()) {
    std::lock_guard<std::mutex> lock(mutex);
    traced->emplace(std::move(key), ir);
  }
  return ir;
}

namespace {

std::string traceUncached(const ChainSpec &chain, std::string *error, std::string *origin) {
  mlir::MLIRContext &ctx = traceContext();

  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    if (!diagnostics.empty())
      diagnostics += "\n";
    diagnostics += d.str();
    // Ops carry the name of the transform that emitted them, so errors can name it.
    if (auto name = llvm::dyn_cast<mlir::NameLoc>(d.getLocation());
        name && origin && origin->empty())
      *origin = name.getName().str();
    return mlir::success();
  });

  mlir::OpBuilder b(&ctx);
  mlir::Location loc = b.getUnknownLoc();
  auto module = mlir::ModuleOp::create(loc);
  if (!chain.microkernels)
    module->setAttr("med.microkernels", b.getBoolAttr(false));
  b.setInsertionPointToEnd(module.getBody());
  // Buffers carry a dynamic offset: the launcher passes each chunk as (base, offset = start).
  auto layout = mlir::StridedLayoutAttr::get(&ctx, mlir::ShapedType::kDynamic, {1});
  auto memref = [&](rt::DType t) {
    return mlir::MemRefType::get({mlir::ShapedType::kDynamic}, elementType(ctx, t), layout);
  };
  auto tensor = [&](rt::DType t, int rank = 1) {
    llvm::SmallVector<int64_t> shape(rank, mlir::ShapedType::kDynamic);
    return mlir::RankedTensorType::get(shape, elementType(ctx, t));
  };
  // A gathering kernel writes a window of whole rows: its output is rows x row length.
  const bool gathers = chain.gathers();
  mlir::Type outType = memref(chain.output());
  if (gathers)
    outType = mlir::MemRefType::get({mlir::ShapedType::kDynamic, mlir::ShapedType::kDynamic},
                                    elementType(ctx, chain.output()),
                                    mlir::StridedLayoutAttr::get(&ctx, mlir::ShapedType::kDynamic,
                                                                 {mlir::ShapedType::kDynamic, 1}));
  llvm::SmallVector<mlir::Type> args{memref(chain.input), outType};
  if (chain.numParams > 0) // per-call parameters (random draws), never split between chunks
    args.push_back(mlir::MemRefType::get({mlir::ShapedType::kDynamic}, b.getF64Type()));
  const int fieldArg = static_cast<int>(args.size()); // a displacement, whole, if read
  if (chain.readsField())
    args.push_back(mlir::MemRefType::get({mlir::ShapedType::kDynamic}, b.getF32Type()));
  auto func = b.create<mlir::func::FuncOp>(loc, "med_kernel", b.getFunctionType(args, {}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  mlir::Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);

  // Operand sources: parameter i is params[i]; kIndexBase is the global index of the chunk's
  // first element (the input buffer's offset).
  llvm::SmallVector<mlir::Value> params;
  for (int i = 0; i < chain.numParams; ++i) {
    mlir::Value idx = b.create<mlir::arith::ConstantIndexOp>(loc, i);
    params.push_back(b.create<mlir::memref::LoadOp>(loc, body->getArgument(2), idx));
  }
  // kIndexBase is the global index of the current image's first element in the buffer: the
  // input chunk's offset, or after a resample the output window's.
  mlir::Value indexBase;
  int indexBuffer = 0;
  auto offsetOf = [&](int arg) {
    return b.create<mlir::memref::ExtractStridedMetadataOp>(loc, body->getArgument(arg))
        .getOffset();
  };
  auto operandOf = [&](int ref) -> mlir::Value {
    if (ref != OpSpec::kIndexBase)
      return params[ref];
    if (!indexBase)
      indexBase = offsetOf(indexBuffer);
    return indexBase;
  };
  auto fail = [&](const OpSpec &spec, std::string message) {
    *error = std::move(message);
    if (origin)
      *origin = spec.origin;
    module.erase();
    return std::string();
  };
  int resamples = 0;
  for (const OpSpec &spec : chain.ops)
    resamples += spec.resamples ? 1 : 0;

  mlir::Value v =
      b.create<mlir::bufferization::ToTensorOp>(loc, tensor(chain.input), body->getArgument(0),
                                                /*restrict=*/true, /*writable=*/false);
  for (const OpSpec &spec : chain.ops) {
    mlir::OperationState state(mlir::NameLoc::get(b.getStringAttr(spec.origin)), "med." + spec.op);
    if (!state.name.isRegistered()) {
      *error = "unknown med op '" + spec.op + "'";
      if (origin)
        *origin = spec.origin;
      module.erase();
      return "";
    }
    state.addOperands(v);
    if (spec.resamples) {
      if (resamples > 1)
        return fail(spec, "a kernel holds at most one resample, got " + std::to_string(resamples));
      state.addOperands(offsetOf(1));
      state.addOperands(b.create<mlir::memref::DimOp>(loc, body->getArgument(1), 0).getResult());
    }
    for (int ref : spec.operands) {
      if (ref != OpSpec::kIndexBase && (ref < 0 || ref >= chain.numParams)) {
        *error = "operand refers to parameter " + std::to_string(ref) + " of " +
                 std::to_string(chain.numParams);
        if (origin)
          *origin = spec.origin;
        module.erase();
        return "";
      }
      state.addOperands(operandOf(ref));
    }
    if (spec.resamples) { // input, window offset and rows, args, optional displacement
      const int32_t numArgs = static_cast<int32_t>(spec.operands.size());
      if (spec.displaced)
        state.addOperands(b.create<mlir::bufferization::ToTensorOp>(
                               loc, tensor(rt::DType::Float32), body->getArgument(fieldArg),
                               /*restrict=*/true, /*writable=*/false)
                              .getResult());
      state.addAttribute("operandSegmentSizes",
                         b.getDenseI32ArrayAttr({1, 1, 1, numArgs, spec.displaced ? 1 : 0}));
    }
    // Ops from the resample on produce the 2-D window.
    state.addTypes(tensor(spec.result, indexBuffer == 1 || spec.resamples ? 2 : 1));
    for (const auto &[name, value] : spec.attrs)
      state.addAttribute(name, b.getF64FloatAttr(value));
    for (const std::string &flag : spec.flags)
      state.addAttribute(flag, b.getUnitAttr());
    for (const auto &[name, text] : spec.strings)
      state.addAttribute(name, b.getStringAttr(text));
    v = b.create(state)->getResult(0);
    if (spec.resamples) { // later ops index the output window
      indexBuffer = 1;
      indexBase = {};
    }
  }
  auto materialize =
      b.create<mlir::bufferization::MaterializeInDestinationOp>(loc, v, body->getArgument(1));
  materialize.setRestrict(true);
  materialize.setWritable(true);
  b.create<mlir::func::ReturnOp>(loc);

  std::string text;
  if (mlir::failed(mlir::verify(module))) {
    *error = diagnostics.empty() ? "the traced med IR does not verify" : diagnostics;
  } else {
    llvm::raw_string_ostream os(text);
    module.print(os);
  }
  module.erase();
  return text;
}

} // namespace

} // namespace med::frontend
