#include "Optimize.h"

#include "llvm/Analysis/CGSCCPassManager.h"
#include "llvm/Analysis/LoopAnalysisManager.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

#include <dlfcn.h>

namespace med::compiler {

bool vectorMathAvailable() {
  // Loaded once, globally, never closed: kernels call into it for the life of the process.
  // RTLD_LAZY: binding all of its relocations up front searched every library LibTorch loaded
  // and cost a new process about 1 ms before its first kernel.
  static const bool loaded = dlopen("libmvec.so.1", RTLD_LAZY | RTLD_GLOBAL) != nullptr;
  return loaded;
}

std::function<llvm::Error(llvm::Module *)> makeKernelOptimizer(llvm::TargetMachine *tm,
                                                               bool unroll) {
  bool vecmath = vectorMathAvailable();
  return [tm, vecmath, unroll](llvm::Module *m) -> llvm::Error {
    // Kernel buffers never overlap (kernel_abi.h): saying so lets loads from the input and
    // stores to the output be reordered and vectorised without runtime alias checks.
    if (llvm::Function *f = m->getFunction("med_kernel"))
      for (llvm::Argument &arg : f->args())
        if (arg.getType()->isPointerTy())
          arg.addAttr(llvm::Attribute::NoAlias);
    // Callers only enter through the packed wrapper (`_mlir__mlir_ciface_med_kernel`, what
    // lookupPacked and the disk cache resolve): making the kernel and its C-interface wrapper
    // internal lets O3 inline both into it and drop them, so code generation, most of a
    // kernel's compile time, runs over one function instead of three.
    if (m->getFunction("_mlir__mlir_ciface_med_kernel"))
      for (const char *name : {"med_kernel", "_mlir_ciface_med_kernel"})
        if (llvm::Function *f = m->getFunction(name); f && !f->isDeclaration())
          f->setLinkage(llvm::GlobalValue::InternalLinkage);
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions tuning;
    tuning.LoopUnrolling = unroll;
    tuning.LoopInterleaving = true;
    tuning.LoopVectorization = true;
    tuning.SLPVectorization = true;
    llvm::PassBuilder pb(tm, tuning);

    llvm::Triple triple(m->getTargetTriple());
    llvm::TargetLibraryInfoImpl tlii(triple);
    if (vecmath && triple.getArch() == llvm::Triple::x86_64)
      tlii.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86, triple);
    fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });

    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*m, mam);
    return llvm::Error::success();
  };
}

} // namespace med::compiler
