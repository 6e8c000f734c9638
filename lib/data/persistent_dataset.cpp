// PersistentDataset: the deterministic prefix's output cached on disk, one checked file per item.
//
// File layout (little-endian, as written by this machine):
//   "MEDPDS\0\0"  u32 version  u32 0  u64 entry key  u64 payload bytes  u64 payload FNV-1a
//   payload: u64 keys, then per key: string name, tensor (i32 dtype, u64 rank, i64 sizes,
//   u64 bytes, raw contiguous data), Meta (affine, original_affine, spatial_shape,
//   filename_or_obj, original_channel_dim, applied_operations).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <unistd.h>

#include "data_internal.h"
#include "med/core/error.h"
#include "med/data/cache_dataset.h"

namespace med::data {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'M', 'E', 'D', 'P', 'D', 'S', '\0', '\0'};
constexpr uint32_t kVersion = 1;

struct Writer {
  std::string buf;
  template <class T> void pod(const T &v) {
    buf.append(reinterpret_cast<const char *>(&v), sizeof v);
  }
  void str(const std::string &s) {
    pod<uint64_t>(s.size());
    buf += s;
  }
  void ints(const std::vector<int64_t> &v) {
    pod<uint64_t>(v.size());
    for (int64_t x : v)
      pod(x);
  }
};

struct Reader {
  const std::string &buf;
  size_t at = 0;
  void need(size_t n) {
    if (at + n > buf.size())
      throw std::runtime_error("truncated");
  }
  template <class T> T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, buf.data() + at, sizeof v);
    at += sizeof v;
    return v;
  }
  std::string str() {
    auto n = pod<uint64_t>();
    need(n);
    std::string s = buf.substr(at, n);
    at += n;
    return s;
  }
  std::vector<int64_t> ints() {
    auto n = pod<uint64_t>();
    need(n * sizeof(int64_t));
    std::vector<int64_t> v(n);
    for (auto &x : v)
      x = pod<int64_t>();
    return v;
  }
};

std::string serialize(const Data &data) {
  Writer w;
  w.pod<uint64_t>(data.size());
  for (const auto &[key, mt] : data) {
    w.str(key);
    at::Tensor t = mt.data.defined() ? mt.data.cpu().contiguous() : at::Tensor();
    w.pod<int32_t>(t.defined() ? static_cast<int32_t>(t.scalar_type()) : -1);
    if (t.defined()) {
      w.ints(t.sizes().vec());
      size_t bytes = t.numel() * t.element_size();
      w.pod<uint64_t>(bytes);
      w.buf.append(static_cast<const char *>(t.data_ptr()), bytes);
    }
    const Meta &m = mt.meta;
    for (double v : m.affine)
      w.pod(v);
    for (double v : m.original_affine)
      w.pod(v);
    w.ints(m.spatial_shape);
    w.str(m.filename_or_obj);
    w.pod<uint8_t>(m.original_channel_dim.has_value());
    w.pod<int32_t>(m.original_channel_dim.value_or(0));
    w.pod<uint64_t>(m.applied_operations.size());
    for (const rt::OpRecord &op : m.applied_operations) {
      w.str(op.name);
      w.pod<uint64_t>(op.params.size());
      for (const auto &[k, v] : op.params) {
        w.str(k);
        w.pod(v);
      }
      w.ints(op.orig_size);
    }
  }
  return w.buf;
}

Data deserialize(const std::string &buf) {
  Reader r{buf};
  Data out;
  auto n = r.pod<uint64_t>();
  for (uint64_t i = 0; i < n; ++i) {
    std::string key = r.str();
    MetaTensor mt;
    auto dtype = r.pod<int32_t>();
    if (dtype >= 0) {
      if (dtype >= static_cast<int32_t>(at::ScalarType::NumOptions))
        throw std::runtime_error("bad dtype");
      std::vector<int64_t> sizes = r.ints();
      auto bytes = r.pod<uint64_t>();
      at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(at::ScalarType(dtype)));
      if (bytes != t.numel() * t.element_size())
        throw std::runtime_error("size mismatch");
      r.need(bytes);
      std::memcpy(t.data_ptr(), buf.data() + r.at, bytes);
      r.at += bytes;
      mt.data = t;
    }
    for (double &v : mt.meta.affine)
      v = r.pod<double>();
    for (double &v : mt.meta.original_affine)
      v = r.pod<double>();
    mt.meta.spatial_shape = r.ints();
    mt.meta.filename_or_obj = r.str();
    bool has = r.pod<uint8_t>();
    auto dim = r.pod<int32_t>();
    if (has)
      mt.meta.original_channel_dim = dim;
    auto ops = r.pod<uint64_t>();
    for (uint64_t j = 0; j < ops; ++j) {
      rt::OpRecord op;
      op.name = r.str();
      auto np = r.pod<uint64_t>();
      for (uint64_t p = 0; p < np; ++p) {
        std::string k = r.str();
        op.params.emplace_back(k, r.pod<double>());
      }
      op.orig_size = r.ints();
      mt.meta.applied_operations.push_back(std::move(op));
    }
    out[key] = std::move(mt);
  }
  if (r.at != buf.size())
    throw std::runtime_error("trailing bytes");
  return out;
}

