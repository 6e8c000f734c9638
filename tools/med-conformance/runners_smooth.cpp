// Runners for the neighbourhood intensity transforms (smooth.h): MONAI kwargs -> Options.
// The random augmentations of smooth.h / intensity_aug.h have no golden cases (their streams do
// not reproduce numpy's), so only GaussianSmooth and GaussianSharpen are registered.
#include <vector>

#include "med/transforms/smooth.h"
#include "registry.h"

namespace med::conformance {
namespace T = med::transforms;

namespace {

std::vector<double> numbersOr(Kwargs &kw, const std::string &key, std::vector<double> dflt) {
  std::vector<double> v = kw.numbers(key); // empty when absent
  return v.empty() ? dflt : v;
}

T::Step gaussianSmooth(Kwargs &kw) {
  T::GaussianSmoothOptions o(numbersOr(kw, "sigma", {1.0}));
  o.approx(kw.string("approx", "erf"));
  return T::GaussianSmooth(o);
}

T::Step gaussianSharpen(Kwargs &kw) {
  T::GaussianSharpenOptions o;
  o.sigma1(numbersOr(kw, "sigma1", {3.0})).sigma2(numbersOr(kw, "sigma2", {1.0}));
  o.alpha(kw.number("alpha", 30.0)).approx(kw.string("approx", "erf"));
  return T::GaussianSharpen(o);
}

} // namespace

void registerSmoothRunners(Registry &r) {
  r.addTransform("GaussianSmooth", gaussianSmooth);
  r.addTransform("GaussianSharpen", gaussianSharpen);
}

} // namespace med::conformance
