// Compose, Schedule and CompiledPipeline: trace per input signature, compile through the JIT,
// run through the runtime's launcher.
#include "med/transforms/compose.h"

#include <ATen/Functions.h>

#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

#include "med/compiler/JitSession.h"
#include "med/core/dtype.h"
#include "med/core/error.h"
#include "med/runtime/launcher.h"

namespace med::transforms {

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

// The transforms of `steps` that apply to `key` (all of them for an array pipeline).
std::vector<const Transform *> transformsFor(const std::vector<Step> &steps,
                                             const std::string &key) {
  std::vector<const Transform *> out;
  for (const Step &s : steps)
    if (!s.isDictionary() ||
        std::find(s.keys.begin(), s.keys.end(), key) != s.keys.end())
      out.push_back(s.transform.get());
  return out;
}

// A run of traceable transforms (compiled together) or one host transform (run eagerly).
struct Segment {
  std::vector<const Transform *> traced;
  const Transform *host = nullptr;
};

std::vector<Segment> segmentsOf(const std::vector<const Transform *> &ts) {
  std::vector<Segment> out;
  for (const Transform *t : ts) {
    if (!t->traceable()) {
      out.push_back(Segment{{}, t});
      continue;
    }
    if (out.empty() || out.back().host)
      out.emplace_back();
    out.back().traced.push_back(t);
  }
  return out;
}

// Traced chains for one input type: one chain for a fused schedule, one per op otherwise.
std::vector<frontend::ChainSpec> traceChains(const std::vector<const Transform *> &ts,
                                             rt::DType input, bool fuse) {
  frontend::ChainSpec whole;
  whole.input = input;
  for (const Transform *t : ts)
    t->trace(whole);
  if (fuse || whole.ops.size() <= 1)
    return whole.ops.empty() ? std::vector<frontend::ChainSpec>{} : std::vector{whole};
  std::vector<frontend::ChainSpec> chains;
  rt::DType cur = input;
  for (const frontend::OpSpec &op : whole.ops) {
    chains.push_back(frontend::ChainSpec{cur, {op}});
    cur = op.result;
  }
  return chains;
}

std::string irOf(const frontend::ChainSpec &chain) {
  std::string error, origin;
  std::string ir = frontend::traceToIR(chain, &error, &origin);
  if (ir.empty())
    throw Error(origin.empty() ? "Compose" : origin, error);
  return ir;
}

struct Stage {
  std::shared_ptr<const compiler::Kernel> kernel;
  rt::DType output;
};
using Program = std::vector<Stage>;

// Runs compiled stages on a dense tensor; each stage writes a fresh tensor.
at::Tensor runStages(const Program &prog, at::Tensor cur, int threads) {
  for (const Stage &stage : prog) {
    // empty_like keeps the input's (dense) strides, so both buffers index the same voxels.
    at::Tensor out = at::empty_like(cur, cur.options().dtype(toScalarType(stage.output)));
    rt::BufferRef buffers[2] = {
        {cur.data_ptr(), cur.numel(), static_cast<int>(cur.element_size())},
        {out.data_ptr(), out.numel(), static_cast<int>(out.element_size())}};
    if (stage.kernel->elementwise)
      rt::launchElementwise(stage.kernel->entry, buffers, 2, threads);
    else
      rt::launchWhole(stage.kernel->entry, buffers, 2);
    cur = out;
  }
  return cur;
}

} // namespace

struct CompiledPipeline::State {
  std::vector<Step> steps;
  Schedule schedule;
  std::mutex mutex;
  std::map<std::string, std::vector<Segment>> segments; // per key
  // (key, segment index, input type of the segment) -> compiled stages
  std::map<std::tuple<std::string, size_t, rt::DType>, std::shared_ptr<const Program>> programs;
  int64_t compiles = 0, hits = 0;

  std::vector<Segment> segmentsFor(const std::string &key) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = segments.find(key);
    if (it == segments.end())
      it = segments.emplace(key, segmentsOf(transformsFor(steps, key))).first;
    return it->second;
  }

  std::shared_ptr<const Program> program(const std::string &key, size_t index,
                                         const Segment &seg, rt::DType input) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = programs.find({key, index, input});
    if (it != programs.end()) {
      ++hits;
      return it->second;
    }
    auto prog = std::make_shared<Program>();
    for (const frontend::ChainSpec &chain : traceChains(seg.traced, input, schedule.fuse())) {
      std::string error;
      auto kernel = compiler::JitSession::global().compile(irOf(chain), &error);
      if (!kernel)
        throw Error("Compose", "compiling the traced chain failed: " + error);
      prog->push_back({kernel, chain.output()});
      ++compiles;
    }
    programs.emplace(std::make_tuple(key, index, input), prog);
    return prog;
  }

  MetaTensor run(const std::string &key, const MetaTensor &img) {
    std::string where = key.empty() ? "Compose" : "Compose[" + key + "]";
    checkImage(img.data, where);
    std::vector<Segment> segs = segmentsFor(key);
    MetaTensor cur = img;
    for (size_t i = 0; i < segs.size(); ++i) {
      if (segs[i].host) {
        cur = segs[i].host->eager(cur);
        continue;
      }
      at::Tensor data = cur.data;
      if (!data.is_non_overlapping_and_dense())
        data = data.contiguous();
      auto prog = program(key, i, segs[i], toDType(data.scalar_type(), where));
      cur = cur.withData(runStages(*prog, data, schedule.threads()));
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

MetaTensor Compose::eager(const MetaTensor &img) const {
  if (isDictionary())
    throw Error("Compose", "dictionary transforms need a med::Data, got one image");
  checkImage(img.data, "Compose");
  MetaTensor cur = img;
  for (const Step &s : steps_)
    cur = s.transform->eager(cur);
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
  if (!isDictionary() && !steps_.empty())
    throw Error("Compose", "array transforms need one image, got a med::Data");
  Data out = data;
  for (const Step &s : steps_)
    for (const std::string &key : s.keys)
      if (hasKey(out, s, key)) {
        checkImage(out[key].data, "Compose[" + key + "]");
        out[key] = s.transform->eager(out[key]);
      }
  return out;
}

CompiledPipeline Compose::compile(const Schedule &schedule) const {
  auto state = std::make_shared<CompiledPipeline::State>();
  state->steps = steps_;
  state->schedule = schedule;
  return CompiledPipeline(state);
}

MetaTensor CompiledPipeline::operator()(const MetaTensor &img) const {
  if (!state_->steps.empty() && state_->steps.front().isDictionary())
    throw Error("Compose", "dictionary transforms need a med::Data, got one image");
  return state_->run("", img);
}

Data CompiledPipeline::operator()(const Data &data) const {
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
    out[key] = state_->run(key, out[key]);
  return out;
}

std::vector<std::string> CompiledPipeline::ir(c10::ScalarType dtype,
                                              const std::string &key) const {
  // Host steps are assumed to keep the element type; the IR actually compiled may differ when
  // one does not.
  rt::DType t = toDType(dtype, "CompiledPipeline.ir");
  std::vector<std::string> out;
  for (const Segment &seg : state_->segmentsFor(key))
    for (const frontend::ChainSpec &chain :
         traceChains(seg.traced, t, state_->schedule.fuse())) {
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
