// med-fuse-pointwise: elementwise producers are folded into their consumers so an intensity chain
// becomes one loop nest (plus one per reduction).
#include "med/compiler/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::med {
#define GEN_PASS_DEF_MEDFUSEPOINTWISE
#include "med/compiler/Passes.h.inc"
} // namespace mlir::med

using namespace mlir;

namespace {

struct MedFusePointwisePass : mlir::med::impl::MedFusePointwiseBase<MedFusePointwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    // Always fuse: recomputing a cheap elementwise producer inside each consumer costs less than
    // a round trip through memory.
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *) { return true; });
    // Fusion only fires on canonical IR (dead results and operands removed, dims folded).
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::DimOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::med::createMedFusePointwisePass() {
  return std::make_unique<MedFusePointwisePass>();
}
