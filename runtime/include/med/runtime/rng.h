// Counter-based random numbers (Philox4x32-10). Every random draw in Medulla is a pure function of
// (seed, epoch, sample index, transform index, draw index), so results never depend on thread
// count, worker count, batch composition or device. The same function is generated inside
// kernels (per-voxel noise) and called here (host-sampled parameters, references).
#pragma once

#include <array>
#include <cstdint>

namespace med::rt {

/// Philox4x32 with 10 rounds (Salmon et al., SC'11): a bijection of the 128-bit counter under a
/// 64-bit key.
std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

/// A uniform double in (0, 1) from a 32-bit word: (u + 0.5) / 2^32, never 0 or 1.
inline double uniformFromBits(uint32_t u) { return (static_cast<double>(u) + 0.5) * 0x1p-32; }

/// Where a random stream lives: MONAI's `set_random_state(seed)` plus the position of the call.
/// `transform` is the index of the transform in its Compose.
struct RandomKey {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  uint64_t sample = 0;
  uint32_t transform = 0;
};

/// The Philox key of a (seed, epoch, sample, transform) stream: the four are mixed through one
/// Philox call so nearby keys give unrelated streams.
std::array<uint32_t, 2> streamKey(const RandomKey &k);

/// Host-side draws of one stream, in order: uniform(), normal(), ... The i-th draw uses counter
/// (i, 0, 0, 1): kernels use counters with last word 0 for per-voxel values, so the two never
/// overlap.
class Rng {
public:
  explicit Rng(const RandomKey &k) : key_(streamKey(k)) {}
  /// A stream with an explicit Philox key (see child()).
  explicit Rng(std::array<uint32_t, 2> key) : key_(key) {}
  /// The i-th sub-stream of this one, for transforms that hold other transforms (OneOf, ...):
  /// its key is Philox(counter (i, 0, 0, 2), this key), disjoint from this stream's draws.
  Rng child(uint32_t i) const;
  /// Uniform in [lo, hi).
  double uniform(double lo = 0.0, double hi = 1.0);
  /// Standard normal (Box-Muller on one Philox block).
  double normal();
  const std::array<uint32_t, 2> &key() const { return key_; }

private:
  std::array<uint32_t, 4> next();
  std::array<uint32_t, 2> key_;
  uint64_t draw_ = 0;
};

/// The Philox block that serves the four voxels of group `group` (elements 4 group .. 4 group + 3)
/// of stream `key`: counter (group lo, group hi, 0, 0).
inline std::array<uint32_t, 4> voxelBlock(std::array<uint32_t, 2> key, uint64_t group) {
  return philox4x32({static_cast<uint32_t>(group), static_cast<uint32_t>(group >> 32), 0, 0}, key);
}

/// The per-voxel standard normal that kernels generate for element `index` of stream `key`.
/// One Philox block serves four voxels: g = index / 4, k = index % 4, block =
/// Philox(counter = (g lo, g hi, 0, 0)); Box-Muller on words (0, 1) for k < 2, (2, 3) otherwise,
/// the cosine for even k and the sine, as cos(angle - pi/2), for odd k.
double voxelNormal(std::array<uint32_t, 2> key, uint64_t index);

/// The per-voxel uniform in (0, 1) that kernels generate for element `index` of stream `key`:
/// word index % 4 of the Philox block of counter (g lo, g hi, 0, 0), g = index / 4, as
/// (u + 0.5) / 2^32 (RandCoarseDropout's fill values).
double voxelUniform(std::array<uint32_t, 2> key, uint64_t index);

} // namespace med::rt
