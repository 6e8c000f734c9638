// MetaImage (.mha/.mhd) completeness: ITK 5.2's MetaIO prints "data not read completely" to
// stdout and returns success for a truncated file, so the data size is checked here first.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io_internal.h"

namespace med::io::detail {
namespace {

namespace fs = std::filesystem;

std::string trim(const std::string &s) {
  const size_t b = s.find_first_not_of(" \t\r");
  const size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

} // namespace

void checkMetaImageComplete(const std::string &path, int64_t rawBytes) {
  std::ifstream in(path, std::ios::binary);
  std::string line, dataFile;
  bool compressed = false;
  int64_t compressedSize = -1, headerSize = 0;
  std::streamoff dataStart = -1;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "CompressedData")
      compressed = value == "True" || value == "true";
    else if (key == "CompressedDataSize")
      compressedSize = std::atoll(value.c_str());
    else if (key == "HeaderSize")
      headerSize = std::atoll(value.c_str());
    else if (key == "ElementDataFile") { // always the last header line
      dataFile = value;
      dataStart = in.tellg();
      break;
    }
  }
  if (dataFile.empty() || dataFile.rfind("LIST", 0) == 0 || dataFile.find('%') != std::string::npos)
    return; // no data file named, or a list / pattern of slice files: left to ITK
  const int64_t needed = compressed ? compressedSize : rawBytes;
  if (needed <= 0 || headerSize < 0)
    return;

  int64_t available = 0;
  std::string where = path;
  std::error_code ec;
  if (dataFile == "LOCAL") {
    available = static_cast<int64_t>(fs::file_size(path, ec)) - dataStart;
  } else {
    fs::path data(dataFile);
    if (data.is_relative())
      data = fs::path(path).parent_path() / data;
    where = data.string();
    available = static_cast<int64_t>(fs::file_size(data, ec)) - headerSize;
    if (ec)
      throw Error(path, "its data file '" + where + "' cannot be read: " + ec.message() +
                            "; expected it beside the header");
  }
  if (!ec && available < needed)
    throw Error(path, "the image data is truncated: expected " + std::to_string(needed) +
                          (compressed ? " compressed" : "") + " bytes in '" + where + "', found " +
                          std::to_string(std::max<int64_t>(available, 0)));
}

} // namespace med::io::detail
