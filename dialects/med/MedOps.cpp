// Verifiers of the med operations. Each diagnostic names the attribute at fault and what was
// expected, because these messages reach users through the DSL as med::Error.
#include "med/MedOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::med;

namespace {

// Shared by every intensity op: the result has the input's shape.
LogicalResult verifySameShape(Operation *op) {
  auto in = cast<RankedTensorType>(op->getOperand(0).getType());
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  if (in.getShape() != out.getShape())
    return op->emitOpError("result shape must equal the input shape, got ")
           << out << " for input " << in;
  return success();
}

// A null attribute is an absent optional one.
LogicalResult verifyFinite(Operation *op, StringRef name, FloatAttr attr) {
  if (attr && !std::isfinite(attr.getValueAsDouble()))
    return op->emitOpError("attribute '")
           << name << "' must be finite, got " << attr.getValueAsDouble();
  return success();
}

} // namespace

LogicalResult ScaleIntensityRangeOp::verify() {
  if (failed(verifySameShape(*this)) || failed(verifyFinite(*this, "a_min", getAMinAttr())) ||
      failed(verifyFinite(*this, "a_max", getAMaxAttr())) ||
      failed(verifyFinite(*this, "b_min", getBMinAttr())) ||
      failed(verifyFinite(*this, "b_max", getBMaxAttr())))
    return failure();
  if (getBMin().has_value() != getBMax().has_value())
    return emitOpError("attributes 'b_min' and 'b_max' must be given together");
  if (getClip() && !getBMin())
    return emitOpError("'clip' needs 'b_min' and 'b_max'");
  return success();
}
bool ScaleIntensityRangeOp::isElementwise() { return true; }

LogicalResult CastOp::verify() { return verifySameShape(*this); }
bool CastOp::isElementwise() { return true; }

LogicalResult ShiftIntensityOp::verify() {
  if (failed(verifySameShape(*this)))
    return failure();
  return verifyFinite(*this, "offset", getOffsetAttr());
}
bool ShiftIntensityOp::isElementwise() { return true; }

LogicalResult ScaleIntensityOp::verify() {
  if (failed(verifySameShape(*this)) || failed(verifyFinite(*this, "minv", getMinvAttr())) ||
      failed(verifyFinite(*this, "maxv", getMaxvAttr())) ||
      failed(verifyFinite(*this, "factor", getFactorAttr())))
    return failure();
  if (getMinv().has_value() != getMaxv().has_value())
    return emitOpError("attributes 'minv' and 'maxv' must be given together");
  if (getMinv().has_value() == getFactor().has_value())
    return emitOpError("expected either 'minv' and 'maxv' or 'factor', not ")
           << (getFactor() ? "both" : "neither");
  return success();
}
bool ScaleIntensityOp::isElementwise() { return getFactor().has_value(); }

LogicalResult ThresholdIntensityOp::verify() {
  if (failed(verifySameShape(*this)) ||
      failed(verifyFinite(*this, "threshold", getThresholdAttr())))
    return failure();
  return verifyFinite(*this, "cval", getCvalAttr());
}
bool ThresholdIntensityOp::isElementwise() { return true; }

LogicalResult ClipOp::verify() {
  if (failed(verifySameShape(*this)))
    return failure();
  if (!getMin() && !getMax())
    return emitOpError("expected at least one of 'min' and 'max'");
  if (failed(verifyFinite(*this, "min", getMinAttr())) ||
      failed(verifyFinite(*this, "max", getMaxAttr())))
    return failure();
  if (getMin() && getMax() && getMin()->convertToDouble() > getMax()->convertToDouble())
    return emitOpError("attribute 'min' (")
           << getMin()->convertToDouble() << ") must not exceed 'max' ("
           << getMax()->convertToDouble() << ")";
  return success();
}
bool ClipOp::isElementwise() { return true; }

LogicalResult ShiftByOp::verify() { return verifySameShape(*this); }
bool ShiftByOp::isElementwise() { return true; }
LogicalResult ScaleByOp::verify() { return verifySameShape(*this); }
bool ScaleByOp::isElementwise() { return true; }
LogicalResult AdjustContrastOp::verify() { return verifySameShape(*this); }
bool AdjustContrastOp::isElementwise() { return true; }

LogicalResult HistogramShiftOp::verify() {
  if (failed(verifySameShape(*this)))
    return failure();
  if (getPoints().size() < 3)
    return emitOpError("expected at least 3 control points, got ") << getPoints().size();
  return success();
}
bool HistogramShiftOp::isElementwise() { return true; }

