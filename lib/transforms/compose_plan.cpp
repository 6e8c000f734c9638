// Segments, call plans and traced chains of a compiled Compose (compose_plan.h).
#include "compose_plan.h"

#include <algorithm>
#include <cmath>

#include <c10/util/accumulate.h>

#include "compose_copies.h"
#include "med/core/error.h"
#include "med/kernels/reductions.h"

namespace med::transforms::detail {

std::vector<Placed> transformsFor(const std::vector<Step> &steps, const std::string &key) {
  std::vector<Placed> out;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step &s = steps[i];
    if (!s.isDictionary() || std::find(s.keys.begin(), s.keys.end(), key) != s.keys.end())
      out.push_back({s.transform.get(), static_cast<uint32_t>(i)});
  }
  return out;
}

std::vector<Segment> segmentsOf(const std::vector<Placed> &ts) {
  std::vector<Segment> out;
  for (const Placed &p : ts) {
    if (!p.transform->traceable()) {
      out.push_back(Segment{{}, p});
      continue;
    }
    auto *stats = dynamic_cast<const StatsTransform *>(p.transform);
    if (stats && !stats->needsStats())
      stats = nullptr; // a plain map under its options
    auto *random = dynamic_cast<const RandomTransform *>(p.transform);
    bool reduces = stats || (random && random->needsInputStats());
    if (out.empty() || out.back().host || out.back().perChannel || reduces)
      out.emplace_back();
    out.back().traced.push_back(p);
    out.back().perChannel = stats && stats->channelWise();
  }
  return out;
}

MetaTensor applyEager(const Placed &p, const MetaTensor &img, const rt::RandomKey &key) {
  auto *random = dynamic_cast<const RandomTransform *>(p.transform);
  if (!random)
    return p.transform->eager(img);
  rt::Rng rng(rt::RandomKey{key.seed, key.epoch, key.sample, p.index});
  std::vector<double> params;
  random->sample(rng, params);
  if (random->needsInputStats())
    random->inputStats(img.data, params);
  return random->eager(img, params.data());
}

Reduction reductionOf(const Transform *t) {
  if (auto *random = dynamic_cast<const RandomTransform *>(t))
    return random->needsInputStats() && random->inputStatsAreExtrema() ? Reduction::Extrema
                                                                       : Reduction::None;
  auto *stats = dynamic_cast<const StatsTransform *>(t);
  if (!stats || !stats->needsStats())
    return Reduction::None;
  bool nonzeroOnly = false;
  if (stats->statsAreExtrema() && !stats->channelWise())
    return Reduction::Extrema;
  if (stats->statsAreMoments(&nonzeroOnly))
    return nonzeroOnly ? Reduction::MomentsNonzero : Reduction::Moments;
  return Reduction::None;
}

// A window pass's entry among the resamples' plan starts: it has no voxel map.
constexpr size_t kNoMap = static_cast<size_t>(-1);