// The entry's content if the file exists and is intact and for `key`; nullopt otherwise.
std::optional<Data> readEntry(const std::string &path, uint64_t key) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t header = 8 + 4 + 4 + 8 + 8 + 8;
  if (file.size() < header || std::memcmp(file.data(), kMagic, 8) != 0)
    return std::nullopt;
  Reader r{file, 8};
  if (r.pod<uint32_t>() != kVersion)
    return std::nullopt;
  r.pod<uint32_t>();
  if (r.pod<uint64_t>() != key)
    return std::nullopt;
  auto bytes = r.pod<uint64_t>();
  auto sum = r.pod<uint64_t>();
  if (file.size() - header != bytes)
    return std::nullopt;
  std::string payload = file.substr(header);
  if (detail::fnv1a(payload) != sum)
    return std::nullopt;
  try {
    return deserialize(payload);
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

void writeEntry(const std::string &path, uint64_t key, const Data &data) {
  std::string payload = serialize(data);
  Writer w;
  w.buf.append(kMagic, 8);
  w.pod(kVersion);
  w.pod<uint32_t>(0);
  w.pod(key);
  w.pod<uint64_t>(payload.size());
  w.pod(detail::fnv1a(payload));
  std::ostringstream tid;
  tid << std::this_thread::get_id();
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + tid.str();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(w.buf.data(), static_cast<std::streamsize>(w.buf.size()));
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error("PersistentDataset.cache_dir", "could not write cache file '" + tmp + "'");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("PersistentDataset.cache_dir",
                "could not rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
}

// What the key of an item hashes: its paths with size and mtime, its values, its text.
std::string describeItem(const Item &item) {
  std::ostringstream os;
  for (const auto &[k, p] : item.paths) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    long long bytes = ec ? -1 : static_cast<long long>(size);
    auto mtime = fs::last_write_time(p, ec);
    long long when = ec ? -1 : static_cast<long long>(mtime.time_since_epoch().count());
    os << "path " << k << '=' << p << ' ' << bytes << ' ' << when << ';';
  }
  for (const auto &[k, v] : item.data) {
    os << "data " << k;
    if (v.data.defined()) {
      at::Tensor t = v.data.cpu().contiguous();
      os << ' ' << c10::toString(t.scalar_type()) << ' ' << t.sizes() << ' '
         << detail::hex64(detail::fnv1a(t.data_ptr(), t.numel() * t.element_size()));
    }
    os << ';';
  }
  for (const auto &[k, v] : item.text)
    os << "text " << k << '=' << v << ';';
  return os.str();
}

} // namespace

PersistentDataset::PersistentDataset(std::vector<Item> data, Pipeline transform,
                                     PersistentDatasetOptions options, Loader loader)
    : Dataset(std::move(data), std::move(transform), std::move(loader)), o_(std::move(options)),
      prefix_(transform_.prefix()), suffix_(transform_.suffix()) {
  if (o_.cache_dir().empty())
    throw Error("PersistentDataset.cache_dir", "expected a folder, got an empty path");
  std::error_code ec;
  fs::create_directories(o_.cache_dir(), ec);
  if (ec || !fs::is_directory(o_.cache_dir()))
    throw Error("PersistentDataset.cache_dir",
                "could not create folder '" + o_.cache_dir() + "': " + ec.message());
  prefixDigest_ = "v" + std::to_string(kVersion) + " prefix " + prefix_.fingerprint() + " salt " +
                  o_.hash_transform();
}

std::string PersistentDataset::cachePath(int64_t index) const {
  checkIndex(index, "PersistentDataset");
  uint64_t key = detail::fnv1a(describeItem((*data_)[index]), detail::fnv1a(prefixDigest_));
  return (fs::path(o_.cache_dir()) / (detail::hex64(key) + ".medpds")).string();
}

Data PersistentDataset::get(int64_t index, const rt::RandomKey &key) const {
  checkIndex(index, "PersistentDataset");
  const Item &item = (*data_)[index];
  uint64_t entry = detail::fnv1a(describeItem(item), detail::fnv1a(prefixDigest_));
  std::string path = (fs::path(o_.cache_dir()) / (detail::hex64(entry) + ".medpds")).string();
  std::optional<Data> cached = readEntry(path, entry);
  if (!cached) {
    cached = prefix_(loader_(item), rt::RandomKey{0, 0, uint64_t(index), 0});
    writeEntry(path, entry, *cached);
  }
  return suffix_(*cached, key);
}

} // namespace med::data
