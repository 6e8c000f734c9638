// Compose, Schedule and CompiledPipeline: trace per input signature, compile through the JIT,
// run through the runtime's launcher.
#include "med/transforms/compose.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <tuple>

#include "compose_plan.h"
#include "med/compiler/JitSession.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/kernels/reductions.h"
#include "med/runtime/launcher.h"
#include "scratch.h"

namespace med::transforms {

using namespace detail; // compose_plan.h: segments, call plans, traced chains

Schedule &Schedule::threads(int n) {
  if (n < 1)
    throw Error("Schedule.threads", "expected at least 1 thread, got " + std::to_string(n));
  threads_ = n;
  return *this;
}

namespace {

// Array transforms work on channel-first images: (C, H, W) or (C, H, W, D).
void checkImage(const at::Tensor &t, const std::string &where) {
  if (!t.defined())
    throw Error(where, "the image tensor is undefined");
  if (t.dim() != 3 && t.dim() != 4) {
    std::ostringstream os;
    os << "expected a channel-first image of rank 3 (C, H, W) or 4 (C, H, W, D), got a tensor "
          "of shape "
       << t.sizes() << "; add EnsureChannelFirst after LoadImage";
    throw Error(where, os.str());
  }
}

struct Stage {
  std::shared_ptr<const compiler::Kernel> kernel;
  rt::DType output;
  bool takesParams;
  /// A gathering stage reads its input whole; its output has the spatial shape of resample
  /// number `shapeIndex` of the segment (CallPlan::shapes). Other stages keep their input's
  /// shape.
  bool gathers = false;
  int shapeIndex = -1;
  /// Whether the kernel takes its resample's displacement (CallPlan::fields) as last buffer.
  bool takesField = false;
};
/// A segment's compiled stages, and which of its traced transforms are copies folded into an
/// earlier resample (planCall composes their maps).
struct Program : std::vector<Stage> {
  std::vector<bool> composed;
};

// The tensor a stage writes for input `in`: the caller's result for the last stage, a pooled
// scratch buffer for the others (only the next stage reads them).
at::Tensor stageOutput(const Stage &stage, const at::Tensor &in, const CallPlan &call, bool last) {
  std::vector<int64_t> size = in.sizes().vec();
  if (stage.gathers) {
    size.resize(1);
    const auto &sp = call.shapes.at(stage.shapeIndex);
    size.insert(size.end(), sp.begin(), sp.end());
  }
  at::ScalarType type = toScalarType(stage.output);
  // The caller will own the last stage's output: from the result pool, memory already mapped
  // once earlier results of this size were dropped (detail::result_tensor).
  return last ? detail::result_tensor(size, type) : detail::scratch_tensor(size, type);
}

// A gathering stage writes whole rows: of its output's innermost axis, or of the view its
// call's plan took (CallPlan::rowLengths).
int64_t rowLength(const Stage &stage, const at::Tensor &out, const CallPlan &call) {
  if (!stage.gathers)
    return 0;
  const int64_t row = call.rowLengths.at(stage.shapeIndex);
  return row > 0 ? row : out.size(out.dim() - 1);
}

// Rows per output slice when a stage's windows go in slice-blocked order (CallPlan::sliceRows).
int64_t sliceRows(const Stage &stage, const CallPlan &call) {
  return stage.gathers ? call.sliceRows.at(stage.shapeIndex) : 0;
}

// The displacement a stage's resample reads, whole on every thread.
rt::BufferRef fieldBuffer(const Stage &stage, CallPlan &call) {
  at::Tensor &f = call.fields.at(stage.shapeIndex);
  if (!f.defined()) // a plan of a transform traced `displaced` must fill its field
    throw Error("Compose", "a displaced resample's plan has no displacement field");
  return {f.data_ptr(), f.numel(), 4, /*split=*/false};
}

// Runs compiled stages on a contiguous tensor; each stage writes a fresh tensor. The call's
// parameters are passed whole to every stage that reads them.
at::Tensor runStages(const Program &prog, at::Tensor cur, int threads, CallPlan &call) {
  std::vector<double> &params = call.params;
  for (size_t i = 0; i < prog.size(); ++i) {
    const Stage &stage = prog[i];
    at::Tensor out = stageOutput(stage, cur, call, i + 1 == prog.size());
    rt::BufferRef buffers[4] = {
        {cur.data_ptr(), cur.numel(), static_cast<int>(cur.element_size()), !stage.gathers},
        {out.data_ptr(), out.numel(), static_cast<int>(out.element_size()), true,
         rowLength(stage, out, call), sliceRows(stage, call)},
        {params.data(), static_cast<int64_t>(params.size()), 8, /*split=*/false}};
    int count = stage.takesParams ? 3 : 2;
    if (stage.takesField)
      buffers[count++] = fieldBuffer(stage, call);
    if (stage.kernel->elementwise)
      rt::launchElementwise(stage.kernel->entry, buffers, count, threads);
    else
      rt::launchWhole(stage.kernel->entry, buffers, count);
    cur = out;
  }
  return cur;
}

} // namespace

struct CompiledPipeline::State {
  std::vector<Step> steps;
  Schedule schedule;
  std::atomic<uint64_t> seed{0}, calls{0};
  std::mutex mutex;
  std::map<std::string, std::vector<Segment>> segments; // per key
  // (key, segment index, input type, spatial rank of the segment) -> compiled stages
  std::map<std::tuple<std::string, size_t, rt::DType, int>, std::shared_ptr<const Program>>
      programs;
  int64_t compiles = 0, hits = 0;
  // Compiles started ahead of need (startCompiles); destroying the state waits for them.
  std::vector<std::future<void>> ahead;

