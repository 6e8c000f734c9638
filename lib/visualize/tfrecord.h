// The byte formats under TensorBoard's event files, written by hand so that med_visualize needs
// neither protobuf nor TensorFlow: CRC-32C, TFRecord framing and a minimal protobuf encoder.
#pragma once

#include <cstdint>
#include <string>

namespace med::visualize::detail {

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78); crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const char *data, size_t n);
/// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t masked_crc32c(const char *data, size_t n);
/// One TFRecord: uint64 length (little endian), masked CRC of those 8 bytes, data, masked CRC
/// of data.
std::string tfrecord(const std::string &data);

/// Appends protobuf wire-format fields to a buffer (proto3: callers skip default values).
class ProtoWriter {
public:
  ProtoWriter &varint(int field, uint64_t v);
  ProtoWriter &fixed64_double(int field, double v);
  ProtoWriter &fixed32_float(int field, float v);
  ProtoWriter &bytes(int field, const std::string &v);
  const std::string &str() const { return buf_; }

private:
  void rawVarint(uint64_t v);
  std::string buf_;
};

} // namespace med::visualize::detail
