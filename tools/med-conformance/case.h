// One golden case (case.json and its arrays) and how to find the cases of a golden folder.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "med/core/meta_tensor.h"

namespace med::conformance {

/// One entry of case.json's `inputs` or `outputs`: where the array is and what MONAI says it is.
/// Kept so that reads are checked against the stored shape, dtype and checksum.
struct ArrayDesc {
  std::string name; ///< "img", "out", "loss", ...
  std::string file; ///< file name inside the case folder
  std::vector<int64_t> shape;
  std::string dtype;            ///< "float32" or "float64"
  std::optional<Affine> affine; ///< MetaTensor affine (row-major), when the array carries one
  nlohmann::json checksum;      ///< {sum, abs_sum, min, max, n_nonfinite} over finite values
};

/// A parsed case.json. `params` and `scalars` have the "nan"/"inf"/"-inf" strings of the golden
/// JSON already turned into doubles, so runners and comparisons see plain numbers.
struct Case {
  std::string name;     ///< "<category>/<case>", e.g. "transforms/threshold_intensity_above"
  std::string category; ///< "transforms", "losses", "metrics", "inference", "networks"
  std::string call;     ///< the MONAI call as stored (a Python expression)
  std::string callName; ///< the class/function the registry is keyed by, e.g. "ThresholdIntensity"
  nlohmann::json params;
  std::map<std::string, ArrayDesc> inputs, outputs;
  nlohmann::json scalars;
  std::string notes;
  std::filesystem::path dir; ///< the case folder
  nlohmann::json raw;        ///< case.json as stored (what --out copies)
  /// Inputs read by loadInputs(), with the stored affine as meta.affine.
  std::map<std::string, MetaTensor> inputData;

  /// The loaded input `name`; throws med::Error when the case has no such input, so a runner
  /// written for another input layout fails loudly rather than reading garbage.
  const MetaTensor &input(const std::string &name) const;
};

/// Parses `caseJson`. Throws med::Error naming the file when it is not valid JSON or lacks the
/// fields the README promises (case, call, params, inputs, outputs).
Case loadCase(const std::filesystem::path &caseJson);

/// Reads one stored array and checks it against its descriptor (shape, dtype, checksum), so a
/// mis-read file is reported as such instead of as a conformance failure. Sets meta.affine (and
/// original_affine, spatial_shape, filename_or_obj) when the descriptor carries an affine.
/// Throws med::Error naming the file.
MetaTensor loadArray(const Case &c, const ArrayDesc &d);

/// Fills c.inputData from c.inputs.
void loadInputs(Case &c);

/// A case found in a golden folder, before its case.json is parsed (filtering needs the name
/// only, so a filtered-out broken case does not stop the run).
struct CaseRef {
  std::string name; ///< "<category>/<case>"
  std::filesystem::path caseJson;
};

/// The cases under `dir`, in manifest order: `dir/manifest.json`, else `dir/seed0/manifest.json`,
/// else every case.json found below `dir` (sorted by name). Throws med::Error when `dir` does not
/// exist, a listed case folder is missing, or no case is found.
std::vector<CaseRef> findCases(const std::filesystem::path &dir);

/// The registry key of a stored call: the first `monai.<module>.Name(` in it, else the first
/// capitalised `Name(` ("Compose", "Invertd"), else the first identifier called.
std::string callName(const std::string &call);

/// Replaces the strings "nan", "inf", "-inf" by the doubles they stand for, recursively.
nlohmann::json decodeNonFinite(const nlohmann::json &j);
/// The inverse, for writing JSON (which has no nan/inf) in the golden convention.
nlohmann::json encodeNonFinite(const nlohmann::json &j);

/// The name MONAI/NumPy give a tensor's dtype ("float32", "float64", "int64", ...).
std::string dtypeName(const at::Tensor &t);

} // namespace med::conformance