  // The kernels that running `segs` after segment `index` (whose input is `type`) will ask
  // for: the reduction kernels the statistics of segment `index` and later ones come from, and
  // the later segments' kernels, each traced for the type the one before it yields, up to the
  // first host step (its output type is unknown until it runs). A trace that fails is left to
  // fail where the segment runs.
  std::vector<std::string> laterKernels(const std::vector<Segment> &segs, size_t index,
                                        rt::DType type, int rank) const {
    std::vector<std::string> irs;
    try {
      for (size_t j = index; j < segs.size() && !segs[j].host; ++j) {
        for (const Placed &p : segs[j].traced) {
          const Reduction r = reductionOf(p.transform);
          if (r == Reduction::Extrema)
            irs.push_back(kernels::extrema_ir(toScalarType(type)));
          else if (r != Reduction::None)
            irs.push_back(kernels::moments_ir(toScalarType(type), r == Reduction::MomentsNonzero));
        }
        for (const frontend::ChainSpec &chain :
             traceChains(segs[j].traced, type, rank, schedule.fuse(), schedule.microkernels())) {
          if (j > index)
            irs.push_back(irOf(chain));
          type = chain.output();
        }
      }
    } catch (const Error &) {
    }
    return irs;
  }

  // Starts compiling `irs` in the background, the costliest first: the JIT runs as many
  // compiles at once as there are cores, in the order asked, so a cold pipeline waits about
  // as long as its costliest kernel or its total work over the cores, whichever is longer,
  // rather than for one segment's kernels after another's.
  void startCompiles(std::vector<std::string> irs) {
    ahead.erase(std::remove_if(ahead.begin(), ahead.end(),
                               [](std::future<void> &f) {
                                 return f.wait_for(std::chrono::seconds(0)) ==
                                        std::future_status::ready;
                               }),
                ahead.end());
    std::stable_sort(irs.begin(), irs.end(), [](const std::string &a, const std::string &b) {
      return compileCostEstimate(a) > compileCostEstimate(b);
    });
    for (const std::string &ir : irs)
      ahead.push_back(compiler::JitSession::global().prefetch(ir));
  }

  std::vector<Segment> segmentsFor(const std::string &key) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = segments.find(key);
    if (it == segments.end())
      it = segments.emplace(key, segmentsOf(transformsFor(steps, key))).first;
    return it->second;
  }

