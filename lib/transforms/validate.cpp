#include "med/core/error.h"
#include "med/transforms/transform.h"

namespace med::transforms {

frontend::OpSpec opWithParams(const Transform &t, frontend::ChainSpec &chain, std::string op,
                              rt::DType result, int n) {
  frontend::OpSpec s;
  s.op = std::move(op);
  s.result = result;
  s.origin = t.name();
  for (int i = 0; i < n; ++i)
    s.operands.push_back(chain.numParams + i);
  chain.numParams += n;
  return s;
}

void validateByTrace(const Transform &t) {
  frontend::ChainSpec chain;
  chain.input = rt::DType::Float32;
  t.trace(chain);
  std::string error;
  if (frontend::traceToIR(chain, &error).empty())
    throw Error(t.name(), error);
}

MetaTensor RandomTransform::eager(const MetaTensor &img) const {
  rt::Rng rng(rt::RandomKey{seed_, 0, (*calls_)++, 0});
  std::vector<double> params;
  sample(rng, params);
  if (needsInputStats())
    inputStats(img.data, params);
  return eager(img, params.data());
}

void RandomHostTransform::trace(frontend::ChainSpec &) const {
  throw Error(name(), "has no med lowering; it runs through its ATen implementation");
}

void HostTransform::trace(frontend::ChainSpec &) const {
  throw Error(name(), "has no med lowering; it runs through its ATen implementation");
}

} // namespace med::transforms
