// OneOf, SomeOf, RandomOrder: choices and children's parameters drawn per call, children run
// eagerly in the drawn order.
#include "med/transforms/combinators.h"

#include <cmath>
#include <numeric>

#include "med/core/error.h"

namespace med::transforms {
namespace {

// Normalised weights (uniform when none are given); refuses negative or all-zero weights.
std::vector<double> normalised(const std::string &where, std::vector<double> w, size_t n) {
  if (w.empty())
    w.assign(n, 1.0);
  if (w.size() != n)
    throw Error(where, "expected one weight per transform (" + std::to_string(n) + "), got " +
                           std::to_string(w.size()));
  double sum = 0;
  for (double v : w) {
    if (!(v >= 0) || !std::isfinite(v))
      throw Error(where, "weights must be finite and >= 0");
    sum += v;
  }
  if (sum <= 0)
    throw Error(where, "weights must not all be 0");
  for (double &v : w)
    v /= sum;
  return w;
}

// Index drawn with probabilities `w` among the entries not yet `taken`.
size_t pick(rt::Rng &rng, const std::vector<double> &w, const std::vector<bool> &taken) {
  double total = 0;
  for (size_t i = 0; i < w.size(); ++i)
    total += taken[i] ? 0 : w[i];
  double u = rng.uniform(0, total);
  size_t last = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (taken[i] || w[i] == 0)
      continue;
    last = i;
    if (u < w[i])
      return i;
    u -= w[i];
  }
  return last; // rounding at the top end
}

} // namespace

RandomComposition::RandomComposition(std::vector<Step> children) {
  int offset = 0;
  for (const Step &s : children) {
    if (s.isDictionary())
      throw Error("RandomComposition", "children must be array transforms, got the dictionary "
                                       "form of '" +
                                           s.transform->name() + "'");
    children_.push_back(s.transform);
    offsets_.push_back(offset);
    if (auto *r = dynamic_cast<const RandomTransform *>(s.transform.get()))
      offset += r->numParams();
  }
  if (children_.empty())
    throw Error("RandomComposition", "expected at least one transform");
}

void RandomComposition::trace(frontend::ChainSpec &) const {
  throw Error(name(), "runs its children eagerly; it has no med lowering");
}

int RandomComposition::numParams() const {
  int n = choiceParams();
  for (const auto &c : children_)
    if (auto *r = dynamic_cast<const RandomTransform *>(c.get()))
      n += r->numParams();
  return n;
}

void RandomComposition::sampleChildren(const rt::Rng &rng, std::vector<double> &params) const {
  for (size_t i = 0; i < children_.size(); ++i)
    if (auto *r = dynamic_cast<const RandomTransform *>(children_[i].get())) {
      rt::Rng sub = rng.child(static_cast<uint32_t>(i));
      r->sample(sub, params);
    }
}

MetaTensor RandomComposition::runChild(size_t i, const MetaTensor &img,
                                       const double *params) const {
  if (auto *r = dynamic_cast<const RandomTransform *>(children_[i].get()))
    return r->eager(img, params + choiceParams() + offsets_[i]);
  return children_[i]->eager(img);
}

// --- OneOf ---------------------------------------------------------------------------------------

OneOf::OneOf(std::vector<Step> children, std::vector<double> weights)
    : RandomComposition(std::move(children)) {
  weights_ = normalised("OneOf.weights", std::move(weights), children_.size());
}

void OneOf::sample(rt::Rng &rng, std::vector<double> &params) const {
  params.push_back(static_cast<double>(pick(rng, weights_, std::vector<bool>(weights_.size()))));
  sampleChildren(rng, params);
}

MetaTensor OneOf::eager(const MetaTensor &img, const double *params) const {
  return runChild(static_cast<size_t>(params[0]), img, params);
}

// --- SomeOf --------------------------------------------------------------------------------------

SomeOf::SomeOf(std::vector<Step> children, std::pair<int, int> num_transforms, bool replace,
               std::vector<double> weights)
    : RandomComposition(std::move(children)), numTransforms_(num_transforms), replace_(replace) {
  weights_ = normalised("SomeOf.weights", std::move(weights), children_.size());
  int n = static_cast<int>(children_.size());
  if (num_transforms.first < 0 || num_transforms.first > num_transforms.second ||
      (!replace && num_transforms.second > n))
    throw Error("SomeOf.num_transforms",
                "expected 0 <= min <= max" +
                    std::string(replace ? "" : " <= number of transforms") + ", got (" +
                    std::to_string(num_transforms.first) + ", " +
                    std::to_string(num_transforms.second) + ")");
}

void SomeOf::sample(rt::Rng &rng, std::vector<double> &params) const {
  int lo = numTransforms_.first, hi = numTransforms_.second;
  int count = lo + static_cast<int>(std::floor(rng.uniform(0, hi - lo + 1)));
  count = std::min(count, hi);
  params.push_back(count);
  std::vector<bool> taken(children_.size(), false);
  for (int k = 0; k < maxPicks(); ++k) {
    if (k >= count) {
      params.push_back(-1);
      continue;
    }
    size_t i = pick(rng, weights_, taken);
    if (!replace_)
      taken[i] = true;
    params.push_back(static_cast<double>(i));
  }
  sampleChildren(rng, params);
}

MetaTensor SomeOf::eager(const MetaTensor &img, const double *params) const {
  MetaTensor cur = img;
  for (int k = 0; k < static_cast<int>(params[0]); ++k)
    cur = runChild(static_cast<size_t>(params[1 + k]), cur, params);
  return cur;
}

// --- RandomOrder ---------------------------------------------------------------------------------

RandomOrder::RandomOrder(std::vector<Step> children) : RandomComposition(std::move(children)) {}

void RandomOrder::sample(rt::Rng &rng, std::vector<double> &params) const {
  std::vector<double> uniform(children_.size(), 1.0);
  std::vector<bool> taken(children_.size(), false);
  for (size_t k = 0; k < children_.size(); ++k) {
    size_t i = pick(rng, uniform, taken);
    taken[i] = true;
    params.push_back(static_cast<double>(i));
  }
  sampleChildren(rng, params);
}

MetaTensor RandomOrder::eager(const MetaTensor &img, const double *params) const {
  MetaTensor cur = img;
  for (size_t k = 0; k < children_.size(); ++k)
    cur = runChild(static_cast<size_t>(params[k]), cur, params);
  return cur;
}

} // namespace med::transforms
