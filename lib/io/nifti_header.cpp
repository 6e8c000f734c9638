// The NIfTI-1 header read directly, for what ITK 5.2 gets wrong or misses:
//  - ITK prefers the qform when both qform_code and sform_code are set; nibabel (MONAI's NIfTI
//    reader) uses the sform whenever sform_code > 0, so we do too;
//  - ITK reads a truncated .nii.gz without any error (the missing voxels are garbage).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <zlib.h>

#include "io_internal.h"

namespace med::io::detail {
namespace {

constexpr int kHeaderSize = 348;

template <typename T> T field(const unsigned char *h, int offset, bool swap) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, h + offset, sizeof(T));
  if (swap)
    for (size_t i = 0; i < sizeof(T) / 2; ++i)
      std::swap(b[i], b[sizeof(T) - 1 - i]);
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

/// Uncompressed size of a gzip file by decompressing it; -1 when the stream is corrupt.
int64_t gzipPayloadSize(const std::string &path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    return -1;
  gzbuffer(f, 1 << 17);
  std::vector<char> buf(1 << 20);
  int64_t total = 0;
  int n = 0;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0)
    total += n;
  int err = Z_OK;
  gzerror(f, &err);
  gzclose(f);
  return n < 0 || (err != Z_OK && err != Z_STREAM_END) ? -1 : total;
}

/// The ISIZE field of a gzip trailer: the uncompressed size modulo 2^32.
int64_t gzipTrailerSize(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(-4, std::ios::end);
  unsigned char b[4] = {0, 0, 0, 0};
  if (!in.read(reinterpret_cast<char *>(b), 4))
    return -1;
  return int64_t(b[0]) | int64_t(b[1]) << 8 | int64_t(b[2]) << 16 | int64_t(b[3]) << 24;
}

} // namespace

NiftiHeader readNiftiHeader(const std::string &path) {
  NiftiHeader out;
  std::array<unsigned char, kHeaderSize> h{};
  gzFile f = gzopen(path.c_str(), "rb"); // reads plain files as they are
  const int got = f ? gzread(f, h.data(), kHeaderSize) : -1;
  if (f)
    gzclose(f);
  if (got != kHeaderSize)
    throw Error(path, "too short for a NIfTI-1 header; expected at least 348 bytes");
  const int32_t size = field<int32_t>(h.data(), 0, false);
  const bool swap = size != kHeaderSize;
  if (swap && field<int32_t>(h.data(), 0, true) != kHeaderSize)
    return out; // not NIfTI-1 (NIfTI-2, Analyze variants): left to ITK as it is
  const char *magic = reinterpret_cast<const char *>(h.data() + 344);
  if (std::strncmp(magic, "n+1", 4) != 0)
    return out;

  out.valid = true;
  const int ndim = field<int16_t>(h.data(), 40, swap);
  const int bitpix = field<int16_t>(h.data(), 72, swap);
  const double voxOffset = field<float>(h.data(), 108, swap);
  int64_t voxels = ndim >= 1 && ndim <= 7 ? 1 : 0;
  for (int i = 1; i <= ndim && i <= 7; ++i)
    voxels *= std::max<int64_t>(field<int16_t>(h.data(), 40 + 2 * i, swap), 1);
  out.expected_bytes =
      static_cast<int64_t>(std::max(voxOffset, 352.0)) + voxels * std::max(bitpix, 0) / 8;
  out.qform_code = field<int16_t>(h.data(), 252, swap);
  out.sform_code = field<int16_t>(h.data(), 254, swap);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      out.srow[r * 4 + c] = field<float>(h.data(), 280 + 16 * r + 4 * c, swap);
  return out;
}

void checkNiftiComplete(const std::string &path, const NiftiHeader &header, bool gz) {
  if (!header.valid || header.expected_bytes <= 0)
    return;
  int64_t found = 0;
  if (!gz) {
    std::error_code ec;
    found = static_cast<int64_t>(std::filesystem::file_size(path, ec));
    if (ec)
      found = -1;
  } else {
    // The trailer gives the size cheaply; only when it disagrees (a truncated file, or a valid
    // multi-member stream) is the whole stream decompressed to count.
    if (gzipTrailerSize(path) == (header.expected_bytes & 0xFFFFFFFFLL))
      return;
    found = gzipPayloadSize(path);
  }
  if (found < 0)
    throw Error(path, "the gzip stream is corrupt or truncated; expected a complete .nii.gz file");
  if (found < header.expected_bytes)
    throw Error(path, "the file is truncated: the header describes " +
                          std::to_string(header.expected_bytes) +
                          " bytes of header and voxels, "
                          "the file holds " +
                          std::to_string(found));
}

} // namespace med::io::detail
