// med_uk_coarse_dropout_f32 called directly against a brute-force reference written here: every
// voxel's coordinates from its global index and every box tested as med.coarse_dropout defines
// it (start <= o < start + size in f64). Boxes that reach past the image, boxes with NaN or
// infinite bounds, unused box slots, chunks that start and end inside rows, both fills and both
// dropout_holes settings.
#include "med/runtime/rng.h"
#include "med/runtime/ukernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The op's value for global element i of a (channels, sizes...) image.
float reference(const std::vector<double> &args, int rank, double boxes, bool holes, bool range,
                double low, double high, std::array<uint32_t, 2> key, uint64_t i, float x) {
  double rest = static_cast<double>(i);
  std::vector<double> o(rank);
  for (int d = rank - 1; d >= 0; --d) {
    o[d] = std::fmod(rest, args[d]);
    rest = std::floor(rest / args[d]);
  }
  bool inside = false;
  const size_t slots = (args.size() - rank) / (2 * rank);
  for (size_t h = 0; h < slots && static_cast<double>(h) < boxes; ++h) {
    bool in = true;
    for (int d = 0; d < rank; ++d) {
      const double start = args[rank + (h * rank + d) * 2];
      const double size = args[rank + (h * rank + d) * 2 + 1];
      in = in && o[d] >= start && o[d] < start + size;
    }
    inside = inside || in;
  }
  if (inside != holes)
    return x;
  const double fill = range ? low + (high - low) * med::rt::voxelUniform(key, i) : low;
  return static_cast<float>(fill);
}

TEST(CoarseDropoutMicrokernel, MatchesTheOpsDefinitionVoxelByVoxel) {
  // Two channels of 5 x 6 x 7; four box slots of which three apply: one inside, one past the
  // image's ends (fractional bounds), one with a NaN start; the unused fourth would cover all.
  const int rank = 3;
  std::vector<double> args = {5,    6,    7,    1,   2, 0,  3, 2, 4, // box 0
                              3.5,  kInf, -2.5, 4,   5, 9,           // box 1: past the ends
                              kNaN, 2,    0,    6,   0, 7,           // box 2: NaN start on axis 0
                              0,    100,  0,    100, 0, 100};        // box 3: unused, all
  const int64_t total = 2 * 5 * 6 * 7;
  std::vector<float> in(total);
  for (int64_t i = 0; i < total; ++i)
    in[i] = static_cast<float>(i) * 0.5f - 7.0f;
  const std::array<uint32_t, 2> key = {17, 4};
  for (int flags = 0; flags < 4; ++flags)
    for (int64_t first : {int64_t(0), int64_t(9), int64_t(200)}) { // chunks start inside rows
      const int64_t count = std::min<int64_t>(total - first, 143);
      std::vector<float> out(count, -99.0f);
      med_uk_coarse_dropout_f32(reinterpret_cast<intptr_t>(in.data() + first),
                                reinterpret_cast<intptr_t>(out.data()), count, first, 1.0, -3.0,
                                2.0, key[0], key[1], 3.0, rank, static_cast<int64_t>(args.size()),
                                reinterpret_cast<intptr_t>(args.data()), flags);
      int64_t changed = 0;
      for (int64_t k = 0; k < count; ++k) {
        const uint64_t i = static_cast<uint64_t>(first + k);
        const float want =
            reference(args, rank, 3.0, flags & 1, flags & 2, -3.0, 2.0, key, i, in[first + k]);
        ASSERT_EQ(out[k], want) << "flags " << flags << " element " << i;
        changed += out[k] != in[first + k];
      }
      EXPECT_GT(changed, 0) << "flags " << flags << " from " << first;
      EXPECT_LT(changed, count) << "flags " << flags << " from " << first;
    }
  // A call that does not fire copies its chunk.
  std::vector<float> out(total);
  med_uk_coarse_dropout_f32(reinterpret_cast<intptr_t>(in.data()),
                            reinterpret_cast<intptr_t>(out.data()), total, 0, 0.0, -3.0, 2.0,
                            key[0], key[1], 3.0, rank, static_cast<int64_t>(args.size()),
                            reinterpret_cast<intptr_t>(args.data()), 3);
  EXPECT_EQ(std::memcmp(in.data(), out.data(), total * sizeof(float)), 0);
}

} // namespace
