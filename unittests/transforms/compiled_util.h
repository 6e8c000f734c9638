// Helpers of the compiled-spatial tests: a smooth test image, compiled-vs-eager comparison over
// schedules and threads, and an affine with rotation, scale and translation.
#pragma once

#include "med/runtime/meta.h"
#include "med/transforms/compose.h"
#include "med/transforms/resample.h"
#include "test_util.h"

namespace {

// A smooth random image: values in [0, 1] varying gently between neighbours, so that the
// rounding differences between grid_sample's float32 positions and the kernel's f64 positions
// stay far below the tolerance.
med::MetaTensor smooth(std::vector<int64_t> shape, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::rand(shape, at::kFloat);
  // A few passes of a box filter along each spatial axis.
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t d = 1; d < x.dim(); ++d)
      x = (x + x.roll(1, d) + x.roll(-1, d)) / 3.0;
  med::MetaTensor img = volume(shape);
  img.data = x.contiguous();
  return img;
}

void expectClose(const med::MetaTensor &out, const med::MetaTensor &ref, double atol,
                 const std::string &what) {
  ASSERT_EQ(out.data.sizes(), ref.data.sizes()) << what;
  EXPECT_EQ(out.data.scalar_type(), ref.data.scalar_type()) << what;
  const double diff =
      out.data.numel() == 0
          ? 0.0
          : (out.data.to(at::kDouble) - ref.data.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(diff, atol) << what;
  EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, ref.meta.affine), 1e-9) << what;
  ASSERT_EQ(out.meta.applied_operations.size(), ref.meta.applied_operations.size()) << what;
  for (size_t i = 0; i < out.meta.applied_operations.size(); ++i) {
    const auto &a = out.meta.applied_operations[i], &b = ref.meta.applied_operations[i];
    EXPECT_EQ(a.name, b.name) << what;
    EXPECT_EQ(a.orig_size, b.orig_size) << what;
    ASSERT_EQ(a.params.size(), b.params.size()) << what;
    for (size_t k = 0; k < a.params.size(); ++k)
      EXPECT_NEAR(a.params[k].second, b.params[k].second, 1e-6) << what << " " << a.params[k].first;
  }
}

// Compiled (fused and unfused, 1 and 2 threads) against eager for one pipeline and key.
void expectCompiledEqualsEager(const T::Compose &chain, const med::MetaTensor &img,
                               const med::rt::RandomKey &key, double atol,
                               const std::string &what) {
  const med::MetaTensor ref = chain.eager(img, key);
  for (bool fuse : {true, false})
    for (int threads : {1, 2}) {
      auto pipeline = chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
      expectClose(pipeline.run(img, key), ref, atol,
                  what + (fuse ? " fused" : " unfused") + " threads=" + std::to_string(threads));
    }
}

T::AffineOptions rotScale() {
  return T::AffineOptions()
      .rotate_params({0.2, -0.1, 0.3})
      .scale_params({1.1, 0.9, 1.05})
      .translate_params({1.5, -2.0, 0.5})
      .padding_mode("zeros");
}

} // namespace