// Noise ops find each voxel's random stream from its index: a flat buffer or a window of rows.
static LogicalResult verifyNoiseInput(Operation *op) {
  if (failed(verifySameShape(op)))
    return failure();
  if (cast<RankedTensorType>(op->getOperand(0).getType()).getRank() > 2)
    return op->emitOpError("needs a flat image or a window of rows (rank 1 or 2): the voxel "
                           "index selects the random stream");
  return success();
}

LogicalResult GaussianNoiseOp::verify() { return verifyNoiseInput(*this); }
bool GaussianNoiseOp::isElementwise() { return true; }
LogicalResult CoarseDropoutOp::verify() {
  if (failed(verifyNoiseInput(*this)))
    return failure();
  const double rank = getSpatialRank().convertToDouble();
  if (rank != 2.0 && rank != 3.0)
    return emitOpError("attribute 'spatial_rank' must be 2 or 3, got ") << rank;
  const size_t n = static_cast<size_t>(rank), args = getArgs().size();
  if (args < 3 * n || (args - n) % (2 * n) != 0)
    return emitOpError("expects the spatial shape and at least one box of (start, size) per "
                       "axis (")
           << n << " + k * " << 2 * n << " args), got " << args;
  return success();
}
bool CoarseDropoutOp::isElementwise() { return true; }
LogicalResult RicianNoiseOp::verify() { return verifyNoiseInput(*this); }
bool RicianNoiseOp::isElementwise() { return true; }

LogicalResult NormalizeOp::verify() { return verifySameShape(*this); }
bool NormalizeOp::isElementwise() { return true; }

LogicalResult ScaleRangeByOp::verify() {
  if (failed(verifySameShape(*this)) || failed(verifyFinite(*this, "b_min", getBMinAttr())) ||
      failed(verifyFinite(*this, "b_max", getBMaxAttr())))
    return failure();
  if (getBMin().has_value() != getBMax().has_value())
    return emitOpError("attributes 'b_min' and 'b_max' must be given together");
  if (getClip() && !getBMin())
    return emitOpError("'clip' needs 'b_min' and 'b_max'");
  return success();
}
bool ScaleRangeByOp::isElementwise() { return true; }

LogicalResult RescaleByOp::verify() {
  if (failed(verifySameShape(*this)) || failed(verifyFinite(*this, "minv", getMinvAttr())) ||
      failed(verifyFinite(*this, "maxv", getMaxvAttr())))
    return failure();
  return success();
}
bool RescaleByOp::isElementwise() { return true; }

LogicalResult ClipByOp::verify() { return verifySameShape(*this); }
bool ClipByOp::isElementwise() { return true; }

LogicalResult BiasFieldOp::verify() {
  if (failed(verifySameShape(*this)))
    return failure();
  if (!isa<FloatType>(getResult().getType().getElementType()))
    return emitOpError("needs a floating-point result, got ")
           << getResult().getType().getElementType();
  const double rank = getSpatialRank().convertToDouble(), degree = getDegree().convertToDouble();
  if (rank != 2 && rank != 3)
    return emitOpError("attribute 'spatial_rank' must be 2 or 3, got ") << rank;
  if (degree != std::floor(degree) || degree < 1 || degree > 16)
    return emitOpError("attribute 'degree' must be an integer in [1, 16], got ") << degree;
  const int64_t d = static_cast<int64_t>(degree), n = static_cast<int64_t>(rank);
  const int64_t terms = n == 2 ? (d + 1) * (d + 2) / 2 : (d + 1) * (d + 2) * (d + 3) / 6;
  if (static_cast<int64_t>(getArgs().size()) != n + terms)
    return emitOpError("expects the spatial shape and ")
           << terms << " coefficients (" << n + terms << " args), got " << getArgs().size();
  return success();
}
bool BiasFieldOp::isElementwise() { return true; }

// Gathering ops (med.resample, med.filter_axis) read a flat image and yield a window of rows.
static LogicalResult verifyWindowed(Operation *op) {
  auto in = cast<RankedTensorType>(op->getOperand(0).getType());
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  if (in.getRank() != 1 || out.getRank() != 2)
    return op->emitOpError("reads a flat (rank-1) image and yields a window of rows (rank 2), got ")
           << in << " -> " << out;
  return success();
}

