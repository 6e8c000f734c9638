// The runner registry, the kwargs reader and the compiled-pipeline helper.
#include "registry.h"

#include <algorithm>

#include "med/core/error.h"
#include "med/transforms/compose.h"

namespace med::conformance {
using nlohmann::json;
namespace T = med::transforms;

Kwargs::Kwargs(std::string owner, const json &kwargs)
    : owner_(std::move(owner)), kwargs_(kwargs.is_object() ? kwargs : json::object()) {
  if (!kwargs.is_object() && !kwargs.is_null())
    throw Error(owner_, "expected the kwargs as a JSON object, got " + kwargs.dump());
}

const json &Kwargs::get(const std::string &key) {
  static const json null;
  if (std::find(used_.begin(), used_.end(), key) == used_.end())
    used_.push_back(key);
  auto it = kwargs_.find(key);
  return it == kwargs_.end() ? null : *it;
}

bool Kwargs::has(const std::string &key) const {
  auto it = kwargs_.find(key);
  return it != kwargs_.end() && !it->is_null();
}

double Kwargs::number(const std::string &key) {
  const json &v = get(key);
  if (v.is_null())
    throw Error(owner_ + "." + key, "required kwarg missing from the case");
  if (!v.is_number())
    throw Error(owner_ + "." + key, "expected a number, got " + v.dump());
  return v.get<double>();
}

double Kwargs::number(const std::string &key, double dflt) {
  if (!has(key)) {
    get(key);
    return dflt;
  }
  return number(key);
}

std::optional<double> Kwargs::optNumber(const std::string &key) {
  if (!has(key)) {
    get(key);
    return std::nullopt;
  }
  return number(key);
}

bool Kwargs::boolean(const std::string &key, bool dflt) {
  const json &v = get(key);
  if (v.is_null())
    return dflt;
  if (!v.is_boolean())
    throw Error(owner_ + "." + key, "expected true or false, got " + v.dump());
  return v.get<bool>();
}

std::string Kwargs::string(const std::string &key, const std::string &dflt) {
  const json &v = get(key);
  if (v.is_null())
    return dflt;
  if (!v.is_string())
    throw Error(owner_ + "." + key, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

std::vector<double> Kwargs::numbers(const std::string &key) {
  const json &v = get(key);
  std::vector<double> out;
  if (v.is_number())
    return {v.get<double>()};
  if (v.is_array())
    for (const json &e : v) {
      if (!e.is_number())
        throw Error(owner_ + "." + key, "expected numbers, got " + v.dump());
      out.push_back(e.get<double>());
    }
  else if (!v.is_null())
    throw Error(owner_ + "." + key, "expected a number or a list of numbers, got " + v.dump());
  return out;
}

std::vector<int64_t> Kwargs::ints(const std::string &key) {
  const json &v = get(key);
  std::vector<int64_t> out;
  if (v.is_number_integer())
    return {v.get<int64_t>()};
  if (v.is_array())
    for (const json &e : v) {
      if (!e.is_number_integer())
        throw Error(owner_ + "." + key, "expected integers, got " + v.dump());
      out.push_back(e.get<int64_t>());
    }
  else if (!v.is_null())
    throw Error(owner_ + "." + key, "expected an integer or a list of integers, got " + v.dump());
  return out;
}

std::vector<int64_t> Kwargs::ints(const std::string &key, std::vector<int64_t> dflt) {
  if (!has(key)) {
    get(key);
    return dflt;
  }
  return ints(key);
}

int64_t Kwargs::integer(const std::string &key, int64_t dflt) {
  const json &v = get(key);
  if (v.is_null())
    return dflt;
  if (!v.is_number_integer())
    throw Error(owner_ + "." + key, "expected an integer, got " + v.dump());
  return v.get<int64_t>();
}

const json &Kwargs::raw(const std::string &key) { return get(key); }

void Kwargs::only(const std::string &key, const std::vector<json> &allowed,
                  const std::string &why) {
  const json &v = get(key);
  if (!kwargs_.contains(key))
    return;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
    throw Unsupported(owner_ + "(" + key + "=" + v.dump() + "): " + why);
}

void Kwargs::finish() const {
  std::string unknown;
  for (const auto &[k, v] : kwargs_.items())
    if (std::find(used_.begin(), used_.end(), k) == used_.end())
      unknown += (unknown.empty() ? "" : ", ") + k + "=" + v.dump();
  if (!unknown.empty())
    throw Unsupported(owner_ + ": kwarg(s) not implemented: " + unknown);
}

const Registry &Registry::global() {
  // Built in place (not copied) so runners may keep references to it.
  static const Registry *r = [] {
    auto *reg = new Registry;
    registerTransformRunners(*reg);
    registerComposeRunners(*reg);
    registerSpatialRunners(*reg);
    registerResampleRunners(*reg);
    registerSmoothRunners(*reg);
    registerInferenceRunners(*reg);
    registerLossRunners(*reg);
    registerMetricRunners(*reg);
    registerNetworkRunners(*reg);
    registerVitNetworkRunners(*reg);
    registerCnnNetworkRunners(*reg);
    registerMoreNetworkRunners(*reg);
    registerRegNetworkRunners(*reg);
    registerVaeNetworkRunners(*reg);
    return reg;
  }();
  return *r;
}

void Registry::add(const std::string &call, Runner runner) { runners_[call] = std::move(runner); }

void Registry::addTransform(const std::string &name, StepFactory factory) {
  transforms_[name] = factory;
  runners_[name] = [name, factory](const Case &c) {
    Kwargs kw(name, c.params);
    T::Step step = factory(kw);
    kw.finish();
    Outputs out;
    out.arrays["out"] = runCompiled({step}, c.input("img"));
    return out;
  };
}

const Runner *Registry::find(const std::string &call) const {
  auto it = runners_.find(call);
  return it == runners_.end() ? nullptr : &it->second;
}

const StepFactory *Registry::findTransform(const std::string &name) const {
  auto it = transforms_.find(name);
  return it == transforms_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::calls() const {
  std::vector<std::string> out;
  for (const auto &[k, v] : runners_)
    out.push_back(k);
  return out;
}

T::Step Registry::buildStep(const std::string &name, const json &kwargs) const {
  const StepFactory *f = findTransform(name);
  if (!f)
    throw Unsupported("no Medulla transform for MONAI's " + name + " yet");
  Kwargs kw(name, kwargs);
  T::Step step = (*f)(kw);
  kw.finish();
  return step;
}

MetaTensor runCompiled(const std::vector<T::Step> &steps, const MetaTensor &img) {
  return T::Compose(steps).compile(T::Schedule::cpu().threads(1))(img);
}

} // namespace med::conformance