CallPlan planCall(const Segment &seg, const rt::RandomKey &key, const at::Tensor &input,
                  int64_t channel, const Meta &meta, int threads,
                  const std::vector<bool> &composed) {
  CallPlan call{{}, {}, {}, {}, {}, meta};
  std::vector<int64_t> shape(input.sizes().begin() + (input.dim() > 0 ? 1 : 0),
                             input.sizes().end());
  size_t lastPlan = 0;        // where the last resample's plan starts in call.params
  std::vector<size_t> starts; // where each resample's plan starts
  std::vector<bool> copies;   // whether each resample is a copy (nearest) with no bounds
  for (size_t t = 0; t < seg.traced.size(); ++t) {
    const Placed &p = seg.traced[t];
    const size_t first = call.params.size();
    auto *random = dynamic_cast<const RandomTransform *>(p.transform);
    // A generated reduction kernel, in parallel; the eager path keeps the transform's own.
    const Reduction reduction = reductionOf(p.transform);
    if (random) {
      rt::Rng rng(rt::RandomKey{key.seed, key.epoch, key.sample, p.index});
      random->sample(rng, call.params);
      if (reduction == Reduction::Extrema) {
        auto [lo, hi] = kernels::extrema(input, threads, random->name());
        call.params.push_back(lo);
        call.params.push_back(hi);
      } else if (random->needsInputStats()) {
        random->inputStats(input, call.params);
      }
    } else if (auto *stats = dynamic_cast<const StatsTransform *>(p.transform);
               stats && stats->needsStats()) {
      if (reduction == Reduction::Extrema) {
        auto [lo, hi] = kernels::extrema(input, threads, stats->name());
        call.params.push_back(lo);
        call.params.push_back(hi);
      } else if (reduction != Reduction::None) {
        const bool nonzeroOnly = reduction == Reduction::MomentsNonzero;
        stats->statsFromMoments(kernels::moments(input, nonzeroOnly, threads, stats->name()),
                                channel, call.params);
      } else {
        stats->stats(input, channel, call.params);
      }
    }
    if (auto *operands = dynamic_cast<const ShapeOperands *>(p.transform)) {
      // A copy of the draws: shapeOperands appends to call.params, which may move them.
      const std::vector<double> draws(call.params.begin() + first, call.params.end());
      operands->shapeOperands(shape, random ? draws.data() : nullptr, call.params);
    }
    if (auto *passes = dynamic_cast<const WindowPasses *>(p.transform))
      for (int64_t k = 0; k < passes->passes(int64_t(shape.size())); ++k) {
        call.shapes.push_back(shape); // the image keeps its shape and metadata
        call.fields.emplace_back();
        starts.push_back(kNoMap);
        copies.push_back(false);
      }
    if (auto *spatial = dynamic_cast<const Resampling *>(p.transform)) {
      ResamplePlan plan =
          spatial->plan(shape, call.meta, random ? call.params.data() + first : nullptr);
      const bool joins = t < composed.size() && composed[t];
      if (joins)
        detail::composeInto(call.params, lastPlan, plan);
      else
        lastPlan = call.params.size();
      // A joined copy's own slots stay reserved, so later operands keep their offsets.
      appendPlan(shape, plan, call.params);
      shape = plan.shape;
      if (joins) {
        call.shapes.back() = shape;
      } else {
        call.shapes.push_back(shape);
        if (plan.field.defined() &&
            plan.field.numel() != int64_t(shape.size()) * c10::multiply_integers(shape))
          throw Error(p.transform->name(), "the plan's displacement holds " +
                                               std::to_string(plan.field.numel()) +
                                               " values, expected one per axis and output voxel");
        call.fields.push_back(plan.field.defined() ? plan.field.to(at::kFloat).contiguous()
                                                   : plan.field);
        starts.push_back(lastPlan);
        copies.push_back(detail::copiesInside(p.transform) && plan.bounds.empty());
      }
      call.meta = std::move(plan.meta);
    }
  }
  // After every copy has been composed into its resample: the final maps decide.
  for (size_t r = 0; r < starts.size(); ++r) {
    const std::vector<int64_t> &out = call.shapes[r];
    // Copies only: an interpolating kernel would find no interior run on the view's axis of
    // one voxel (the resample microkernel's blocks would all take the general formula).
    const bool copy = copies[r] && !call.fields[r].defined();
    const int64_t row =
        copy && out.size() == 3 ? collapseInnerAxes(call.params.data() + starts[r]) : 0;
    call.rowLengths.push_back(row);
    call.sliceRows.push_back(
        starts[r] == kNoMap || row > 0
            ? 0
            : sliceBlockedRows(out, call.params.data() + starts[r] + 2 * out.size()));
  }
  return call;
}

int64_t collapseInnerAxes(double *map) {
  double *in = map, *out = map + 3;
  const double *m = map + 6; // m[i * 4 + j]: input axis i, output axis j (3: the shift)
  // Input axes 1 and 2 are output axes 1 and 2, and input axis 0 depends on output axis 0 only.
  static constexpr double kKept[2][4] = {{0, 1, 0, 0}, {0, 0, 1, 0}};
  for (int i = 1; i < 3; ++i) {
    if (in[i] != out[i])
      return 0;
    for (int j = 0; j < 4; ++j)
      if (m[i * 4 + j] != kKept[i - 1][j])
        return 0;
  }
  if (m[1] != 0.0 || m[2] != 0.0)
    return 0;
  // The view (size 0, 1, size 1 x size 2): the same matrix maps it.
  const double row = in[1] * in[2];
  in[1] = out[1] = 1.0;
  in[2] = out[2] = row;
  return static_cast<int64_t>(row);
}

int64_t sliceBlockedRows(const std::vector<int64_t> &out, const double *matrix) {
  if (out.size() != 3)
    return 0;
  // Input slices one output row crosses: the row's step along input axis 0, times its length.
  const double crossed = std::abs(matrix[2]) * static_cast<double>(out[2]);
  return crossed >= kBlockingSlicesCrossed ? out[1] : 0;
}

