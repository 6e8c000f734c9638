// med-fuse-pointwise: elementwise producers are folded into their consumers so an intensity chain
// becomes one loop nest (plus one per reduction).
#include "med/compiler/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::med {
#define GEN_PASS_DEF_MEDFUSEPOINTWISE
#include "med/compiler/Passes.h.inc"
} // namespace mlir::med

using namespace mlir;

namespace {

// tensor.extract %g[%i] of a 1-D elementwise linalg.generic %g -> the generic's body evaluated at
// %i. This is how elementwise producers fuse into a gather (med.resample's lowering reads its
// input with tensor.extract): each sample computes the producer's value where it reads, and the
// producer's own loop over the whole image disappears.
struct FoldExtractOfElementwise : OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExtractOp extract, PatternRewriter &rw) const override {
    auto generic = extract.getTensor().getDefiningOp<linalg::GenericOp>();
    if (!generic || generic.getNumResults() != 1 || generic.getNumLoops() != 1 ||
        generic.getNumReductionLoops() != 0 || extract.getIndices().size() != 1)
      return failure();
    Block &body = generic.getRegion().front();
    // The output operand's incoming value must not matter, and every input must be read at the
    // iteration's index or be a 0-d scalar.
    if (!generic.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>() ||
        !body.getArgument(generic.getNumDpsInputs()).use_empty())
      return failure();
    for (OpOperand *in : generic.getDpsInputOperands()) {
      AffineMap map = generic.getMatchingIndexingMap(in);
      if (!map.isIdentity() && map.getNumResults() != 0)
        return failure();
    }
    for (Operation &op : body.without_terminator())
      if (!isMemoryEffectFree(&op) || op.getNumRegions() != 0)
        return failure();

    Location loc = extract.getLoc();
    Value i = extract.getIndices()[0];
    IRMapping map;
    for (OpOperand *in : generic.getDpsInputOperands()) {
      bool scalar = generic.getMatchingIndexingMap(in).getNumResults() == 0;
      Value v = rw.create<tensor::ExtractOp>(loc, in->get(), scalar ? ValueRange{} : ValueRange{i});
      map.map(body.getArgument(in->getOperandNumber()), v);
    }
    for (Operation &op : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        map.map(index.getResult(), i);
        continue;
      }
      rw.clone(op, map);
    }
    Value yielded = body.getTerminator()->getOperand(0);
    rw.replaceOp(extract, map.lookupOrDefault(yielded));
    return success();
  }
};

struct MedFusePointwisePass : mlir::med::impl::MedFusePointwiseBase<MedFusePointwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    // Always fuse: recomputing a cheap elementwise producer inside each consumer costs less than
    // a round trip through memory.
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *) { return true; });
    patterns.add<FoldExtractOfElementwise>(ctx);
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
