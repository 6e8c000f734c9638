// Running one case end to end: runner, comparison with MONAI's outputs, optional output files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "case.h"
#include "registry.h"

namespace med::conformance {

/// A case's verdict as printed and reported.
struct CaseResult {
  std::string status; ///< "PASS", "FAIL" or "UNSUPPORTED"
  std::string detail; ///< max abs err when it passes, the reason otherwise
};

/// Loads the inputs of `c`, runs its registered runner, compares every stored output and scalar,
/// and, when `outDir` is set, writes our arrays and a case.json with our results under
/// outDir/<category>/<case>/. Runner exceptions become FAIL (Unsupported: UNSUPPORTED); a golden
/// file that cannot be read throws med::Error, because then the reference itself is broken.
CaseResult runCase(Case &c, const Registry &registry,
                   const std::optional<std::filesystem::path> &outDir);

/// Writes `text` to `file` through a temporary file and a rename, so readers never see half a
/// report. Throws med::Error naming the file.
void writeFileAtomically(const std::filesystem::path &file, const std::string &text);

} // namespace med::conformance