LogicalResult ResampleOp::verify() {
  if (failed(verifyWindowed(*this)))
    return failure();
  auto out = cast<RankedTensorType>(getResult().getType());
  if (!getBounded() && getArgs().size() != 10 && getArgs().size() != 18)
    return emitOpError("expects 10 args (2D: in, out shapes and a 2x3 matrix) or 18 (3D: 3x4), "
                       "got ")
           << getArgs().size();
  if (getZeroOutside() && !getBounded())
    return emitOpError("'zero_outside' needs 'bounded' (a box to be outside of)");
  if (getBounded() && getArgs().size() != 14 && getArgs().size() != 24)
    return emitOpError("with 'bounded' expects 14 args (2D: in, out shapes, a 2x3 matrix and "
                       "2 index bounds per axis) or 24 (3D), got ")
           << getArgs().size();
  if (getMode() != "nearest" && getMode() != "floor" && getMode() != "bilinear" &&
      getMode() != "bicubic" && getMode() != "area")
    return emitOpError("attribute 'mode' must be \"nearest\", \"floor\", \"bilinear\", "
                       "\"bicubic\" or \"area\", got \"")
           << getMode() << "\"";
  if (getMode() == "bicubic" && getSpatialRank() != 2)
    return emitOpError("bicubic needs 2 spatial axes (10 args, or 14 bounded), got ")
           << getArgs().size() << " args";
  if (getPaddingMode() != "zeros" && getPaddingMode() != "border" &&
      getPaddingMode() != "reflection" && getPaddingMode() != "reflection_corners" &&
      getPaddingMode() != "wrap")
    return emitOpError("attribute 'padding_mode' must be \"zeros\", \"border\", "
                       "\"reflection\", \"reflection_corners\" or \"wrap\", got \"")
           << getPaddingMode() << "\"";
  if (getPaddingMode() == "wrap" && getMode() != "nearest")
    return emitOpError("padding_mode \"wrap\" needs mode \"nearest\" (it wraps the integer "
                       "positions of a pad), got \"")
           << getMode() << "\"";
  if (Value d = getDisplacement()) {
    if (cast<RankedTensorType>(d.getType()).getRank() != 1)
      return emitOpError("reads a flat displacement (n planes of the output's spatial shape), "
                         "got ")
             << d.getType();
    if (getMode() != "nearest" && getMode() != "bilinear" && getMode() != "bicubic")
      return emitOpError("a displacement needs mode \"nearest\", \"bilinear\" or \"bicubic\", "
                         "got \"")
             << getMode() << "\"";
    if (getBounded())
      return emitOpError("a displacement cannot be 'bounded' (the box would clamp the "
                         "displaced index)");
  }
  bool floatOut = isa<FloatType>(out.getElementType());
  if ((getMode() == "bilinear" || getMode() == "bicubic" || getMode() == "area") && !floatOut)
    return emitOpError("") << getMode() << " interpolation needs a floating-point result, got "
                           << out.getElementType();
  return success();
}

/// Checks that `operands` are flat (`flat` names them in the message) and of one type.
static LogicalResult verifyFlatOperands(Operation *op, StringRef flat, ValueRange operands) {
  auto in = cast<RankedTensorType>(operands.front().getType());
  if (in.getRank() != 1)
    return op->emitOpError("reads ") << flat << ", got " << in;
  for (Value other : operands.drop_front())
    if (other.getType() != in)
      return op->emitOpError("operands must have the same type, got ")
             << in << " and " << other.getType();
  return success();
}

/// Checks a reduction kernel: flat operands of one type and a tensor<`n`xf64> result holding
/// `entries`.
static LogicalResult verifyReduction(Operation *op, StringRef flat, int64_t n, StringRef entries) {
  if (failed(verifyFlatOperands(op, flat, op->getOperands())))
    return failure();
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  if (out.getRank() != 1 || out.getDimSize(0) != n)
    return op->emitOpError("result must be tensor<")
           << n << "xf64> (" << entries << "), got " << out;
  return success();
}

LogicalResult ExtremaOp::verify() {
  return verifyReduction(*this, "a flat (rank-1) image", 2, "min, max");
}

LogicalResult MomentsOp::verify() {
  return verifyReduction(*this, "a flat (rank-1) image", 3, "count, sum, sum of squares");
}

LogicalResult OverlapCountsOp::verify() {
  return verifyReduction(*this, "flat (rank-1) masks", 4, "overlap, |pred|, |target|, bad");
}

LogicalResult ErrorSumsOp::verify() {
  return verifyReduction(*this, "a flat (rank-1) input", 2, "squared, absolute");
}

