// Runners for the intensity transform cases: one factory per Medulla transform (MONAI kwargs ->
// Options); Compose cases chain the factories (runners_compose.cpp). Every case runs through the
// compiled pipeline.
//
// Adding a transform: r.addTransform("Name", factory) where the factory reads every MONAI kwarg
// the case may carry (MONAI's default when absent), calls kw.only(...) or throws Unsupported(...)
// for values Medulla does not implement; kwargs left unread make the case UNSUPPORTED.
//
// That registers the single-transform runner (input `img` -> output `out`, compiled pipeline)
// and makes the name usable as a Compose step. A transform whose case stores more than `out`
// (Affine's `affine_matrix`, CropForeground's `box_start`/`box_end`, Orientation's axcodes)
// also gets its own runner, r.add("Name", [](const Case &c) -> Outputs {...}), filling
// Outputs::arrays / Outputs::scalars under the names case.json uses (see runners_spatial.cpp).
#include <optional>

#include "med/core/error.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_stats.h"
#include "registry.h"

namespace med::conformance {
using nlohmann::json;
namespace T = med::transforms;

namespace {

// MONAI kwargs whose default is a number but which accept None: absent -> `dflt`, null -> None.
std::optional<double> numberOrNone(Kwargs &kw, const std::string &key, double dflt) {
  const json &v = kw.raw(key);
  if (v.is_null())
    return kw.has(key) ? std::optional<double>() : std::optional<double>(dflt);
  return kw.number(key);
}

// Medulla's float-producing intensity transforms write float32, MONAI's default `dtype`.
void float32Only(Kwargs &kw) {
  kw.only("dtype", {"float32"}, "Medulla writes float32 only (MONAI's default dtype)");
}

T::Step scaleIntensityRange(Kwargs &kw) {
  T::ScaleIntensityRangeOptions o(kw.number("a_min"), kw.number("a_max"));
  o.b_min(kw.optNumber("b_min")).b_max(kw.optNumber("b_max")).clip(kw.boolean("clip", false));
  float32Only(kw);
  if (o.clip() && (!o.b_min() || !o.b_max()))
    throw Unsupported("ScaleIntensityRange(clip=True) with b_min or b_max None (one-sided clip)");
  return T::ScaleIntensityRange(o);
}

T::Step shiftIntensity(Kwargs &kw) {
  T::ShiftIntensityOptions o(kw.number("offset"));
  kw.only("safe", {false}, "safe=True (clamping to the dtype's range) is not implemented");
  return T::ShiftIntensity(o);
}

T::Step scaleIntensity(Kwargs &kw) {
  T::ScaleIntensityOptions o;
  o.minv(numberOrNone(kw, "minv", 0.0)).maxv(numberOrNone(kw, "maxv", 1.0));
  o.factor(kw.optNumber("factor"));
  kw.only("channel_wise", {false}, "channel_wise=True is not implemented");
  float32Only(kw);
  return T::ScaleIntensity(o);
}

T::Step thresholdIntensity(Kwargs &kw) {
  T::ThresholdIntensityOptions o(kw.number("threshold"));
  o.above(kw.boolean("above", true)).cval(kw.number("cval", 0.0));
  return T::ThresholdIntensity(o);
}

// Statistics transforms (split at the reduction, see docs/architecture.md).
T::Step normalizeIntensity(Kwargs &kw) {
  T::NormalizeIntensityOptions o;
  o.subtrahend(kw.numbers("subtrahend")).divisor(kw.numbers("divisor"));
  o.nonzero(kw.boolean("nonzero", false)).channel_wise(kw.boolean("channel_wise", false));
  float32Only(kw);
  return T::NormalizeIntensity(o);
}

T::Step scaleIntensityRangePercentiles(Kwargs &kw) {
  T::ScaleIntensityRangePercentilesOptions o(kw.number("lower"), kw.number("upper"),
                                             kw.optNumber("b_min"), kw.optNumber("b_max"));
  o.clip(kw.boolean("clip", false)).relative(kw.boolean("relative", false));
  o.channel_wise(kw.boolean("channel_wise", false));
  float32Only(kw);
  return T::ScaleIntensityRangePercentiles(o);
}

T::Step clipIntensityPercentiles(Kwargs &kw) {
  T::ClipIntensityPercentilesOptions o(kw.optNumber("lower"), kw.optNumber("upper"));
  o.channel_wise(kw.boolean("channel_wise", false));
  kw.only("sharpness_factor", {nullptr}, "soft clipping (sharpness_factor) is not implemented");
  kw.only("return_clipping_values", {false}, "return_clipping_values is not implemented");
  float32Only(kw);
  return T::ClipIntensityPercentiles(o);
}

T::Step stdShiftIntensity(Kwargs &kw) {
  T::StdShiftIntensityOptions o(kw.number("factor"));
  o.nonzero(kw.boolean("nonzero", false)).channel_wise(kw.boolean("channel_wise", false));
  float32Only(kw);
  return T::StdShiftIntensity(o);
}

} // namespace

void registerTransformRunners(Registry &r) {
  r.addTransform("ScaleIntensityRange", scaleIntensityRange);
  r.addTransform("ShiftIntensity", shiftIntensity);
  r.addTransform("ScaleIntensity", scaleIntensity);
  r.addTransform("ThresholdIntensity", thresholdIntensity);
  r.addTransform("NormalizeIntensity", normalizeIntensity);
  r.addTransform("ScaleIntensityRangePercentiles", scaleIntensityRangePercentiles);
  r.addTransform("ClipIntensityPercentiles", clipIntensityPercentiles);
  r.addTransform("StdShiftIntensity", stdShiftIntensity);
  // ClipIntensity has no MONAI class of that name, so no golden case can name it.
}

} // namespace med::conformance