  std::shared_ptr<const Program> program(const std::string &key, size_t index, const Segment &seg,
                                         rt::DType input, int rank) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = programs.find({key, index, input, rank});
    if (it != programs.end()) {
      ++hits;
      return it->second;
    }
    auto prog = std::make_shared<Program>();
    const std::vector<frontend::ChainSpec> chains = traceChains(
        seg.traced, input, rank, schedule.fuse(), schedule.microkernels(), &prog->composed);
    std::vector<std::string> irs;
    for (const frontend::ChainSpec &chain : chains)
      irs.push_back(irOf(chain));
    std::vector<std::string> all = irs;
    if (auto segs = segments.find(key); segs != segments.end())
      for (std::string &ir : laterKernels(segs->second, index, input, rank))
        all.push_back(std::move(ir));
    startCompiles(std::move(all));
    using Compiled = std::pair<std::shared_ptr<const compiler::Kernel>, std::string>;
    std::vector<Compiled> kernels;
    for (const std::string &ir : irs) {
      std::string error;
      auto kernel = compiler::JitSession::global().compile(ir, &error); // waits for its compile
      kernels.push_back({kernel, error});
    }
    int resamples = 0;
    for (size_t c = 0; c < chains.size(); ++c) {
      if (!kernels[c].first)
        throw Error("Compose", "compiling the traced chain failed: " + kernels[c].second);
      const bool gathers = chains[c].gathers();
      resamples += gathers ? 1 : 0;
      prog->push_back({kernels[c].first, chains[c].output(), chains[c].numParams > 0, gathers,
                       resamples - 1, chains[c].readsField()});
      ++compiles;
    }
    programs.emplace(std::make_tuple(key, index, input, rank), prog);
    return prog;
  }

  // Runs segment `i` on one image.
  MetaTensor runSegment(const std::string &key, size_t i, const Segment &seg, const MetaTensor &cur,
                        const rt::RandomKey &rk) {
    if (seg.host)
      return applyEager(*seg.host, cur, rk);
    std::string where = key.empty() ? "Compose" : "Compose[" + key + "]";
    // Kernels index voxels in memory order; contiguous input makes that the logical order,
    // which per-voxel random streams depend on.
    at::Tensor data = cur.data.contiguous();
    const int rank = static_cast<int>(data.dim()) - 1;
    auto prog = program(key, i, seg, toDType(data.scalar_type(), where), rank);
    if (seg.perChannel) { // intensity only: no resample, metadata unchanged
      std::vector<at::Tensor> channels;
      for (int64_t c = 0; c < data.size(0); ++c) {
        CallPlan call = planCall(seg, rk, data[c], c, cur.meta, schedule.threads(), prog->composed);
        channels.push_back(runStages(*prog, data[c], schedule.threads(), call));
      }
      return cur.withData(at::stack(channels));
    }
    CallPlan call = planCall(seg, rk, data, 0, cur.meta, schedule.threads(), prog->composed);
    at::Tensor out = runStages(*prog, data, schedule.threads(), call);
    return MetaTensor(out, std::move(call.meta));
  }

  MetaTensor run(const std::string &key, const MetaTensor &img, const rt::RandomKey &rk) {
    checkImage(img.data, key.empty() ? "Compose" : "Compose[" + key + "]");
    std::vector<Segment> segs = segmentsFor(key);
    MetaTensor cur = img;
    for (size_t i = 0; i < segs.size(); ++i)
      cur = runSegment(key, i, segs[i], cur, rk);
    return cur;
  }

  // A batch advances segment by segment; each compiled stage is one launch for all samples.
  // Samples go through the whole chain in groups of about kGroupBytes of input, one launch per
  // stage and group: a group's intermediates (and the input of a statistics split) are still in
  // cache when the next stage reads them, while small images still share launches across the
  // threads. On one thread there is nothing to share, so each sample is its own group. (A batch
  // as one group, eight 128^3 images, measured 1.1-1.2x slower per sample than one sample at a
  // time; grouped, 0.95-1.0x.)
  static constexpr int64_t kGroupBytes = int64_t(4) << 20;

  std::vector<MetaTensor> runBatch(const std::vector<MetaTensor> &imgs,
                                   const std::vector<rt::RandomKey> &keys) {
    for (const MetaTensor &m : imgs)
      checkImage(m.data, "Compose");
    std::vector<MetaTensor> out;
    out.reserve(imgs.size());
    for (size_t g0 = 0; g0 < imgs.size();) {
      size_t g1 = g0 + 1;
      int64_t bytes = imgs[g0].data.nbytes();
      const int64_t budget = schedule.threads() > 1 ? kGroupBytes : 0;
      while (g1 < imgs.size() && bytes + int64_t(imgs[g1].data.nbytes()) <= budget)
        bytes += imgs[g1++].data.nbytes();
      std::vector<MetaTensor> group(imgs.begin() + g0, imgs.begin() + g1);
      std::vector<rt::RandomKey> groupKeys(keys.begin() + g0, keys.begin() + g1);
      for (MetaTensor &m : runGroup(group, groupKeys))
        out.push_back(std::move(m));
      g0 = g1;
    }
    return out;
  }

  // One group of runBatch. Host steps, per-channel segments and groups of mixed dtypes run
  // sample by sample.
  std::vector<MetaTensor> runGroup(const std::vector<MetaTensor> &imgs,
                                   const std::vector<rt::RandomKey> &keys) {
    std::vector<Segment> segs = segmentsFor("");
    std::vector<MetaTensor> cur = imgs;
    const size_t n = cur.size();
    for (size_t i = 0; i < segs.size(); ++i) {
      bool sameType = true;
      for (const MetaTensor &m : cur)
        sameType &= m.data.scalar_type() == cur[0].data.scalar_type();
      if (segs[i].host || segs[i].perChannel || !sameType || n == 0) {
        for (size_t b = 0; b < n; ++b)
          cur[b] = runSegment("", i, segs[i], cur[b], keys[b]);
        continue;
      }
      bool sameRank = true;
      for (const MetaTensor &m : cur)
        sameRank &= m.data.dim() == cur[0].data.dim();
      if (!sameRank) {
        for (size_t b = 0; b < n; ++b)
          cur[b] = runSegment("", i, segs[i], cur[b], keys[b]);
        continue;
      }
      auto prog = program("", i, segs[i], toDType(cur[0].data.scalar_type(), "Compose"),
                          static_cast<int>(cur[0].data.dim()) - 1);
      std::vector<at::Tensor> data(n);
      std::vector<CallPlan> calls(n);
      for (size_t b = 0; b < n; ++b) {
        data[b] = cur[b].data.contiguous();
        calls[b] =
            planCall(segs[i], keys[b], data[b], 0, cur[b].meta, schedule.threads(), prog->composed);
      }
      detail::scratch_keep(2 * n);
      detail::result_keep(2 * n); // this batch's results while the caller holds the last one's
      for (size_t s = 0; s < prog->size(); ++s) {
        const Stage &stage = (*prog)[s];
        std::vector<at::Tensor> out(n);
        std::vector<rt::BufferRef> buffers;
        for (size_t b = 0; b < n; ++b) {
          out[b] = stageOutput(stage, data[b], calls[b], s + 1 == prog->size());
          buffers.push_back({data[b].data_ptr(), data[b].numel(),
                             static_cast<int>(data[b].element_size()), !stage.gathers});
          buffers.push_back({out[b].data_ptr(), out[b].numel(),
                             static_cast<int>(out[b].element_size()), true,
                             rowLength(stage, out[b], calls[b]), sliceRows(stage, calls[b])});
          if (stage.takesParams)
            buffers.push_back({calls[b].params.data(), static_cast<int64_t>(calls[b].params.size()),
                               8,
                               /*split=*/false});
          if (stage.takesField)
            buffers.push_back(fieldBuffer(stage, calls[b]));
        }
        const int count = (stage.takesParams ? 3 : 2) + (stage.takesField ? 1 : 0);
        rt::launchBatch(stage.kernel->entry, buffers.data(), count, static_cast<int>(n),
                        schedule.threads(), stage.kernel->elementwise);
        data = std::move(out);
      }
      for (size_t b = 0; b < n; ++b)
        cur[b] = MetaTensor(data[b], std::move(calls[b].meta));
    }
    return cur;
  }
};

