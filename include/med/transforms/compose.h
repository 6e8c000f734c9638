// Compose (the algorithm) and Schedule (where and how it runs). A schedule never changes
// results: tests run the same Compose under several schedules and compare.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "med/transforms/transform.h"

namespace med::transforms {

/// How a compiled pipeline runs. `fuse(false)` compiles one kernel per op (what "unfused" means
/// in benchmarks); threads splits each kernel's buffer across the launcher's pool;
/// `microkernels(false)` keeps every op in generated code where the CPU target would call one of
/// the runtime's precompiled routines (ukernels.h) for an op alone in its kernel. No setting
/// changes a result, which the tests check by comparing schedules.
///
///   auto s = med::Schedule::cpu().threads(2);
class Schedule {
public:
  static Schedule cpu() { return Schedule(); }
  Schedule &threads(int n);
  Schedule &fuse(bool v) {
    fuse_ = v;
    return *this;
  }
  Schedule &microkernels(bool v) {
    microkernels_ = v;
    return *this;
  }
  int threads() const { return threads_; }
  bool fuse() const { return fuse_; }
  bool microkernels() const { return microkernels_; }

private:
  int threads_ = 1;
  bool fuse_ = true;
  bool microkernels_ = true;
};

class CompiledPipeline;

/// A sequence of transforms, array or dictionary flavour (not mixed), as MONAI's Compose.
///
///   namespace T = med::transforms;
///   auto chain = T::Compose({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 255, 0, 1)),
///                            T::ThresholdIntensity(T::ThresholdIntensityOptions(0.2))});
///   auto run = chain.compile(T::Schedule::cpu().threads(2));
///   med::MetaTensor out = run(img);
class Compose {
public:
  Compose(std::vector<Step> steps);
  const std::vector<Step> &steps() const { return steps_; }
  bool isDictionary() const;
  /// Runs the eager reference (each transform's ATen implementation in turn). Random transforms
  /// draw from the stream (seed, epoch, sample, their index in this Compose); without a key the
  /// sample index counts this Compose's calls since set_random_state.
  MetaTensor eager(const MetaTensor &img) const;
  MetaTensor eager(const MetaTensor &img, const rt::RandomKey &key) const;
  Data eager(const Data &data) const;
  Data eager(const Data &data, const rt::RandomKey &key) const;
  /// MONAI's set_random_state(seed): the seed of every random transform in this Compose; also
  /// restarts the call count. Compiled pipelines copy the seed when compiled.
  void set_random_state(uint64_t seed);
  /// Compiles the chain for `schedule`; kernels are traced and compiled on first use per input
  /// element type, then cached.
  CompiledPipeline compile(const Schedule &schedule = Schedule::cpu()) const;

private:
  std::vector<Step> steps_;
  uint64_t seed_ = 0;
  std::shared_ptr<std::atomic<uint64_t>> calls_ = std::make_shared<std::atomic<uint64_t>>(0);
};

/// A compiled Compose. Cheap to copy (shares its kernel cache); safe to call from several
/// threads.
class CompiledPipeline {
public:
  /// Runs on the next sample of this pipeline's stream (seed, epoch 0, calls so far).
  MetaTensor operator()(const MetaTensor &img) const;
  Data operator()(const Data &data) const;
  /// Runs with an explicit random key (data loaders pass epoch and sample index), so results do
  /// not depend on which worker or batch ran the sample. Equals Compose::eager(img, key).
  MetaTensor run(const MetaTensor &img, const rt::RandomKey &key) const;
  Data run(const Data &data, const rt::RandomKey &key) const;
  /// Runs a batch with one kernel launch per compiled stage for all samples, each with its own
  /// key (random parameters). Results equal run(imgs[i], keys[i]) exactly; images may differ in
  /// shape.
  std::vector<MetaTensor> runBatch(const std::vector<MetaTensor> &imgs,
                                   const std::vector<rt::RandomKey> &keys) const;
  void set_random_state(uint64_t seed);
  /// The med IR traced for an input of element type `dtype` with `spatialRank` spatial axes,
  /// one module per kernel; for `key` in dictionary pipelines.
  std::vector<std::string> ir(c10::ScalarType dtype, const std::string &key = "",
                              int spatialRank = 3) const;
  /// Kernels compiled and cache hits so far (per-signature cache of this pipeline).
  int64_t compiles() const;
  int64_t hits() const;

  struct State;

private:
  friend class Compose;
  explicit CompiledPipeline(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

} // namespace med::transforms
