#include "tfrecord.h"

#include <array>
#include <cstring>

namespace med::visualize::detail {
namespace {

const std::array<uint32_t, 256> &crcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

void putLE(std::string &out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

} // namespace

uint32_t crc32c(const char *data, size_t n) {
  const auto &t = crcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i)
    c = t[(c ^ static_cast<uint8_t>(data[i])) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const char *data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord(const std::string &data) {
  std::string out, len;
  putLE(len, data.size(), 8);
  out += len;
  putLE(out, masked_crc32c(len.data(), len.size()), 4);
  out += data;
  putLE(out, masked_crc32c(data.data(), data.size()), 4);
  return out;
}

void ProtoWriter::rawVarint(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<char>(v));
}

ProtoWriter &ProtoWriter::varint(int field, uint64_t v) {
  rawVarint(static_cast<uint64_t>(field) << 3 | 0);
  rawVarint(v);
  return *this;
}

ProtoWriter &ProtoWriter::fixed64_double(int field, double v) {
  rawVarint(static_cast<uint64_t>(field) << 3 | 1);
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  putLE(buf_, bits, 8);
  return *this;
}

ProtoWriter &ProtoWriter::fixed32_float(int field, float v) {
  rawVarint(static_cast<uint64_t>(field) << 3 | 5);
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  putLE(buf_, bits, 4);
  return *this;
}

ProtoWriter &ProtoWriter::bytes(int field, const std::string &v) {
  rawVarint(static_cast<uint64_t>(field) << 3 | 2);
  rawVarint(v.size());
  buf_ += v;
  return *this;
}

} // namespace med::visualize::detail