LogicalResult DiceSumsOp::verify() {
  return verifyReduction(*this, "a flat (rank-1) input", 3, "intersection, prediction, ground");
}

LogicalResult DiceGradOp::verify() {
  if (failed(verifyFlatOperands(*this, "a flat (rank-1) input", {getInput(), getTarget()})))
    return failure();
  if (getResult().getType() != getInput().getType())
    return emitOpError("result must have the input's type ")
           << getInput().getType() << ", got " << getResult().getType();
  return success();
}

/// Checks a softmax loss kernel's logits (at least `minChannels` of them) and target; gives the
/// channel count C, or failure.
static FailureOr<int64_t> verifyChannels(Operation *op, Value input, Value target,
                                         int64_t minChannels = 2) {
  auto in = cast<RankedTensorType>(input.getType());
  if (in.getRank() != 2 || in.isDynamicDim(0) || in.getDimSize(0) < minChannels)
    return op->emitOpError("reads (channels x voxels) logits with a static channel count >= ")
           << minChannels << ", got " << in;
  auto t = cast<RankedTensorType>(target.getType());
  const bool labels = t.getRank() == 1 && t.getElementType() == in.getElementType();
  if (!labels && t != in)
    return op->emitOpError("target must be a flat label map of ")
           << in.getElementType() << " or have the input's type " << in << ", got " << t;
  if (labels && !t.isDynamicDim(0) && !in.isDynamicDim(1) && t.getDimSize(0) != in.getDimSize(1))
    return op->emitOpError("label map and logits must have the same voxel count, got ")
           << t << " and " << in;
  return in.getDimSize(0);
}

/// Checks that `v` is a tensor<`n`xf64> holding `entries`.
static LogicalResult verifyVector(Operation *op, Value v, StringRef what, int64_t n,
                                  StringRef entries) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() != 1 || type.getDimSize(0) != n)
    return op->emitOpError(what) << " must be tensor<" << n << "xf64> (" << entries << "), got "
                                 << type;
  return success();
}

LogicalResult SoftmaxDiceSumsOp::verify() {
  FailureOr<int64_t> c = verifyChannels(*this, getInput(), getTarget());
  if (failed(c))
    return failure();
  return verifyVector(*this, getResult(), "result", 3 * *c,
                      "intersection, prediction, ground per class");
}

LogicalResult SoftmaxDiceGradOp::verify() {
  FailureOr<int64_t> c = verifyChannels(*this, getInput(), getTarget());
  if (failed(c) || failed(verifyVector(*this, getCoefficients(), "coefficients", 2 * *c,
                                       "d intersection, d prediction per class")))
    return failure();
  if (getResult().getType() != getInput().getType())
    return emitOpError("result must have the input's type ")
           << getInput().getType() << ", got " << getResult().getType();
  return success();
}

/// Checks a sigmoid focal kernel's flat input and target.
static LogicalResult verifyFocalOperands(Operation *op, Value input, Value target) {
  return verifyFlatOperands(op, "a flat (rank-1) input", {input, target});
}

LogicalResult FocalSumsOp::verify() {
  if (failed(verifyFocalOperands(*this, getInput(), getTarget())))
    return failure();
  return verifyVector(*this, getResult(), "result", 1, "the focal sum");
}

LogicalResult FocalGradOp::verify() {
  if (failed(verifyFocalOperands(*this, getInput(), getTarget())))
    return failure();
  if (getResult().getType() != getInput().getType())
    return emitOpError("result must have the input's type ")
           << getInput().getType() << ", got " << getResult().getType();
  return success();
}

/// Checks a softmax focal kernel's logits, target and `first`; gives the channel count C and
/// whether the target is a label map, or failure.
static FailureOr<std::pair<int64_t, bool>> verifySoftmaxFocal(Operation *op, Value input,
                                                              Value target, int64_t first) {
  FailureOr<int64_t> c = verifyChannels(op, input, target, 1);
  if (failed(c))
    return failure();
  const bool labels = cast<RankedTensorType>(target.getType()).getRank() == 1;
  if (first < 0 || (!labels && first != 0))
    return op->emitOpError("attribute 'first' must be >= 0, and 0 unless the target is a label "
                           "map, got ")
           << first;
  return std::make_pair(*c, labels);
}

