// Invertd maps a prediction back through the records of the original image.
#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include "med/transforms/compose.h"
#include "med/transforms/croppad.h"
#include "med/transforms/invertd.h"
#include "med/transforms/spatial.h"
#include "test_util.h"

namespace T = med::transforms;

namespace {

TEST(Invertd, PredictionReturnsToTheOriginalGrid) {
  med::MetaTensor img = volume({1, 6, 5, 4});
  T::Compose pre({T::Flipd({"image"}, T::FlipOptions(0)),
                  T::Rotate90d({"image"}, T::Rotate90Options()),
                  T::SpatialPadd({"image"}, T::SpatialPadOptions({8, 8, 8}))});
  med::Data fwd = pre.eager(med::Data{{"image", img}});
  // A "prediction": the transformed image itself, without records (as a network returns it).
  med::Data d = fwd;
  d["pred"] = med::MetaTensor(fwd.at("image").data * 2);
  med::Data out = T::Invertd({"pred"}, {"image"})(d);
  EXPECT_TRUE(at::equal(out.at("pred").data, img.data * 2));
  EXPECT_LT(med::rt::maxAbsDiff(out.at("pred").meta.affine, img.meta.affine), 1e-9);
  EXPECT_TRUE(out.at("pred").meta.applied_operations.empty());
  EXPECT_EQ(out.at("image").meta.applied_operations.size(), 3u) << "orig key left as it was";
}

TEST(Invertd, ErrorsNameTheKey) {
  med::Data d{{"pred", med::MetaTensor(at::zeros({1, 3, 3}))}};
  expectError([&] { T::Invertd({"pred"}, {"image"})(d); }, {"image", "missing"});
  d["image"] = med::MetaTensor(at::zeros({1, 4, 4}));
  expectError([&] { T::Invertd({"pred"}, {"image"})(d); }, {"pred", "grid"});
  expectError([] { T::Invertd({"a", "b"}, {"x", "y", "z"}); }, {"Invertd.orig_keys"});
  EXPECT_NO_THROW(T::Invertd({"pred"}, {"label"}, true)(d));
}

} // namespace
