// Atomic writes: write into a temporary folder beside the target (same file system), then rename
// the file(s) into place; a failure at any point leaves nothing behind.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "io_internal.h"

namespace med::io::detail {

namespace fs = std::filesystem;

AtomicWrite::AtomicWrite(const std::string &target) : target_(target) {
  const fs::path t(target);
  fs::path parent = t.parent_path();
  if (parent.empty())
    parent = ".";
  std::error_code ec;
  // Remember the folders this write creates (deepest first): a failed write removes them again.
  for (fs::path p = parent; !p.empty() && !fs::exists(p, ec); p = p.parent_path())
    created_.push_back(p.string());
  fs::create_directories(parent, ec);
  if (ec) {
    removeCreatedFolders();
    throw Error(target, "cannot create the output folder '" + parent.string() +
                            "': " + ec.message() + "; expected a writable folder");
  }
  std::string templ = (parent / ("." + t.filename().string() + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(templ.data())) {
    const std::string why = std::strerror(errno);
    removeCreatedFolders();
    throw Error(target, "cannot write in the output folder '" + parent.string() + "': " + why +
                            "; expected a writable folder");
  }
  tempDir_ = templ;
  tempPath_ = (fs::path(tempDir_) / t.filename()).string();
}

AtomicWrite::~AtomicWrite() {
  std::error_code ec;
  fs::remove_all(tempDir_, ec);
  if (!committed_)
    removeCreatedFolders();
}

void AtomicWrite::removeCreatedFolders() {
  std::error_code ec;
  for (const std::string &dir : created_)
    fs::remove(dir, ec); // only removes empty folders
}

void AtomicWrite::commit() {
  const fs::path t(target_);
  const fs::path parent = t.parent_path().empty() ? fs::path(".") : t.parent_path();
  // Companions (.raw / .zraw of a .mhd) go first, so the header appears last.
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(tempDir_))
    if (entry.path().filename() != t.filename())
      files.push_back(entry.path());
  files.push_back(fs::path(tempPath_));
  std::vector<fs::path> moved;
  for (const fs::path &f : files) {
    const fs::path dest = parent / f.filename();
    std::error_code ec;
    fs::rename(f, dest, ec);
    if (ec) {
      const std::string why = ec.message();
      for (const fs::path &m : moved)
        fs::remove(m, ec);
      throw Error(target_, "cannot move '" + f.string() + "' to '" + dest.string() + "': " + why);
    }
    moved.push_back(dest);
  }
  committed_ = true;
}

} // namespace med::io::detail
