// .npy v1.0 reader and writer (float32/float64, little-endian, C order).
#include "npy.h"

#include <ATen/Functions.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "med/core/error.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy reader copies '<f4'/'<f8' data as is; a big-endian host needs swapping");

namespace med::conformance {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kPreambleLen = 10; // magic, major, minor, uint16 header length

// The three keys of a .npy header dict, as parsed.
struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
};

// Parses the Python dict literal of a .npy header, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 32, 28, 24), }". Accepts any key order
// and spacing, as NumPy does; rejects unknown keys and anything malformed.
class HeaderParser {
public:
  HeaderParser(const std::string &text, const std::string &file) : s_(text), file_(file) {}

  Header parse() {
    Header h;
    bool seen[3] = {false, false, false};
    expect('{');
    while (!peek('}')) {
      std::string key = quoted();
      expect(':');
      if (key == "descr") {
        h.descr = quoted();
        seen[0] = true;
      } else if (key == "fortran_order") {
        h.fortran = boolean();
        seen[1] = true;
      } else if (key == "shape") {
        h.shape = tuple();
        seen[2] = true;
      } else {
        fail("unexpected key '" + key + "' in the header");
      }
      if (!peek('}'))
        expect(',');
    }
    expect('}');
    if (!seen[0] || !seen[1] || !seen[2])
      fail("header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

private:
  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool peek(char c) {
    skipSpace();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c))
      fail(std::string("malformed header: expected '") + c + "' at offset " + std::to_string(pos_) +
           " of \"" + s_ + "\"");
    ++pos_;
  }
  std::string quoted() {
    skipSpace();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      fail("malformed header: expected a quoted string in \"" + s_ + "\"");
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string::npos)
      fail("malformed header: unterminated string in \"" + s_ + "\"");
    std::string out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skipSpace();
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("malformed header: fortran_order must be True or False");
    return false;
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!peek(')')) {
      skipSpace();
      size_t start = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_])))
        ++pos_;
      if (pos_ == start || pos_ - start > 15)
        fail("malformed header: shape must be a tuple of non-negative integers");
      dims.push_back(std::stoll(s_.substr(start, pos_ - start)));
      if (!peek(')'))
        expect(',');
    }
    expect(')');
    return dims;
  }
  [[noreturn]] void fail(const std::string &msg) const { throw Error(file_, msg); }

  const std::string &s_;
  std::string file_;
  size_t pos_ = 0;
};

std::string readAll(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw Error(file.string(), "cannot open the .npy file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    throw Error(file.string(), "read error");
  return bytes;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    out += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  return out + ")";
}

} // namespace

at::Tensor readNpy(const std::filesystem::path &file) {
  const std::string name = file.string();
  std::string bytes = readAll(file);
  if (bytes.size() < kPreambleLen || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    throw Error(name, "not a .npy file (missing the \\x93NUMPY magic)");
  int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (major != 1 || minor != 0)
    throw Error(name, "unsupported .npy format version " + std::to_string(major) + "." +
                          std::to_string(minor) + " (expected 1.0)");
  size_t headerLen = static_cast<unsigned char>(bytes[8]) |
                     (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  if (bytes.size() < kPreambleLen + headerLen)
    throw Error(name, "truncated .npy header");
  Header h = HeaderParser(bytes.substr(kPreambleLen, headerLen), name).parse();

  at::ScalarType type;
  size_t itemSize;
  if (h.descr == "<f4") {
    type = at::kFloat;
    itemSize = 4;
  } else if (h.descr == "<f8") {
    type = at::kDouble;
    itemSize = 8;
  } else {
    throw Error(name, "unsupported dtype '" + h.descr + "' (expected '<f4' or '<f8')");
  }
  if (h.fortran)
    throw Error(name, "Fortran-ordered arrays are not supported (expected fortran_order False)");

  size_t count = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && count > (SIZE_MAX / itemSize) / static_cast<size_t>(d))
      throw Error(name, "shape " + shapeText(h.shape) + " is too large");
    count *= static_cast<size_t>(d);
  }
  size_t dataLen = bytes.size() - kPreambleLen - headerLen;
  if (dataLen != count * itemSize)
    throw Error(name, "data size mismatch: shape " + shapeText(h.shape) + " of " + h.descr +
                          " needs " + std::to_string(count * itemSize) + " bytes, the file has " +
                          std::to_string(dataLen));

  at::Tensor t = at::empty(h.shape, at::TensorOptions().dtype(type));
  if (dataLen > 0)
    std::memcpy(t.data_ptr(), bytes.data() + kPreambleLen + headerLen, dataLen);
  return t;
}

void writeNpy(const std::filesystem::path &file, const at::Tensor &t) {
  const std::string name = file.string();
  std::string descr;
  if (t.scalar_type() == at::kFloat)
    descr = "<f4";
  else if (t.scalar_type() == at::kDouble)
    descr = "<f8";
  else
    throw Error(name, std::string("cannot write dtype ") + c10::toString(t.scalar_type()) +
                          " (the .npy writer supports float32 and float64)");
  at::Tensor c = t.cpu().contiguous();
  std::vector<int64_t> shape(c.sizes().begin(), c.sizes().end());

  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText(shape) + ", }";
  // NumPy pads with spaces and a final newline so the data starts on a 64-byte boundary.
  size_t total = kPreambleLen + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 0xffff)
    throw Error(name, "header too long for .npy v1.0");

  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw Error(tmp.string(), "cannot create the file");
    out.write(kMagic, kMagicLen);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const char len[2] = {static_cast<char>(header.size() & 0xff),
                         static_cast<char>(header.size() >> 8)};
    out.write(len, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char *>(c.data_ptr()),
              static_cast<std::streamsize>(c.numel() * c.element_size()));
    out.close();
    if (!out)
      throw Error(tmp.string(), "write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec)
    throw Error(name, "cannot rename " + tmp.string() + " into place: " + ec.message());
}

} // namespace med::conformance
