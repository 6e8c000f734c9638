// case.json parsing, array loading with checksum checks, and discovery of the cases of a folder.
#include "case.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <regex>

#include "med/core/error.h"
#include "npy.h"

namespace med::conformance {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json readJson(const fs::path &file) {
  std::ifstream in(file);
  if (!in)
    throw Error(file.string(), "cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception &e) {
    throw Error(file.string(), std::string("invalid JSON: ") + e.what());
  }
}

// The field `key` of `j`, which must exist and have the given JSON type.
const json &field(const json &j, const char *key, json::value_t type, const std::string &where) {
  auto it = j.find(key);
  if (it == j.end())
    throw Error(where, std::string("missing field '") + key + "'");
  if (it->type() != type && !(type == json::value_t::number_float && it->is_number()))
    throw Error(where, std::string("field '") + key + "' has the wrong JSON type (" +
                           it->type_name() + ")");
  return *it;
}

Affine parseAffine(const json &a, const std::string &where) {
  if (!a.is_array() || a.size() != 4)
    throw Error(where, "affine must be a 4x4 list of lists");
  Affine m{};
  for (size_t r = 0; r < 4; ++r) {
    if (!a[r].is_array() || a[r].size() != 4)
      throw Error(where, "affine must be a 4x4 list of lists");
    for (size_t c = 0; c < 4; ++c) {
      if (!a[r][c].is_number())
        throw Error(where, "affine entries must be numbers");
      m[r * 4 + c] = a[r][c].get<double>();
    }
  }
  return m;
}

std::map<std::string, ArrayDesc> parseArrays(const json &j, const std::string &where) {
  std::map<std::string, ArrayDesc> out;
  for (const auto &[name, d] : j.items()) {
    std::string w = where + "." + name;
    ArrayDesc a;
    a.name = name;
    a.file = field(d, "file", json::value_t::string, w).get<std::string>();
    for (const json &n : field(d, "shape", json::value_t::array, w))
      a.shape.push_back(n.get<int64_t>());
    a.dtype = field(d, "dtype", json::value_t::string, w).get<std::string>();
    if (d.contains("affine"))
      a.affine = parseAffine(d["affine"], w + ".affine");
    a.checksum = d.value("checksum", json());
    out.emplace(name, std::move(a));
  }
  return out;
}

std::string shapeText(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Compares the array with the checksum its case.json stores. The tolerances only absorb
// summation order; a wrong dtype, offset or byte order is off by far more.
void checkChecksum(const at::Tensor &t, const json &cs, const std::string &file) {
  if (!cs.is_object())
    return;
  at::Tensor d = t.to(at::kDouble).flatten();
  at::Tensor finite = at::isfinite(d);
  at::Tensor v = d.masked_select(finite);
  int64_t nonFinite = d.numel() - v.numel();
  auto bad = [&](const std::string &what, double ours, double stored) {
    throw Error(file, "checksum mismatch (" + what + " " + std::to_string(ours) +
                          ", case.json says " + std::to_string(stored) +
                          "): the file does not hold the array case.json describes");
  };
  if (cs.contains("n_nonfinite") && cs["n_nonfinite"].get<int64_t>() != nonFinite)
    bad("n_nonfinite", double(nonFinite), cs["n_nonfinite"].get<double>());
  if (v.numel() == 0)
    return;
  double absSum = v.abs().sum().item<double>();
  double scale = std::max(1.0, cs.value("abs_sum", absSum));
  if (cs.contains("sum") &&
      std::abs(v.sum().item<double>() - cs["sum"].get<double>()) > 1e-6 * scale)
    bad("sum", v.sum().item<double>(), cs["sum"].get<double>());
  if (cs.contains("abs_sum") && std::abs(absSum - cs["abs_sum"].get<double>()) > 1e-6 * scale)
    bad("abs_sum", absSum, cs["abs_sum"].get<double>());
  for (const char *k : {"min", "max"}) {
    if (!cs.contains(k) || !cs[k].is_number())
      continue;
    double ours = (k[1] == 'i' ? v.min() : v.max()).item<double>();
    double stored = cs[k].get<double>();
    if (std::abs(ours - stored) > 1e-12 * std::max(1.0, std::abs(stored)))
      bad(k, ours, stored);
  }
}

} // namespace

const MetaTensor &Case::input(const std::string &inputName) const {
  auto it = inputData.find(inputName);
  if (it == inputData.end())
    throw Error(name, "the case has no (loaded) input '" + inputName + "'");
  return it->second;
}

Case loadCase(const fs::path &caseJson) {
  const std::string where = caseJson.string();
  json j = readJson(caseJson);
  if (!j.is_object())
    throw Error(where, "expected a JSON object");
  Case c;
  c.raw = j;
  c.dir = caseJson.parent_path();
  c.name = field(j, "case", json::value_t::string, where).get<std::string>();
  size_t slash = c.name.find('/');
  c.category = slash == std::string::npos ? "" : c.name.substr(0, slash);
  c.call = field(j, "call", json::value_t::string, where).get<std::string>();
  c.callName = callName(c.call);
  c.params = decodeNonFinite(field(j, "params", json::value_t::object, where));
  c.inputs = parseArrays(field(j, "inputs", json::value_t::object, where), where + ": inputs");
  c.outputs = parseArrays(field(j, "outputs", json::value_t::object, where), where + ": outputs");
  c.scalars = decodeNonFinite(j.value("scalars", json::object()));
  c.notes = j.value("notes", "");
  return c;
}

MetaTensor loadArray(const Case &c, const ArrayDesc &d) {
  fs::path file = c.dir / d.file;
  at::Tensor t = readNpy(file);
  if (!std::equal(d.shape.begin(), d.shape.end(), t.sizes().begin(), t.sizes().end()))
    throw Error(file.string(),
                "shape " + shapeText(t.sizes()) + ", case.json says " + shapeText(d.shape));
  if (dtypeName(t) != d.dtype)
    throw Error(file.string(), "dtype " + dtypeName(t) + ", case.json says " + d.dtype);
  checkChecksum(t, d.checksum, file.string());
  MetaTensor m(t);
  m.meta.filename_or_obj = file.string();
  if (d.affine) {
    m.meta.affine = *d.affine;
    m.meta.original_affine = *d.affine;
    if (t.dim() > 1)
      m.meta.spatial_shape.assign(t.sizes().begin() + 1, t.sizes().end());
  }
  return m;
}

void loadInputs(Case &c) {
  for (const auto &[name, d] : c.inputs)
    c.inputData[name] = loadArray(c, d);
}

std::vector<CaseRef> findCases(const fs::path &dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(dir.string(), "not a folder (expected a golden folder such as "
                              "golden/monai-1.4.0 or golden/monai-1.4.0/seed0)");
  std::vector<CaseRef> out;
  fs::path manifest = dir / "manifest.json";
  if (fs::exists(manifest)) {
    json m = readJson(manifest);
    if (!m.contains("cases") || !m["cases"].is_array())
      throw Error(manifest.string(), "expected a 'cases' list");
    for (const json &e : m["cases"]) {
      if (!e.is_object() || !e.contains("case") || !e["case"].is_string())
        throw Error(manifest.string(), "every entry of 'cases' needs a 'case' string");
      CaseRef r{e["case"].get<std::string>(), dir / e["case"].get<std::string>() / "case.json"};
      if (!fs::exists(r.caseJson))
        throw Error(r.caseJson.string(), "listed in " + manifest.string() + " but missing");
      out.push_back(std::move(r));
    }
    return out;
  }
  if (fs::exists(dir / "seed0" / "manifest.json"))
    return findCases(dir / "seed0");
  auto add = [&](const fs::path &caseJson) {
    fs::path caseDir = caseJson.parent_path();
    out.push_back(
        {caseDir.parent_path().filename().string() + "/" + caseDir.filename().string(), caseJson});
  };
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file() && it->path().filename() == "case.json")
      add(fs::absolute(it->path()));
  if (ec)
    throw Error(dir.string(), "cannot walk the folder: " + ec.message());
  if (out.empty())
    throw Error(dir.string(), "no manifest.json and no case.json found below this folder");
  std::sort(out.begin(), out.end(),
            [](const CaseRef &a, const CaseRef &b) { return a.name < b.name; });
  return out;
}

