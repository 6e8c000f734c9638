// A minimal reader of TensorBoard event files for the tests, independent of the writer: TFRecord
// framing with a bitwise CRC-32C, a generic protobuf field parser.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace med_vis_test {

/// Bit-at-a-time CRC-32C, independent of the library's table version.
inline uint32_t crc32cBitwise(const std::string &s) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char ch : s) {
    crc ^= ch;
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}
inline uint32_t masked(const std::string &s) {
  const uint32_t c = crc32cBitwise(s);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

inline uint64_t readLE(const std::string &s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

/// Splits a file into TFRecord payloads, checking both CRCs of every record.
inline std::vector<std::string> readRecords(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < all.size()) {
    EXPECT_LE(pos + 12, all.size());
    const uint64_t len = readLE(all, pos, 8);
    EXPECT_EQ(readLE(all, pos + 8, 4), masked(all.substr(pos, 8))) << "length CRC";
    const std::string data = all.substr(pos + 12, len);
    EXPECT_EQ(readLE(all, pos + 12 + len, 4), masked(data)) << "data CRC";
    out.push_back(data);
    pos += 12 + len + 4;
  }
  EXPECT_EQ(pos, all.size());
  return out;
}

/// One protobuf field: wire type and either its integer value or its bytes.
struct Field {
  int wire;
  uint64_t num;
  std::string bytes;
};
using Fields = std::multimap<int, Field>;

inline uint64_t varint(const std::string &s, size_t &p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(s.at(p++));
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80))
      return v;
  }
}

inline Fields parse(const std::string &s) {
  Fields out;
  size_t p = 0;
  while (p < s.size()) {
    const uint64_t key = varint(s, p);
    Field f{static_cast<int>(key & 7), 0, {}};
    switch (f.wire) {
    case 0:
      f.num = varint(s, p);
      break;
    case 1:
      f.num = readLE(s, p, 8);
      p += 8;
      break;
    case 5:
      f.num = readLE(s, p, 4);
      p += 4;
      break;
    case 2: {
      const uint64_t n = varint(s, p);
      f.bytes = s.substr(p, n);
      p += n;
      break;
    }
    default:
      ADD_FAILURE() << "unexpected wire type " << f.wire;
      return out;
    }
    out.emplace(static_cast<int>(key >> 3), f);
  }
  return out;
}

inline const Field &one(const Fields &f, int field) {
  EXPECT_EQ(f.count(field), 1u) << "field " << field;
  return f.find(field)->second;
}

inline double asDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}
inline float asFloat(uint64_t bits) {
  const auto b = static_cast<uint32_t>(bits);
  float v;
  std::memcpy(&v, &b, 4);
  return v;
}

} // namespace med_vis_test
