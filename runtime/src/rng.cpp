#include "med/runtime/rng.h"

#include <cmath>

namespace med::rt {

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += kW0;
      k[1] += kW1;
    }
    uint64_t p0 = static_cast<uint64_t>(kM0) * c[0];
    uint64_t p1 = static_cast<uint64_t>(kM1) * c[2];
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

std::array<uint32_t, 2> streamKey(const RandomKey &k) {
  auto out = philox4x32({static_cast<uint32_t>(k.epoch), static_cast<uint32_t>(k.sample),
                         static_cast<uint32_t>(k.sample >> 32), k.transform},
                        {static_cast<uint32_t>(k.seed), static_cast<uint32_t>(k.seed >> 32)});
  return {out[0], out[1] ^ static_cast<uint32_t>(k.epoch >> 32)};
}

std::array<uint32_t, 4> Rng::next() {
  uint64_t i = draw_++;
  return philox4x32({static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32), 0, 1}, key_);
}

Rng Rng::child(uint32_t i) const {
  auto r = philox4x32({i, 0, 0, 2}, key_);
  return Rng(std::array<uint32_t, 2>{r[0], r[1]});
}

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniformFromBits(next()[0]); }

namespace {
double boxMuller(uint32_t a, uint32_t b) {
  double u1 = uniformFromBits(a), u2 = uniformFromBits(b);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}
} // namespace

double Rng::normal() {
  auto r = next();
  return boxMuller(r[0], r[1]);
}

double voxelNormal(std::array<uint32_t, 2> key, uint64_t index) {
  const uint64_t group = index >> 2;
  const unsigned k = static_cast<unsigned>(index & 3);
  auto r = voxelBlock(key, group);
  const uint32_t a = k < 2 ? r[0] : r[2], b = k < 2 ? r[1] : r[3];
  const double shift = (k & 1) ? 1.5707963267948966 : 0.0; // the sine, as the kernels form it
  return std::sqrt(-2.0 * std::log(uniformFromBits(a))) *
         std::cos(6.283185307179586 * uniformFromBits(b) - shift);
}

double voxelUniform(std::array<uint32_t, 2> key, uint64_t index) {
  return uniformFromBits(voxelBlock(key, index >> 2)[index & 3]);
}

} // namespace med::rt