std::string callName(const std::string &call) {
  static const std::regex monaiCall(R"(monai\.(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*\()");
  static const std::regex classCall(R"(\b([A-Z]\w*)\s*\()");
  static const std::regex anyCall(R"(\b([A-Za-z_]\w*)\s*\()");
  std::smatch m;
  for (const std::regex *re : {&monaiCall, &classCall, &anyCall})
    if (std::regex_search(call, m, *re))
      return m[1].str();
  return "";
}

json decodeNonFinite(const json &j) {
  if (j.is_string()) {
    const std::string &s = j.get_ref<const std::string &>();
    if (s == "nan")
      return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf")
      return std::numeric_limits<double>::infinity();
    if (s == "-inf")
      return -std::numeric_limits<double>::infinity();
    return j;
  }
  if (j.is_array() || j.is_object()) {
    json out = j;
    for (auto it = out.begin(); it != out.end(); ++it)
      *it = decodeNonFinite(*it);
    return out;
  }
  return j;
}

json encodeNonFinite(const json &j) {
  if (j.is_number_float()) {
    double v = j.get<double>();
    if (std::isnan(v))
      return "nan";
    if (std::isinf(v))
      return v > 0 ? "inf" : "-inf";
    return j;
  }
  if (j.is_array() || j.is_object()) {
    json out = j;
    for (auto it = out.begin(); it != out.end(); ++it)
      *it = encodeNonFinite(*it);
    return out;
  }
  return j;
}

std::string dtypeName(const at::Tensor &t) {
  switch (t.scalar_type()) {
  case at::kFloat:
    return "float32";
  case at::kDouble:
    return "float64";
  case at::kHalf:
    return "float16";
  case at::kBFloat16:
    return "bfloat16";
  case at::kByte:
    return "uint8";
  case at::kChar:
    return "int8";
  case at::kShort:
    return "int16";
  case at::kInt:
    return "int32";
  case at::kLong:
    return "int64";
  case at::kBool:
    return "bool";
  default:
    return c10::toString(t.scalar_type());
  }
}

} // namespace med::conformance
