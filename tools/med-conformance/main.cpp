// med-conformance: runs Medulla on MONAI 1.4.0's golden cases and compares the results.
//
//   med-conformance ../shared/golden/monai-1.4.0 [--out DIR] [--filter SUBSTRING] [--json FILE]
//
// One line per case (PASS | FAIL | UNSUPPORTED <case> <detail>), then "N passed, N failed,
// N unsupported". Exit status: 0 when no supported case fails, 1 when one does, 2 when the golden
// folder or one of its files cannot be read (or the command line is wrong).
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "case.h"
#include "med/core/error.h"
#include "registry.h"
#include "run.h"

namespace fs = std::filesystem;
using namespace med::conformance;

namespace {

struct Options {
  std::string casesDir;
  std::string outDir;
  std::string filter;
  std::string jsonReport;
};

int run(const Options &opt) {
  std::vector<CaseRef> refs = findCases(opt.casesDir);
  std::optional<fs::path> outDir;
  if (!opt.outDir.empty()) {
    outDir = fs::path(opt.outDir);
    // Writing into the golden folder would replace MONAI's outputs with ours.
    fs::path out = fs::weakly_canonical(*outDir), golden = fs::weakly_canonical(opt.casesDir);
    auto rel = out.lexically_relative(golden);
    if (!rel.empty() && *rel.begin() != "..")
      throw med::Error("--out " + opt.outDir,
                       "must not be inside CASES_DIR (it would overwrite MONAI's outputs)");
  }

  const Registry &registry = Registry::global();
  nlohmann::ordered_json report = {{"cases", nlohmann::ordered_json::array()}};
  int passed = 0, failed = 0, unsupported = 0;
  for (const CaseRef &ref : refs) {
    if (!opt.filter.empty() && ref.name.find(opt.filter) == std::string::npos)
      continue;
    Case c = loadCase(ref.caseJson);
    CaseResult r = runCase(c, registry, outDir);
    (r.status == "PASS" ? passed : r.status == "FAIL" ? failed : unsupported)++;
    std::cout << r.status << " " << c.name << (r.detail.empty() ? "" : " ") << r.detail
              << std::endl;
    report["cases"].push_back({{"case", c.name}, {"status", r.status}, {"detail", r.detail}});
  }
  if (passed + failed + unsupported == 0)
    std::cerr << "med-conformance: no case of " << refs.size() << " matches --filter '"
              << opt.filter << "'\n";
  std::cout << passed << " passed, " << failed << " failed, " << unsupported << " unsupported"
            << std::endl;

  if (!opt.jsonReport.empty()) {
    report["passed"] = passed;
    report["failed"] = failed;
    report["unsupported"] = unsupported;
    fs::path file(opt.jsonReport);
    std::error_code ec;
    if (file.has_parent_path())
      fs::create_directories(file.parent_path(), ec);
    writeFileAtomically(file, report.dump(1) + "\n");
  }
  return failed == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Checks Medulla against MONAI 1.4.0's stored outputs (golden cases)."};
  Options opt;
  app.add_option("CASES_DIR", opt.casesDir,
                 "golden folder: monai-1.4.0, its seed0, or any folder with case.json files")
      ->required();
  app.add_option("--out", opt.outDir, "write our outputs here, in the golden layout");
  app.add_option("--filter", opt.filter, "run only cases whose <category>/<case> contains this");
  app.add_option("--json", opt.jsonReport, "write a JSON report (cases, passed, failed, ...)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return run(opt);
  } catch (const med::Error &e) {
    std::cerr << "med-conformance: " << e.what() << "\n";
    return 2;
  } catch (const std::exception &e) {
    std::cerr << "med-conformance: unexpected error: " << e.what() << "\n";
    return 2;
  }
}