LogicalResult SoftmaxFocalSumsOp::verify() {
  auto c = verifySoftmaxFocal(*this, getInput(), getTarget(), getFirst());
  if (failed(c))
    return failure();
  return verifyVector(*this, getResult(), "result", c->first + (c->second ? 1 : 0),
                      c->second ? "focal sum per class, then the labelled voxels"
                                : "focal sum per class");
}

LogicalResult SoftmaxFocalGradOp::verify() {
  auto c = verifySoftmaxFocal(*this, getInput(), getTarget(), getFirst());
  if (failed(c) || failed(verifyVector(*this, getCoefficients(), "coefficients", c->first,
                                       "d loss / d focal sum per class")))
    return failure();
  if (getResult().getType() != getInput().getType())
    return emitOpError("result must have the input's type ")
           << getInput().getType() << ", got " << getResult().getType();
  return success();
}

/// Checks that `v` has the input's type (an upstream gradient or a result).
static LogicalResult verifyLikeInput(Operation *op, Value input, Value v, StringRef what) {
  if (v.getType() != input.getType())
    return op->emitOpError(what) << " must have the input's type " << input.getType() << ", got "
                                 << v.getType();
  return success();
}

LogicalResult FocalTermsOp::verify() {
  if (failed(verifyFocalOperands(*this, getInput(), getTarget())))
    return failure();
  return verifyLikeInput(*this, getInput(), getResult(), "result");
}

LogicalResult FocalTermsGradOp::verify() {
  if (failed(verifyFocalOperands(*this, getInput(), getTarget())) ||
      failed(verifyLikeInput(*this, getInput(), getUpstream(), "upstream")))
    return failure();
  return verifyLikeInput(*this, getInput(), getResult(), "result");
}

LogicalResult SoftmaxFocalTermsOp::verify() {
  auto c = verifySoftmaxFocal(*this, getInput(), getTarget(), getFirst());
  if (failed(c) || failed(verifyVector(*this, getCoefficients(), "coefficients", c->first,
                                       "the factor of each class's terms")))
    return failure();
  return verifyLikeInput(*this, getInput(), getResult(), "result");
}

LogicalResult SoftmaxFocalTermsGradOp::verify() {
  auto c = verifySoftmaxFocal(*this, getInput(), getTarget(), getFirst());
  if (failed(c) ||
      failed(verifyVector(*this, getCoefficients(), "coefficients", c->first,
                          "the factor of each class's terms")) ||
      failed(verifyLikeInput(*this, getInput(), getUpstream(), "upstream")))
    return failure();
  return verifyLikeInput(*this, getInput(), getResult(), "result");
}

/// Checks a HausdorffDTLoss kernel's four flat operands of one type.
static LogicalResult verifyHausdorffOperands(Operation *op, ValueRange operands) {
  return verifyFlatOperands(op, "a flat (rank-1) input", operands);
}

LogicalResult HausdorffDTSumsOp::verify() {
  if (failed(verifyHausdorffOperands(*this,
                                     {getInput(), getTarget(), getInputField(), getTargetField()})))
    return failure();
  return verifyVector(*this, getResult(), "result", 1, "the weighted squared error's sum");
}

LogicalResult HausdorffDTGradOp::verify() {
  if (failed(verifyHausdorffOperands(*this,
                                     {getInput(), getTarget(), getInputField(), getTargetField()})))
    return failure();
  return verifyLikeInput(*this, getInput(), getResult(), "result");
}

/// Checks a Wasserstein kernel's logits, label map and C x C operand `what`; gives C.
static FailureOr<int64_t> verifyWasserstein(Operation *op, Value input, Value target, Value matrix,
                                            StringRef what, StringRef entries) {
  FailureOr<int64_t> c = verifyChannels(op, input, target);
  if (failed(c))
    return failure();
  if (cast<RankedTensorType>(target.getType()).getRank() != 1)
    return op->emitOpError("target must be a flat label map, got ") << target.getType();
  if (failed(verifyVector(op, matrix, what, *c * *c, entries)))
    return failure();
  return c;
}

LogicalResult WassersteinSumsOp::verify() {
  FailureOr<int64_t> c = verifyWasserstein(*this, getInput(), getTarget(), getMatrix(), "matrix",
                                           "the class distances row by row");
  if (failed(c))
    return failure();
  return verifyVector(*this, getResult(), "result", 2 * *c,
                      "labelled voxels, then summed distances, per class");
}

