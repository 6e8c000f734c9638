// Helpers shared by the data library's sources (not installed).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace med::data::detail {

/// FNV-1a, 64 bit: the digest of cache keys and the checksum of cache files (not a defence
/// against tampering, only against corruption and stale entries).
inline uint64_t fnv1a(const void *bytes, size_t n, uint64_t h = 1469598103934665603ULL) {
  const auto *p = static_cast<const unsigned char *>(bytes);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}
inline uint64_t fnv1a(const std::string &s, uint64_t h = 1469598103934665603ULL) {
  return fnv1a(s.data(), s.size(), h);
}
inline std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// Prints "\r<label>: k/n" on stderr when it is a terminal (CacheDataset's progress line).
void progress(const std::string &label, int64_t done, int64_t total);

/// Runs fn(i) for i in [0, n) on `workers` threads (inline when workers <= 1); rethrows the
/// first exception after all threads stopped.
void parallelFor(int64_t n, int workers, const std::function<void(int64_t)> &fn);

} // namespace med::data::detail

#include <vector>

namespace med::data::detail {
/// numpy.random.RandomState(seed).shuffle(v) (legacy MT19937 seeding and bounded draws), so
/// MONAI's seeded splits (partition_dataset, DecathlonDataset, MedNISTDataset) match exactly.
void numpyShuffle(std::vector<int64_t> &v, uint32_t seed);
/// min(cache_num, int(n * cache_rate), n), checking both (MONAI's cache size).
int64_t cacheSize(int64_t n, int64_t cache_num, double cache_rate, const std::string &who);
} // namespace med::data::detail