std::vector<frontend::ChainSpec> traceChains(const std::vector<Placed> &ts, rt::DType input,
                                             int rank, bool fuse, bool microkernels,
                                             std::vector<bool> *composedOut) {
  frontend::ChainSpec whole;
  whole.input = input;
  whole.spatialRank = rank;
  std::vector<size_t> first;
  std::vector<const Transform *> traced;
  for (const Placed &p : ts) {
    first.push_back(whole.ops.size());
    traced.push_back(p.transform);
    p.transform->trace(whole);
  }
  first.push_back(whole.ops.size());
  // Fused: a copy after a copy joins its resample (composedCopies); its op is left out.
  std::vector<bool> composed(ts.size(), false), skip(whole.ops.size(), false);
  if (fuse)
    composed = detail::composedCopies(traced, whole, first);
  for (size_t t = 0; t < ts.size(); ++t)
    for (size_t k = first[t]; composed[t] && k < first[t + 1]; ++k)
      skip[k] = true;
  if (composedOut)
    *composedOut = composed;
  // Fused: one kernel per run of ops, a new run at each op that reduces first (a kernel with a
  // reduction runs on one thread and would recompute its fused producers), at a second
  // resample (a kernel computes one window of its output, and a resample reads its whole
  // input), and at an interpolating resample (its prologue would run at each of the 2^n
  // corners it reads: ScaleIntensityRange before a trilinear RandAffine measured 17 ms as its
  // own pass + gather against 22 ms fused, 128^3 on one thread). A copy (copiesInside: one
  // read per output voxel) keeps any prologue; another nearest resample only a cheap one
  // (OpSpec::cheap), as it may read a voxel many times. A heavy op after an interpolating
  // resample starts a kernel too: LLVM vectorises the gather's loop for the gather, and the
  // noise's 64-bit Philox lanes in it cost more than the pass they save (docs/architecture.md).
  // Unfused: one per op.
  std::vector<bool> copies(whole.ops.size(), false);
  for (size_t t = 0; t < ts.size(); ++t)
    for (size_t k = first[t]; k < first[t + 1]; ++k)
      copies[k] = detail::copiesInside(traced[t]);
  std::vector<frontend::ChainSpec> chains;
  rt::DType cur = input;
  auto interpolates = [](const frontend::OpSpec &o) {
    return std::find(o.strings.begin(), o.strings.end(),
                     std::pair<std::string, std::string>{"mode", "nearest"}) == o.strings.end();
  };
  auto allCheap = [](const frontend::ChainSpec &c) {
    return std::all_of(c.ops.begin(), c.ops.end(),
                       [](const frontend::OpSpec &o) { return o.cheap; });
  };
  auto interpolating = [&](const frontend::ChainSpec &c) {
    return std::any_of(c.ops.begin(), c.ops.end(),
                       [&](const frontend::OpSpec &o) { return o.resamples && interpolates(o); });
  };
  for (size_t k = 0; k < whole.ops.size(); ++k) {
    if (skip[k])
      continue;
    const frontend::OpSpec &op = whole.ops[k];
    bool split = chains.empty() || !fuse || !op.elementwise;
    if (!split && op.resamples)
      split =
          chains.back().gathers() || interpolates(op) || (!copies[k] && !allCheap(chains.back()));
    if (!split && !op.cheap)
      split = interpolating(chains.back());
    // Gaussian noise and coarse dropout run in kernels of their own: alone, the CPU target calls
    // their microkernels, which the generated loop with fused ops does not reach; the pass this
    // costs is the smaller part (intensity_aug at 1x256^3, one thread: 50.7 ms with
    // ScaleIntensityRange fused before the noise, 36.0 ms with it apart; the dropout's generated
    // box tests cost 4 ns a voxel, a pass over memory a fraction of that).
    auto alone = [](const std::string &name) {
      return name == "gaussian_noise" || name == "coarse_dropout";
    };
    if (!split && (alone(op.op) || alone(chains.back().ops.back().op)))
      split = true;
    if (split) {
      chains.push_back(frontend::ChainSpec{cur, {}, whole.numParams});
      chains.back().spatialRank = rank;
      chains.back().microkernels = microkernels;
    }
    chains.back().ops.push_back(op);
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

double compileCostEstimate(const std::string &ir) {
  const bool gathers = ir.find("med.resample") != std::string::npos;
  const bool noise = ir.find("med.gaussian_noise") != std::string::npos;
  return static_cast<double>(ir.size()) * (noise ? 4.0 : gathers ? 3.0 : 1.0);
}

} // namespace med::transforms::detail