Compose::Compose(std::vector<Step> steps) : steps_(std::move(steps)) {
  for (const Step &s : steps_)
    if (s.isDictionary() != isDictionary())
      throw Error("Compose", "mixes array and dictionary transforms ('" + s.transform->name() +
                                 "'); use one flavour per Compose");
}

bool Compose::isDictionary() const { return !steps_.empty() && steps_.front().isDictionary(); }

void Compose::set_random_state(uint64_t seed) {
  seed_ = seed;
  *calls_ = 0;
}

MetaTensor Compose::eager(const MetaTensor &img) const {
  return eager(img, rt::RandomKey{seed_, 0, (*calls_)++, 0});
}

MetaTensor Compose::eager(const MetaTensor &img, const rt::RandomKey &key) const {
  if (isDictionary())
    throw Error("Compose", "dictionary transforms need a med::Data, got one image");
  checkImage(img.data, "Compose");
  MetaTensor cur = img;
  for (const Placed &p : transformsFor(steps_, ""))
    cur = applyEager(p, cur, key);
  return cur;
}

namespace {
// Throws for a key that a step needs but `data` lacks, unless the step allows missing keys.
bool hasKey(const Data &data, const Step &s, const std::string &key) {
  if (data.count(key))
    return true;
  if (s.allowMissingKeys)
    return false;
  std::string available;
  for (const auto &[k, v] : data)
    available += (available.empty() ? "" : ", ") + k;
  throw Error(s.transform->name() + "d[" + key + "]",
              "key '" + key + "' is missing from the data (keys: " + available +
                  "); pass allow_missing_keys to skip it");
}
} // namespace

