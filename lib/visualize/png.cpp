// PNG writer: signature, IHDR, one zlib-compressed IDAT (filter type 0 on every row), IEND; each
// chunk carries zlib's CRC-32 of its type and data.
#include "med/visualize/png.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <zlib.h>

#include "med/core/error.h"
#include "med/visualize/colormap.h"

namespace med::visualize {
namespace {

void putU32(std::string &out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<char>((v >> s) & 0xff));
}

void putChunk(std::string &out, const char type[4], const std::string &data) {
  putU32(out, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef *>(body.data()), static_cast<uInt>(body.size()));
  putU32(out, static_cast<uint32_t>(crc));
}

} // namespace

std::string encode_png(const at::Tensor &image) {
  if (!image.defined() || image.scalar_type() != at::kByte || image.dim() < 2 || image.dim() > 3)
    throw Error("encode_png.image", "expected a (C, H, W) or (H, W) uint8 tensor");
  at::Tensor img = image.dim() == 2 ? image.unsqueeze(0) : image;
  const int64_t c = img.size(0), h = img.size(1), w = img.size(2);
  if (c != 1 && c != 3 && c != 4)
    throw Error("encode_png.image", "expected 1, 3 or 4 channels, got " + std::to_string(c));
  if (h < 1 || w < 1 || h > 0x7fffffff || w > 0x7fffffff)
    throw Error("encode_png.image", "expected a non-empty image");
  // (C, H, W) -> rows of interleaved pixels, each row led by its filter byte (0 = none).
  at::Tensor hwc = img.permute({1, 2, 0}).contiguous().to(at::kCPU);
  const uint8_t *px = hwc.data_ptr<uint8_t>();
  const size_t row = static_cast<size_t>(w * c);
  std::string raw;
  raw.reserve((row + 1) * static_cast<size_t>(h));
  for (int64_t y = 0; y < h; ++y) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char *>(px + y * row), row);
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  if (compress2(reinterpret_cast<Bytef *>(&z[0]), &zlen,
                reinterpret_cast<const Bytef *>(raw.data()), static_cast<uLong>(raw.size()),
                6) != Z_OK)
    throw Error("encode_png", "zlib compression failed");
  z.resize(zlen);

  std::string ihdr;
  putU32(ihdr, static_cast<uint32_t>(w));
  putU32(ihdr, static_cast<uint32_t>(h));
  ihdr.push_back(8);                                              // bit depth
  ihdr.push_back(static_cast<char>(c == 1 ? 0 : c == 3 ? 2 : 6)); // grey, RGB, RGBA
  ihdr.append(3, '\0'); // deflate, adaptive filtering, no interlace
  std::string out("\x89PNG\r\n\x1a\n", 8);
  putChunk(out, "IHDR", ihdr);
  putChunk(out, "IDAT", z);
  putChunk(out, "IEND", std::string());
  return out;
}

void write_png(const std::string &path, const at::Tensor &image) {
  const std::string bytes = encode_png(image);
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw Error(path, "cannot write PNG file");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path, "cannot move the PNG file into place");
  }
}

at::Tensor to_uint8(const at::Tensor &image, double vmin, double vmax) {
  at::Tensor x = image.detach().to(at::kDouble);
  const double span = vmax - vmin;
  x = span > 0 ? (x - vmin) / span : at::zeros_like(x);
  x = at::nan_to_num(x, 0.0);
  return at::clamp(at::round(x * 255.0), 0, 255).to(at::kByte);
}

at::Tensor colorize(const at::Tensor &image, double vmin, double vmax, const std::string &cmap) {
  at::Tensor x = image.detach().to(at::kCPU).to(at::kDouble);
  if (x.dim() == 3 && x.size(2) == 1)
    x = x.squeeze(2);
  const double span = vmax - vmin;
  if (x.dim() == 2) {
    at::Tensor bad = at::isnan(x);
    at::Tensor norm = span > 0 ? (x - vmin) / span : at::zeros_like(x);
    at::Tensor rgba = apply_colormap(norm, cmap); // NaN -> (0, 0, 0, 0)
    rgba = at::where(bad.unsqueeze(-1), at::zeros_like(rgba), rgba);
    return at::clamp(at::round(rgba * 255.0), 0, 255).to(at::kByte).permute({2, 0, 1}).contiguous();
  }
  if (x.dim() == 3 && (x.size(2) == 3 || x.size(2) == 4)) {
    at::Tensor bad = at::isnan(x).any(2);
    at::Tensor u8 = to_uint8(x, vmin, vmax).permute({2, 0, 1});
    if (x.size(2) == 3)
      u8 = at::cat({u8, at::full({1, x.size(0), x.size(1)}, 255, u8.options())}, 0);
    u8 = u8.clone();
    u8.select(0, 3).masked_fill_(bad, 0);
    return u8.contiguous();
  }
  throw Error("colorize.image", "expected (H, W) or (H, W, C) with C = 1, 3 or 4");
}

} // namespace med::visualize