LogicalResult WassersteinGradOp::verify() {
  if (failed(verifyWasserstein(*this, getInput(), getTarget(), getCoefficients(), "coefficients",
                               "d loss / d summed distance times the distances, row by row")))
    return failure();
  if (getResult().getType() != getInput().getType())
    return emitOpError("result must have the input's type ")
           << getInput().getType() << ", got " << getResult().getType();
  return success();
}

LogicalResult FilterAxisOp::verify() {
  if (failed(verifyWindowed(*this)))
    return failure();
  auto out = cast<RankedTensorType>(getResult().getType());
  if (!isa<FloatType>(out.getElementType()))
    return emitOpError("needs a floating-point result, got ") << out.getElementType();
  const double rank = getSpatialRank().convertToDouble(), axis = getAxis().convertToDouble();
  if (rank != 2 && rank != 3)
    return emitOpError("attribute 'spatial_rank' must be 2 or 3, got ") << rank;
  if (axis != std::floor(axis) || axis < 0 || axis >= rank)
    return emitOpError("attribute 'axis' must be an integer in [0, spatial_rank), got ") << axis;
  const int64_t taps = int64_t(getArgs().size()) - getRank();
  if (taps < 1 || taps % 2 == 0)
    return emitOpError("expects the spatial shape and then an odd number of taps, got ")
           << getArgs().size() << " args for " << getRank() << " spatial axes";
  if (getDisplacement())
    return emitOpError("takes no displacement");
  return success();
}

bool mlir::med::isElementwise(Operation *op) {
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case<ScaleIntensityRangeOp, ShiftIntensityOp, ScaleIntensityOp, ThresholdIntensityOp, ClipOp,
            CastOp, ShiftByOp, ScaleByOp, AdjustContrastOp, GaussianNoiseOp, NormalizeOp,
            ScaleRangeByOp, RescaleByOp, ClipByOp>([](auto o) { return o.isElementwise(); })
      .Case<ExtremaOp, MomentsOp, OverlapCountsOp, DiceSumsOp, ErrorSumsOp, SoftmaxDiceSumsOp,
            SoftmaxDiceGradOp, FocalSumsOp, SoftmaxFocalSumsOp, SoftmaxFocalGradOp,
            SoftmaxFocalTermsOp, SoftmaxFocalTermsGradOp, WassersteinSumsOp, WassersteinGradOp,
            HausdorffDTSumsOp>([](Operation *) { return false; })
      .Default([](Operation *) { return true; });
}

#define GET_OP_CLASSES
#include "med/MedOps.cpp.inc"

/// Checks a displacement-field kernel: a flat channel, a window of rows of its type, 3 n f64
/// args (and a coefficient when `coefficient`) for n = 1, 2 or 3, and an order of 1 or 2.
static LogicalResult verifyDdf(Operation *op, Value input, Value result, size_t args, int64_t order,
                               bool coefficient) {
  auto in = cast<RankedTensorType>(input.getType());
  auto out = cast<RankedTensorType>(result.getType());
  if (in.getRank() != 1 || out.getRank() != 2 || in.getElementType() != out.getElementType())
    return op->emitOpError("reads a flat channel and yields a window of rows (rank 2) of its "
                           "element type, got ")
           << in << " -> " << out;
  const size_t extra = coefficient ? 1 : 0;
  if (args < 3 + extra || args > 9 + extra || (args - extra) % 3 != 0)
    return op->emitOpError("expects 3 n args (sizes, ratios, scales) for n = 1, 2 or 3 axes")
           << (coefficient ? " and the coefficient" : "") << ", got " << args;
  if (order != 1 && order != 2)
    return op->emitOpError("attribute 'order' must be 1 (DiffusionLoss) or 2 "
                           "(BendingEnergyLoss), got ")
           << order;
  return success();
}

LogicalResult DdfEnergyOp::verify() {
  return verifyDdf(*this, getInput(), getResult(), getArgs().size(), getOrder(), false);
}

LogicalResult DdfEnergyGradOp::verify() {
  return verifyDdf(*this, getInput(), getResult(), getArgs().size(), getOrder(), true);
}

LogicalResult DdfEnergyWeightedGradOp::verify() {
  if (getWeights().getType() != getInput().getType())
    return emitOpError("expects the weights laid out as the input, of its type, got ")
           << getWeights().getType() << " and " << getInput().getType();
  return verifyDdf(*this, getInput(), getResult(), getArgs().size(), getOrder(), false);
}

