// One case end to end: run, compare, write.
#include "run.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "compare.h"
#include "med/core/error.h"
#include "npy.h"

namespace med::conformance {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The first line of an exception message (LibTorch appends backtraces).
std::string firstLine(const std::string &s) { return s.substr(0, s.find('\n')); }

json affineJson(const Affine &a) {
  json rows = json::array();
  for (int r = 0; r < 4; ++r)
    rows.push_back({a[r * 4], a[r * 4 + 1], a[r * 4 + 2], a[r * 4 + 3]});
  return rows;
}

// The descriptor of one of our arrays, in case.json's form (checksum over finite values).
json describe(const std::string &file, const MetaTensor &m, bool withAffine) {
  at::Tensor d = m.data.detach().cpu().to(at::kDouble).flatten();
  at::Tensor v = d.masked_select(at::isfinite(d));
  json cs = {{"sum", v.numel() ? v.sum().item<double>() : 0.0},
             {"abs_sum", v.numel() ? v.abs().sum().item<double>() : 0.0},
             {"min", v.numel() ? json(v.min().item<double>()) : json()},
             {"max", v.numel() ? json(v.max().item<double>()) : json()},
             {"n_nonfinite", d.numel() - v.numel()}};
  json out = {{"file", file},
              {"shape", std::vector<int64_t>(m.data.sizes().begin(), m.data.sizes().end())},
              {"dtype", dtypeName(m.data)},
              {"checksum", cs}};
  if (withAffine) {
    const Affine &a = m.meta.affine;
    out["affine"] = affineJson(a);
    std::vector<double> pixdim;
    for (int c = 0; c < 3; ++c)
      pixdim.push_back(std::sqrt(a[c] * a[c] + a[4 + c] * a[4 + c] + a[8 + c] * a[8 + c]));
    out["pixdim"] = pixdim;
  }
  return out;
}

// Writes our arrays, the inputs and a case.json (the stored one with our output descriptors, our
// scalars and our verdict) under outDir/<case name>/.
void writeOutputs(const Case &c, const Outputs &outs, const CaseResult &r, const fs::path &outDir) {
  fs::path dir = outDir / c.name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(dir.string(), "cannot create the output folder: " + ec.message());
  // The inputs too, so the folder is a complete case set in the golden layout (it can be fed
  // back to med-conformance, or diffed with another run).
  for (const auto &[name, d] : c.inputs) {
    fs::copy_file(c.dir / d.file, dir / d.file, fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw Error((dir / d.file).string(), "cannot copy the input: " + ec.message());
  }
  // Outputs of an earlier run that this run does not produce would read as current: remove them.
  for (const auto &e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind("output_", 0) == 0 && e.path().extension() == ".npy")
      fs::remove(e.path(), ec);
  json record = c.raw;
  record["outputs"] = json::object();
  for (const auto &[name, m] : outs.arrays) {
    std::string file = "output_" + name + ".npy";
    MetaTensor w = m;
    if (!at::isFloatingType(w.data.scalar_type()) || w.data.scalar_type() == at::kHalf ||
        w.data.scalar_type() == at::kBFloat16)
      w.data = w.data.to(at::kDouble); // .npy writer takes f4/f8; labels stay exact in f8
    writeNpy(dir / file, w.data);
    auto ref = c.outputs.find(name);
    record["outputs"][name] = describe(file, w, ref != c.outputs.end() && ref->second.affine);
  }
  record["scalars"] = encodeNonFinite(outs.scalars);
  json skipped = json::object();
  for (const auto &[k, why] : outs.skipped)
    skipped[k] = why;
  record["medulla"] = {{"status", r.status}, {"detail", r.detail}, {"skipped", skipped}};
  writeFileAtomically(dir / "case.json", record.dump(1) + "\n");
}

} // namespace

void writeFileAtomically(const fs::path &file, const std::string &text) {
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw Error(tmp.string(), "cannot create the file");
    out << text;
    out.close();
    if (!out)
      throw Error(tmp.string(), "write failed");
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec)
    throw Error(file.string(), "cannot rename " + tmp.string() + " into place: " + ec.message());
}

CaseResult runCase(Case &c, const Registry &registry, const std::optional<fs::path> &outDir) {
  const Runner *runner = registry.find(c.callName);
  if (!runner)
    return {"UNSUPPORTED", "no runner for " + (c.callName.empty() ? c.call : c.callName)};
  loadInputs(c); // a broken golden input is the golden folder's fault: med::Error propagates

  Outputs outs;
  std::optional<CaseResult> thrown;
  try {
    outs = (*runner)(c);
  } catch (const Unsupported &u) {
    return {"UNSUPPORTED", u.what()};
  } catch (const c10::Error &e) {
    thrown = CaseResult{"FAIL", "LibTorch error: " + firstLine(e.what_without_backtrace())};
  } catch (const std::exception &e) {
    thrown = CaseResult{"FAIL", "error: " + firstLine(e.what())};
  }
  if (thrown) {
    if (outDir)
      writeOutputs(c, Outputs{}, *thrown, *outDir);
    return *thrown;
  }

  Tolerance tol = toleranceFor(c);
  std::vector<std::string> problems, skipped;
  double maxErr = 0.0;
  auto note = [&](const std::string &what, const Mismatch &m) {
    maxErr = std::max(maxErr, m.maxAbsErr);
    if (!m.ok)
      problems.push_back(what + ": " + m.reason);
  };
  for (const auto &[name, desc] : c.outputs) {
    auto it = outs.arrays.find(name);
    if (it == outs.arrays.end()) {
      if (outs.skipped.count(name))
        skipped.push_back(name);
      else
        problems.push_back("output '" + name + "' not produced");
      continue;
    }
    MetaTensor ref = loadArray(c, desc);
    note(name, compareArray(it->second.data, ref.data, tol));
    if (desc.affine)
      note(name + " affine", compareAffine(it->second.meta.affine, *desc.affine));
  }
  for (const auto &[name, m] : outs.arrays)
    if (!c.outputs.count(name))
      problems.push_back("output '" + name + "' is not in case.json (runner naming bug?)");
  for (const auto &[name, ref] : c.scalars.items()) {
    if (outs.scalars.contains(name))
      note("scalar " + name, compareScalar(outs.scalars[name], ref, tol));
    else if (outs.skipped.count(name))
      skipped.push_back(name);
    else
      problems.push_back("scalar '" + name + "' not produced");
  }

  CaseResult r;
  if (problems.empty()) {
    r = {"PASS", fmt::format("max abs err {:.3g}", maxErr)};
  } else {
    r.status = "FAIL";
    for (size_t i = 0; i < problems.size() && i < 3; ++i)
      r.detail += (i ? "; " : "") + problems[i];
    if (problems.size() > 3)
      r.detail += fmt::format("; and {} more", problems.size() - 3);
  }
  if (!skipped.empty()) {
    std::string list;
    for (const std::string &s : skipped)
      list += (list.empty() ? "" : ", ") + s;
    r.detail += " (not compared: " + list + ")";
  }
  if (outDir)
    writeOutputs(c, outs, r, *outDir);
  return r;
}

} // namespace med::conformance
