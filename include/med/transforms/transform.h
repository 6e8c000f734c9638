// The transform interfaces of the DSL: array transforms (one image), dictionary transforms (keys
// of a med::Data), and the type-erased handle Compose stores.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "med/core/dict.h"
#include "med/core/meta_tensor.h"
#include "med/frontends/Chain.h"
#include "med/runtime/rng.h"

namespace med::transforms {

/// An array transform: MONAI's computation on one channel-first image. Every transform has two
/// implementations that tests hold equal: `eager` (plain ATen, op by op, as MONAI computes it)
/// and `trace` (med ops, compiled and fused by Compose::compile).
class Transform {
public:
  virtual ~Transform() = default;
  /// MONAI's class name, used in errors and traces.
  virtual std::string name() const = 0;
  /// The unfused reference: plain ATen ops.
  virtual MetaTensor eager(const MetaTensor &img) const = 0;
  /// Whether `trace` emits med ops. Compose runs a transform that does not (see HostTransform)
  /// through its `eager` implementation, which ends the fused region before it.
  virtual bool traceable() const { return true; }
  /// Appends this transform's med ops to `chain` (whose current element type is
  /// chain.output()). Throws med::Error when the parameters do not fit that element type.
  virtual void trace(frontend::ChainSpec &chain) const = 0;
};

/// Base of transforms that have no med lowering (yet) or call host code: inside a compiled
/// pipeline they run their ATen implementation between fused kernels, as a fusion barrier.
class HostTransform : public Transform {
public:
  bool traceable() const final { return false; }
  /// Never called by Compose; throws med::Error if called directly.
  void trace(frontend::ChainSpec &chain) const final;
};

/// A transform with random parameters (MONAI's RandomizableTransform). Each call's parameters are
/// drawn on the host from a counter-based stream keyed by (seed, epoch, sample, transform index)
/// and passed to the compiled kernel as operands, so one kernel serves every draw and results do
/// not depend on threads or batch composition.
///
///   auto t = RandShiftIntensity(RandShiftIntensityOptions(10).prob(1.0));
///   t.set_random_state(0);
///   MetaTensor out = t.eager(img);   // draws with (seed 0, sample = number of earlier calls)
class RandomTransform : public Transform {
public:
  RandomTransform() : calls_(std::make_shared<std::atomic<uint64_t>>(0)) {}
  /// Number of per-call parameters sample() appends and the traced ops read.
  virtual int numParams() const = 0;
  /// Appends this call's parameters (first one: 1 if the transform fires, else 0).
  virtual void sample(rt::Rng &rng, std::vector<double> &params) const = 0;
  /// Whether the parameters also need statistics of this transform's input (an image-wide
  /// reduction such as min/max): a compiled pipeline then starts a new kernel here and appends
  /// inputStats() of the materialised input after sample()'s draws.
  virtual bool needsInputStats() const { return false; }
  virtual void inputStats(const at::Tensor &input, std::vector<double> &params) const {}
  /// True when inputStats() appends exactly the input's (min, max) in its compute type: a
  /// compiled pipeline then gets them from a generated reduction kernel (med.extrema, run in
  /// parallel) instead; the eager reference keeps calling inputStats(), so the two are checked
  /// against each other.
  virtual bool inputStatsAreExtrema() const { return false; }
  /// The reference with given parameters (what sample() drew, then inputStats()).
  virtual MetaTensor eager(const MetaTensor &img, const double *params) const = 0;
  /// Standalone use: draws from (seed, epoch 0, sample = calls so far, transform 0).
  MetaTensor eager(const MetaTensor &img) const override;
  /// MONAI's set_random_state(seed): restarts this transform's standalone stream.
  void set_random_state(uint64_t seed) {
    seed_ = seed;
    *calls_ = 0;
  }

private:
  uint64_t seed_ = 0;
  std::shared_ptr<std::atomic<uint64_t>> calls_;
};

/// A transform whose parameters are statistics of its own input (MONAI's NormalizeIntensity,
/// ScaleIntensityRangePercentiles, ...). Compiled by splitting at the reduction: Compose starts a
/// new kernel at it, so its input is materialised, computes `stats` on the host and passes them to
/// the kernel as per-call operands (as RandomTransform's draws). A channel-wise one runs in a
/// kernel of its own, launched once per channel with that channel's statistics.
class StatsTransform : public Transform {
public:
  /// Number of parameters stats() appends (per channel when channelWise()).
  virtual int numParams() const = 0;
  /// Whether statistics are taken per channel: stats/apply then see channel `channel` alone.
  virtual bool channelWise() const { return false; }
  /// Appends the parameters computed from `input` (the image, or channel `channel` of it).
  virtual void stats(const at::Tensor &input, int64_t channel,
                     std::vector<double> &params) const = 0;
  /// The ATen reference with given parameters (what stats() computed).
  virtual at::Tensor apply(const at::Tensor &input, const double *params) const = 0;
  /// False when this instance's options make it a plain map (ScaleIntensity with `factor`):
  /// Compose then neither splits the chain here nor calls stats().
  virtual bool needsStats() const { return true; }
  /// True when stats() appends exactly the input's (min, max) in its compute type: a compiled
  /// pipeline then takes them from a generated reduction kernel (med.extrema, in parallel); the
  /// eager reference keeps stats(), so the two check each other. Not with channelWise().
  virtual bool statsAreExtrema() const { return false; }
  /// True when stats() needs only the count, sum and sum of squares of the input's values as
  /// float32 (of the nonzero ones when `*nonzeroOnly` is set): a compiled pipeline then takes
  /// them from a generated med.moments kernel (in parallel, per channel when channelWise()) and
  /// calls statsFromMoments(); the eager reference keeps stats().
  virtual bool statsAreMoments(bool *nonzeroOnly) const {
    (void)nonzeroOnly;
    return false;
  }
  /// What stats() appends, from `moments` = {n, sum v, sum v^2} of the (channel's) input.
  virtual void statsFromMoments(const std::array<double, 3> &moments, int64_t channel,
                                std::vector<double> &params) const {
    (void)moments, (void)channel, (void)params;
  }
  /// stats() then apply(), per channel when channelWise().
  MetaTensor eager(const MetaTensor &img) const override;
};

/// Base of the random transforms that run on the host (no med lowering yet): Compose runs
/// eager(img, params) between kernels with the parameters sample() drew for the call.
///
///   Compose({ScaleIntensity(), RandFlip(RandFlipOptions(0).prob(0.5))}).compile()
///   // a kernel for ScaleIntensity, then RandFlip on the host with the call's draws
class RandomHostTransform : public RandomTransform {
public:
  bool traceable() const final { return false; }
  /// Never called by Compose; throws med::Error if called directly.
  void trace(frontend::ChainSpec &chain) const final;
};

/// A med op of `t` whose operands are `n` per-call parameters, reserved now in `chain` (random
/// draws or statistics; the pipeline fills them in the same order on every call).
frontend::OpSpec opWithParams(const Transform &t, frontend::ChainSpec &chain, std::string op,
                              rt::DType result, int n);

/// One call of a spatial transform, as its compiled form needs it: output voxel o reads input
/// voxel position M (o, 1). Computed on the host per call (from the input's shape, metadata and
/// the call's random draws) and passed to the kernel as operands.
struct ResamplePlan {
  std::vector<int64_t> shape; ///< output spatial shape
  std::vector<double> matrix; ///< M: n x (n+1), row-major, output voxel -> input voxel
  Meta meta;                  ///< output metadata: affine and inversion record as eager writes
  /// When the resample was traced `bounded`: the first and last output index per axis (lo0,
  /// hi0, lo1, ...); indices outside repeat the edge, or read 0 when traced `zeroOutside`
  /// (Zoom's keep_size padding). Else empty.
  std::vector<double> bounds = {};
  /// When the resample was traced `displaced`: a float32 tensor of shape (n, *shape), the
  /// displacement d(o) in output voxels that output voxel o adds to its index before M maps it
  /// (an elastic deformation). Else undefined.
  at::Tensor field = {};
};

/// Implemented by transforms whose compiled form is one med.resample (Affine, RandAffine, Flip,
/// RandFlip, ...). Their `eager` stays the reference; `plan` gives the same geometry and
/// metadata without touching voxels, so a compiled pipeline updates metadata on the host while
/// the kernel moves the data.
///
///   ResamplePlan p = Flip(FlipOptions({0})).plan({64, 64, 32}, img.meta, nullptr);
///   // p.matrix = {-1, 0, 0, 63,  0, 1, 0, 0,  0, 0, 1, 0}
class Resampling {
public:
  virtual ~Resampling() = default;
  /// The plan for an image of spatial shape `shape` with metadata `meta`; `params` are the
  /// call's draws (what sample() appended; nullptr for a deterministic transform).
  virtual ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                            const double *params) const = 0;
};