/// What the stencil kernels that write windows of rows share: `inputs` flat channels of one
/// type, every result a window of rows (rank 2) of that element type.
static LogicalResult verifyRowWindows(Operation *op, ValueRange inputs) {
  auto in = cast<RankedTensorType>(inputs.front().getType());
  for (Value v : inputs)
    if (v.getType() != in || in.getRank() != 1)
      return op->emitOpError("inputs must be flat channels of one type, got ") << v.getType();
  for (Value r : op->getResults()) {
    auto out = cast<RankedTensorType>(r.getType());
    if (out.getRank() != 2 || out.getElementType() != in.getElementType())
      return op->emitOpError("yields windows of rows (rank 2) of the inputs' element type, got ")
             << out;
  }
  return success();
}

/// Checks an LNCC kernel: `inputs` flat channels of one type, results windows of rows of that
/// element type, an odd kernel size and n = 1, 2 or 3 spatial axes (`rank`).
static LogicalResult verifyLncc(Operation *op, ValueRange inputs, size_t expected, int64_t size,
                                int64_t rank) {
  if (inputs.size() != expected)
    return op->emitOpError("expects ") << expected << " flat inputs, got " << inputs.size();
  if (failed(verifyRowWindows(op, inputs)))
    return failure();
  if (size < 1 || size % 2 == 0)
    return op->emitOpError("attribute 'kernel_size' must be odd and positive, got ") << size;
  if (rank < 1 || rank > 3)
    return op->emitOpError("expects args for 1, 2 or 3 spatial axes, got ") << rank;
  return success();
}

LogicalResult LnccMapOp::verify() {
  return verifyLncc(*this, getInputs(), 2, getKernelSize(), getSpatialRank());
}

LogicalResult LnccCoefficientsOp::verify() {
  return verifyLncc(*this, getInputs(), getInputs().size() == 3 ? 3 : 2, getKernelSize(),
                    getSpatialRank());
}

LogicalResult LnccGradOp::verify() {
  return verifyLncc(*this, getInputs(), 5, getKernelSize(), getSpatialRank());
}

/// What med.ssim_pass and med.ssim_adjoint share: input and result counts, flat inputs of one
/// type, windows of rows out, 2 or 3 axes, the axis and the window size.
static LogicalResult verifySsim(Operation *op, ValueRange inputs, size_t wantInputs,
                                size_t wantResults, int64_t n, int64_t axis, int64_t size) {
  if (inputs.size() != wantInputs || op->getNumResults() != wantResults)
    return op->emitOpError("expects ")
           << wantInputs << " inputs and " << wantResults << " results, got " << inputs.size()
           << " and " << op->getNumResults();
  if (failed(verifyRowWindows(op, inputs)))
    return failure();
  if (n < 2 || n > 3)
    return op->emitOpError("expects args for 2 or 3 spatial axes, got ") << n;
  if (axis < 0 || axis >= n)
    return op->emitOpError("attribute 'axis' must name one of the ") << n << " axes, got " << axis;
  if (size < 1)
    return op->emitOpError("attribute 'kernel_size' must be positive, got ") << size;
  return success();
}

LogicalResult SsimPassOp::verify() {
  if (getCoefficients() && !getLast())
    return emitOpError("'coefficients' needs 'last'");
  return verifySsim(*this, getInputs(), getFieldCount(), getResultCount(), getSpatialRank(),
                    getAxis(), getKernelSize());
}

LogicalResult SsimAdjointOp::verify() {
  if (getLast() && getAxis() != 0)
    return emitOpError("'last' needs axis 0, got ") << getAxis();
  return verifySsim(*this, getInputs(), getLast() ? 5 : 3, getLast() ? 1 : 3, getSpatialRank(),
                    getAxis(), getKernelSize());
}

/// The bin count B of a Parzen op: `centres` must be a static tensor<B x f64>, B >= 1.
static FailureOr<int64_t> parzenBins(Operation *op, Value centres) {
  auto type = cast<RankedTensorType>(centres.getType());
  if (type.getRank() != 1 || type.isDynamicDim(0) || type.getDimSize(0) < 1)
    return op->emitOpError("expects static bin centres tensor<B x f64> with B >= 1, got ") << type;
  return type.getDimSize(0);
}

/// A Parzen op's flat block of voxels `input` and `other`, a value of its type (`what` says
/// which: "a result of its type", "its sums of one type").
static LogicalResult flatBlockAnd(Operation *op, Value input, Type other, StringRef what) {
  auto in = cast<RankedTensorType>(input.getType());
  if (in.getRank() != 1 || other != in)
    return op->emitOpError("expects a flat block of voxels and ")
           << what << ", got " << in << " and " << other;
  return success();
}

