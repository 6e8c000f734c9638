// Array, affine and scalar comparisons with the golden README's tolerances.
#include "compare.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "case.h"

namespace med::conformance {
using nlohmann::json;

namespace {

std::string shapeText(at::IntArrayRef s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i)
    os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

std::string num(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

// Index tuple of flat position `flat` in a C-ordered array of shape `s`.
std::string indexText(int64_t flat, at::IntArrayRef s) {
  std::vector<int64_t> idx(s.size());
  for (size_t i = s.size(); i-- > 0;) {
    idx[i] = s[i] ? flat % s[i] : 0;
    flat = s[i] ? flat / s[i] : 0;
  }
  return shapeText(idx);
}

Mismatch fail(std::string reason, double maxAbsErr = 0.0) {
  return Mismatch{false, maxAbsErr, std::move(reason)};
}

// The largest finite |v| in a JSON value (numbers, possibly nested).
double maxFiniteMagnitude(const json &j) {
  if (j.is_number()) {
    double v = j.get<double>();
    return std::isfinite(v) ? std::abs(v) : 0.0;
  }
  double m = 0.0;
  if (j.is_array() || j.is_object())
    for (const json &e : j)
      m = std::max(m, maxFiniteMagnitude(e));
  return m;
}

Mismatch compareScalarAt(const json &ours, const json &ref, const Tolerance &tol, double atolEff,
                         const std::string &path) {
  auto where = [&](const std::string &what) {
    return (path.empty() ? std::string() : path + ": ") + what;
  };
  if (ref.is_number_integer() || ref.is_number_unsigned()) {
    if (!ours.is_number() || ours.get<double>() != ref.get<double>())
      return fail(where(ours.dump() + " != " + ref.dump() + " (integers must match exactly)"));
    return {};
  }
  if (ref.is_number_float()) {
    if (!ours.is_number())
      return fail(where("expected a number, got " + ours.dump()));
    double o = ours.get<double>(), r = ref.get<double>();
    if (!std::isfinite(r) || !std::isfinite(o)) {
      bool same = std::isnan(r) ? std::isnan(o) : o == r;
      return same ? Mismatch{} : fail(where(num(o) + " != " + num(r) + " (non-finite)"));
    }
    double err = std::abs(o - r);
    if (err > atolEff + tol.rtol * std::abs(r))
      return fail(where(num(o) + " != " + num(r) + " (abs err " + num(err) + ")"), err);
    return Mismatch{true, err, ""};
  }
  if (ref.is_array()) {
    if (!ours.is_array() || ours.size() != ref.size())
      return fail(where("expected a list of " + std::to_string(ref.size()) + ", got " +
                        ours.dump().substr(0, 80)));
    Mismatch total;
    for (size_t i = 0; i < ref.size(); ++i) {
      Mismatch m =
          compareScalarAt(ours[i], ref[i], tol, atolEff, path + "[" + std::to_string(i) + "]");
      if (!m.ok)
        return m;
      total.maxAbsErr = std::max(total.maxAbsErr, m.maxAbsErr);
    }
    return total;
  }
  if (ref.is_object()) {
    if (!ours.is_object())
      return fail(where("expected an object, got " + ours.dump().substr(0, 80)));
    Mismatch total;
    for (const auto &[k, v] : ref.items()) {
      if (!ours.contains(k))
        return fail(where("missing key '" + k + "'"));
      Mismatch m = compareScalarAt(ours[k], v, tol, atolEff, path + "." + k);
      if (!m.ok)
        return m;
      total.maxAbsErr = std::max(total.maxAbsErr, m.maxAbsErr);
    }
    return total;
  }
  if (ours != ref)
    return fail(where(ours.dump().substr(0, 80) + " != " + ref.dump().substr(0, 80)));
  return {};
}

} // namespace

Tolerance toleranceFor(const Case &c) {
  static const std::set<std::string> distance = {"HausdorffDistanceMetric", "SurfaceDistanceMetric",
                                                 "SurfaceDiceMetric"};
  if (c.category == "metrics" && distance.count(c.callName))
    return Tolerance{0.0, 1e-4, false};
  return Tolerance{};
}

Mismatch compareArray(const at::Tensor &ours, const at::Tensor &ref, const Tolerance &tol) {
  if (!ours.sizes().equals(ref.sizes()))
    return fail("shape " + shapeText(ours.sizes()) + ", expected " + shapeText(ref.sizes()));
  if (ours.scalar_type() != ref.scalar_type())
    return fail("dtype " + dtypeName(ours) + ", expected " + dtypeName(ref));
  if (ref.numel() == 0)
    return {};
  at::Tensor o = ours.detach().cpu().to(at::kDouble).contiguous().flatten();
  at::Tensor r = ref.detach().cpu().to(at::kDouble).contiguous().flatten();

  // Non-finite values must sit at the same places and be of the same kind.
  at::Tensor kindO = at::isnan(o).to(at::kChar) + 2 * at::isposinf(o).to(at::kChar) +
                     3 * at::isneginf(o).to(at::kChar);
  at::Tensor kindR = at::isnan(r).to(at::kChar) + 2 * at::isposinf(r).to(at::kChar) +
                     3 * at::isneginf(r).to(at::kChar);
  at::Tensor kindDiff = kindO.ne(kindR);
  if (kindDiff.any().item<bool>()) {
    int64_t n = kindDiff.sum().item<int64_t>();
    int64_t first = kindDiff.nonzero()[0][0].item<int64_t>();
    return fail(std::to_string(n) + " non-finite mismatch(es), first at " +
                indexText(first, ref.sizes()) + " (ours " + num(o[first].item<double>()) +
                ", ref " + num(r[first].item<double>()) + ")");
  }
  at::Tensor finite = at::isfinite(r);
  at::Tensor zero = at::zeros_like(r);
  at::Tensor rf = at::where(finite, r, zero), of = at::where(finite, o, zero);
  double refMax = rf.abs().max().item<double>();
  double atolEff = tol.scaleAtol ? tol.atol * std::max(1.0, refMax) : tol.atol;
  at::Tensor err = (of - rf).abs();
  double maxErr = err.max().item<double>();
  at::Tensor bad = err.gt(rf.abs() * tol.rtol + atolEff);
  if (bad.any().item<bool>()) {
    int64_t n = bad.sum().item<int64_t>();
    int64_t worst = err.argmax().item<int64_t>();
    return fail(std::to_string(n) + " of " + std::to_string(r.numel()) +
                    " values outside tolerance, max abs err " + num(maxErr) + " at " +
                    indexText(worst, ref.sizes()) + " (ours " + num(o[worst].item<double>()) +
                    ", ref " + num(r[worst].item<double>()) + ")",
                maxErr);
  }
  return Mismatch{true, maxErr, ""};
}

Mismatch compareAffine(const Affine &ours, const Affine &ref) {
  double refMax = 0.0, err = 0.0;
  for (size_t i = 0; i < 16; ++i) {
    refMax = std::max(refMax, std::abs(ref[i]));
    err = std::max(err, std::abs(ours[i] - ref[i]));
  }
  if (!(err <= 1e-6 * std::max(1.0, refMax))) {
    std::ostringstream os;
    os << "affine differs by " << num(err) << ": ours [";
    for (size_t i = 0; i < 16; ++i)
      os << (i ? (i % 4 ? ", " : "; ") : "") << num(ours[i]);
    os << "], ref [";
    for (size_t i = 0; i < 16; ++i)
      os << (i ? (i % 4 ? ", " : "; ") : "") << num(ref[i]);
    os << "]";
    return fail(os.str());
  }
  return {};
}

Mismatch compareScalar(const json &ours, const json &ref, const Tolerance &tol) {
  double atolEff = tol.scaleAtol ? tol.atol * std::max(1.0, maxFiniteMagnitude(ref)) : tol.atol;
  return compareScalarAt(ours, ref, tol, atolEff, "");
}

} // namespace med::conformance