/// Implemented by traced transforms whose kernel operands depend on the image's spatial shape
/// (not known when tracing: one kernel serves every size). After the call's draws, the pipeline
/// calls shapeOperands() once to fill the parameters the transform reserved while tracing.
class ShapeOperands {
public:
  virtual ~ShapeOperands() = default;
  /// Appends the reserved operands for an image of spatial shape `shape`; `draws` are what
  /// sample() appended for this call (nullptr for a deterministic transform).
  virtual void shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                             std::vector<double> &params) const = 0;
};

/// Implemented by transforms whose compiled form is a run of window passes that keep the
/// image's shape and metadata (a separable filter: one med.filter_axis per spatial axis). A pass
/// reads its whole input like a resample, so each is a kernel of its own; shapeOperands() gives
/// each pass's shape and taps, pass by pass.
///
///   GaussianSmooth(GaussianSmoothOptions(1.0)).shapeOperands({64, 64, 32}, nullptr, params);
///   // params: 64, 64, 32, then the 9 taps of axis 0; the same for axes 1 and 2
class WindowPasses : public ShapeOperands {
public:
  /// Passes traced for an image with `rank` spatial axes.
  virtual int64_t passes(int64_t rank) const = 0;
};

/// Appends a med.filter_axis of `t` along spatial `axis` with `taps` taps (odd) to `chain`,
/// reserving the spatial shape and the taps as per-call parameters; float32 result.
void tracePass(const Transform &t, frontend::ChainSpec &chain, int64_t axis, int64_t taps);