/// A Parzen gradient's flat input, other image and result, of one type.
static LogicalResult flatGradient(Operation *op, Value input, Value other, Value result) {
  auto in = cast<RankedTensorType>(input.getType());
  if (in.getRank() != 1 || other.getType() != in || result.getType() != in)
    return op->emitOpError("expects flat input, other and result of one type, got ")
           << in << ", " << other.getType() << " and " << result.getType();
  return success();
}

LogicalResult ParzenSumsOp::verify() {
  if (failed(parzenBins(*this, getCentres())))
    return failure();
  return flatBlockAnd(*this, getInput(), getResult().getType(), "a result of its type");
}

LogicalResult ParzenWindowOp::verify() {
  FailureOr<int64_t> bins = parzenBins(*this, getCentres());
  if (failed(bins))
    return failure();
  if (failed(flatBlockAnd(*this, getInput(), getSums().getType(), "its sums of one type")))
    return failure();
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (out.getRank() != 2 || out.getDimSize(0) != *bins ||
      out.getElementType() != in.getElementType() || out.getDimSize(1) != in.getDimSize(0))
    return emitOpError("yields ") << *bins << " rows of the input's voxels and type, got " << out;
  return success();
}

LogicalResult ParzenWindowGradOp::verify() {
  FailureOr<int64_t> bins = parzenBins(*this, getCentres());
  if (failed(bins))
    return failure();
  if (failed(flatGradient(*this, getInput(), getOther(), getResult())))
    return failure();
  auto joint = cast<RankedTensorType>(getJoint().getType());
  if (joint.getRank() != 1 || joint.getDimSize(0) != *bins * *bins)
    return emitOpError("expects the joint derivatives as tensor<")
           << *bins * *bins << "xf64> (bins squared), got " << joint;
  return success();
}

/// A b-spline op's bins (more than 4: two padding bins on each side) and the image's scale
/// as a static tensor<2xf64>.
static LogicalResult bsplineBinsAndScale(Operation *op, int64_t bins, ArrayRef<Value> scales) {
  if (bins <= 4)
    return op->emitOpError("expects more than 4 bins (2 padding bins on each side), got ") << bins;
  for (Value s : scales)
    if (cast<RankedTensorType>(s.getType()) !=
        RankedTensorType::get({2}, Float64Type::get(op->getContext())))
      return op->emitOpError(
                 "expects the scale (bin size, normalised minimum) as tensor<2xf64>, got ")
             << s.getType();
  return success();
}

LogicalResult BsplineSumsOp::verify() {
  if (getOrder() != 0 && getOrder() != 3)
    return emitOpError("expects order 0 or 3, got ") << getOrder();
  if (failed(bsplineBinsAndScale(*this, getBins(), {getScale()})))
    return failure();
  return flatBlockAnd(*this, getInput(), getResult().getType(), "a result of its type");
}

LogicalResult BsplineWindowOp::verify() {
  if (getOrder() != 0 && getOrder() != 3)
    return emitOpError("expects order 0 or 3, got ") << getOrder();
  auto out = cast<RankedTensorType>(getResult().getType());
  if (out.getRank() != 2 || out.isDynamicDim(0))
    return emitOpError("yields a static number of bin rows, got ") << out;
  if (failed(bsplineBinsAndScale(*this, out.getDimSize(0), {getScale()})))
    return failure();
  if (failed(flatBlockAnd(*this, getInput(), getSums().getType(), "its sums of one type")))
    return failure();
  auto in = cast<RankedTensorType>(getInput().getType());
  if (out.getElementType() != in.getElementType() || out.getDimSize(1) != in.getDimSize(0))
    return emitOpError("yields rows of the input's voxels and type, got ") << out;
  return success();
}

LogicalResult BsplineWindowGradOp::verify() {
  if (failed(flatGradient(*this, getInput(), getOther(), getResult())))
    return failure();
  auto joint = cast<RankedTensorType>(getJoint().getType());
  const int64_t n = joint.getRank() == 1 ? joint.getDimSize(0) : -1;
  int64_t bins = 0;
  while (bins * bins < n)
    ++bins;
  if (n < 0 || bins * bins != n)
    return emitOpError("expects the joint derivatives as a static tensor<B^2 x f64>, got ")
           << joint;
  return bsplineBinsAndScale(*this, bins, {getScale(), getOtherScale()});
}
