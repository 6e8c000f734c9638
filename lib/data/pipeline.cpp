// Pipeline: a dictionary Compose, its split at the first random step, and its fingerprint.
#include <sstream>

#include "data_internal.h"
#include "med/core/error.h"
#include "med/data/dataset.h"
#include "med/runtime/dtype.h"

namespace med::data {

namespace T = med::transforms;

namespace {
// A step that never runs: it stands in for the prefix in a suffix Compose so that the remaining
// random steps keep their index (their random stream). Its key is never present in the data.
class Skip : public T::HostTransform {
public:
  std::string name() const override { return "Skip"; }
  MetaTensor eager(const MetaTensor &img) const override { return img; }
};
const char *kSkipKey = "\x01med.data.skip";

bool isRandom(const T::Step &s) {
  return dynamic_cast<const T::RandomTransform *>(s.transform.get()) != nullptr;
}
} // namespace

Pipeline::Pipeline(T::Compose compose) : Pipeline(std::move(compose), std::nullopt) {}
Pipeline::Pipeline(T::Compose compose, T::Schedule schedule)
    : Pipeline(std::move(compose), std::optional<T::Schedule>(schedule)) {}

Pipeline::Pipeline(T::Compose compose, std::optional<T::Schedule> schedule)
    : compose_(std::move(compose)), schedule_(schedule) {
  if (!compose_->steps().empty() && !compose_->isDictionary())
    throw Error("Dataset.transform", "expected a Compose of dictionary transforms (\"...d\"), "
                                     "since dataset items are med::Data; got array transforms");
  if (schedule_)
    compiled_ = compose_->compile(*schedule_);
}

Data Pipeline::operator()(const Data &data, const rt::RandomKey &key) const {
  if (empty())
    return data;
  if (compiled_)
    return compiled_->run(data, key);
  return compose_->eager(data, key);
}

size_t Pipeline::firstRandom() const {
  if (!compose_)
    return 0;
  const auto &steps = compose_->steps();
  for (size_t i = 0; i < steps.size(); ++i)
    if (isRandom(steps[i]))
      return i;
  return steps.size();
}

Pipeline Pipeline::prefix() const {
  if (!compose_)
    return {};
  const auto &steps = compose_->steps();
  std::vector<T::Step> out(steps.begin(), steps.begin() + firstRandom());
  return Pipeline(T::Compose(std::move(out)), schedule_);
}

Pipeline Pipeline::suffix() const {
  if (!compose_)
    return {};
  const auto &steps = compose_->steps();
  size_t k = firstRandom();
  if (k == steps.size())
    return {};
  std::vector<T::Step> out;
  for (size_t i = 0; i < k; ++i) {
    T::Step skip{Skip()};
    skip.keys = {kSkipKey};
    skip.allowMissingKeys = true;
    out.push_back(std::move(skip));
  }
  out.insert(out.end(), steps.begin() + k, steps.end());
  return Pipeline(T::Compose(std::move(out)), schedule_);
}

namespace {
// The ops `t` traces for a float32 and for an int16 input, with their result types: a cast's
// target is its op's result type, and casts to the type they meet trace nothing, so
// EnsureType() and EnsureType(float32) differ only on the int16 probe.
void describeOps(std::ostream &os, const T::Transform &t) {
  for (rt::DType input : {rt::DType::Float32, rt::DType::Int16}) {
    frontend::ChainSpec chain;
    chain.input = input;
    chain.spatialRank = 3;
    t.trace(chain);
    os << " in " << rt::dtypeName(input);
    for (const frontend::OpSpec &op : chain.ops) {
      os << " op " << op.op << "->" << rt::dtypeName(op.result);
      for (const auto &[k, v] : op.attrs)
        os << ' ' << k << '=' << v;
      for (const auto &f : op.flags)
        os << ' ' << f;
      for (const auto &[k, v] : op.strings)
        os << ' ' << k << '=' << v;
    }
  }
}
} // namespace

std::string Pipeline::fingerprint() const {
  std::ostringstream os;
  os.precision(17);
  if (compose_) {
    for (const T::Step &s : compose_->steps()) {
      const T::Transform &t = *s.transform;
      os << '[' << t.name();
      for (const auto &k : s.keys)
        os << " key=" << k;
      os << " missing=" << s.allowMissingKeys;
      // Traced ops carry the static parameters as attributes; a spatial transform's geometry
      // lives in its plan, so a probe plan stands for its parameters.
      try {
        if (t.traceable() && !isRandom(s))
          describeOps(os, t);
      } catch (const std::exception &) {
        os << " untraceable";
      }
      if (auto *r = dynamic_cast<const T::Resampling *>(&t); r && !isRandom(s)) {
        try {
          T::ResamplePlan p = r->plan({11, 13, 17}, Meta{}, nullptr);
          for (int64_t v : p.shape)
            os << ' ' << v;
          for (double v : p.matrix)
            os << ' ' << v;
          for (double v : p.meta.affine)
            os << ' ' << v;
        } catch (const std::exception &) {
          os << " noplan";
        }
      }
      os << ']';
    }
  }
  return detail::hex64(detail::fnv1a(os.str()));
}

} // namespace med::data