/// Appends `t`'s med.resample to `chain` (mode "nearest" | "floor" | "bilinear" | "bicubic" |
/// "area", padding "zeros" | "border" | "reflection" | "reflection_corners" | "wrap", defined
/// in MedOps.td; bicubic needs 2 spatial axes, else med::Error naming `t`'s mode; result
/// element type as `t`'s eager output), reserving the 2n + n(n+1) parameters a ResamplePlan
/// fills: input shape, output shape, matrix; `bounded` reserves 2n more for
/// ResamplePlan::bounds, which every plan of `t` must then fill, and `zeroOutside` makes the
/// voxels outside the bounds 0 instead of the box's edge; `displaced` makes the kernel read
/// ResamplePlan::field, which every plan of `t` must then fill. Throws med::Error when
/// chain.spatialRank is not 2 or 3.
void traceResample(const Transform &t, frontend::ChainSpec &chain, const std::string &mode,
                   const std::string &padding, rt::DType result, bool bounded = false,
                   bool zeroOutside = false, bool displaced = false);
/// Whether med.resample implements grid_sample's `mode` and `padding` (others run on the host).
bool resampleSupports(const std::string &mode, const std::string &padding);
/// med.resample's padding_mode for grid_sample's `padding` with `alignCorners`: reflection
/// mirrors at -0.5 and size - 0.5 (the image's edges) without align_corners, and at 0 and
/// size - 1 (the outer voxel centres, "reflection_corners") with it; the others are the same
/// either way.
///
///   tracedPadding("reflection", true) == "reflection_corners"
std::string tracedPadding(const std::string &padding, bool alignCorners);

/// The parameters traceResample reserved, from a plan for an input of spatial shape `in`.
void appendPlan(const std::vector<int64_t> &in, const ResamplePlan &plan,
                std::vector<double> &params);

/// The plan of a permutation with flips (Flip, Rotate90): output axis j reads input axis
/// perm[j], reversed where flip[j]; a copy with no interpolation.
ResamplePlan permutePlan(const std::vector<int64_t> &shape, const Meta &meta,
                         const std::vector<int64_t> &perm, const std::vector<bool> &flip);

/// Checks a transform's parameters by tracing it on float32 and running the med verifier, so the
/// dialect's verifiers are the one place where parameters are validated. Throws med::Error
/// naming the transform and the parameter.
void validateByTrace(const Transform &t);

/// The dictionary form of an array transform (MONAI's "...d" classes): applies `T` to each key.
///
///   auto t = med::transforms::ScaleIntensityRanged({"image"},
///                ScaleIntensityRangeOptions(-57, 164, 0, 1).clip(true));
template <class T> class Dictionary {
public:
  Dictionary(std::vector<std::string> keys, typename T::Options options,
             bool allow_missing_keys = false)
      : keys_(std::move(keys)), inner_(std::make_shared<T>(std::move(options))),
        allowMissingKeys_(allow_missing_keys) {}
  const std::vector<std::string> &keys() const { return keys_; }
  std::shared_ptr<const Transform> inner() const { return inner_; }
  bool allowMissingKeys() const { return allowMissingKeys_; }

private:
  std::vector<std::string> keys_;
  std::shared_ptr<const T> inner_;
  bool allowMissingKeys_;
};

/// What Compose holds: an array transform, or an array transform applied to some keys.
struct Step {
  std::shared_ptr<const Transform> transform;
  std::vector<std::string> keys; ///< empty for an array step
  bool allowMissingKeys = false;
  bool isDictionary() const { return !keys.empty(); }

  template <class T> Step(T t) : transform(std::make_shared<T>(std::move(t))) {}
  template <class T>
  Step(Dictionary<T> d)
      : transform(d.inner()), keys(d.keys()), allowMissingKeys(d.allowMissingKeys()) {}
};

} // namespace med::transforms