Data Compose::eager(const Data &data) const {
  return eager(data, rt::RandomKey{seed_, 0, (*calls_)++, 0});
}

Data Compose::eager(const Data &data, const rt::RandomKey &rk) const {
  if (!isDictionary() && !steps_.empty())
    throw Error("Compose", "array transforms need one image, got a med::Data");
  Data out = data;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step &s = steps_[i];
    for (const std::string &key : s.keys)
      if (hasKey(out, s, key)) {
        checkImage(out[key].data, "Compose[" + key + "]");
        out[key] = applyEager(Placed{s.transform.get(), static_cast<uint32_t>(i)}, out[key], rk);
      }
  }
  return out;
}

CompiledPipeline Compose::compile(const Schedule &schedule) const {
  auto state = std::make_shared<CompiledPipeline::State>();
  state->steps = steps_;
  state->schedule = schedule;
  state->seed = seed_;
  return CompiledPipeline(state);
}

void CompiledPipeline::set_random_state(uint64_t seed) {
  state_->seed = seed;
  state_->calls = 0;
}

MetaTensor CompiledPipeline::operator()(const MetaTensor &img) const {
  return run(img, rt::RandomKey{state_->seed, 0, state_->calls++, 0});
}

MetaTensor CompiledPipeline::run(const MetaTensor &img, const rt::RandomKey &key) const {
  if (!state_->steps.empty() && state_->steps.front().isDictionary())
    throw Error("Compose", "dictionary transforms need a med::Data, got one image");
  return state_->run("", img, key);
}

std::vector<MetaTensor> CompiledPipeline::runBatch(const std::vector<MetaTensor> &imgs,
                                                   const std::vector<rt::RandomKey> &keys) const {
  if (!state_->steps.empty() && state_->steps.front().isDictionary())
    throw Error("Compose", "runBatch takes images; dictionary pipelines run one med::Data at a "
                           "time");
  if (keys.size() != imgs.size())
    throw Error("CompiledPipeline.runBatch", "expected one random key per image (" +
                                                 std::to_string(imgs.size()) + "), got " +
                                                 std::to_string(keys.size()));
  return state_->runBatch(imgs, keys);
}

Data CompiledPipeline::operator()(const Data &data) const {
  return run(data, rt::RandomKey{state_->seed, 0, state_->calls++, 0});
}

Data CompiledPipeline::run(const Data &data, const rt::RandomKey &rk) const {
  if (!state_->steps.empty() && !state_->steps.front().isDictionary())
    throw Error("Compose", "array transforms need one image, got a med::Data");
  Data out = data;
  std::vector<std::string> keys; // keys in first-use order, each once
  for (const Step &s : state_->steps)
    for (const std::string &key : s.keys)
      if (hasKey(out, s, key) && std::find(keys.begin(), keys.end(), key) == keys.end())
        keys.push_back(key);
  // Intensity chains act per key, so each key's chain is compiled and fused on its own.
  for (const std::string &key : keys)
    out[key] = state_->run(key, out[key], rk);
  return out;
}

std::vector<std::string> CompiledPipeline::ir(c10::ScalarType dtype, const std::string &key,
                                              int spatialRank) const {
  // Host steps are assumed to keep the element type; the IR actually compiled may differ when
  // one does not.
  rt::DType t = toDType(dtype, "CompiledPipeline.ir");
  std::vector<std::string> out;
  for (const Segment &seg : state_->segmentsFor(key))
    for (const frontend::ChainSpec &chain :
         traceChains(seg.traced, t, spatialRank, state_->schedule.fuse(),
                     state_->schedule.microkernels())) {
      out.push_back(irOf(chain));
      t = chain.output();
    }
  return out;
}

int64_t CompiledPipeline::compiles() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->compiles;
}

int64_t CompiledPipeline::hits() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->hits;
}

} // namespace med::transforms
