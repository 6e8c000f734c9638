// MONAI's integer interpolation modes (scipy.ndimage.map_coordinates with its spline prefilter)
// against a dense reference written here: the coefficients solve the interpolation conditions
// (one linear system per axis, the boundary extension written into the matrix), and each value
// is the sum of coefficients times B-spline basis functions over the extended coefficients. The
// implementation filters recursively and maps coordinates as ndimage does instead; a spline that
// is symmetric (mirror, reflect) or periodic (grid-wrap) has the same value either way.
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/inverse.h"
#include "med/transforms/resample.h"
#include "med/transforms/resample_random.h"
#include "test_util.h"

#include <cmath>
#include <functional>

namespace {

enum class Ext { Mirror, Reflect, GridWrap, Edge };

// k moved into [0, n) by the extension (Edge clamps).
int64_t extend(int64_t k, int64_t n, Ext e) {
  if (n == 1)
    return 0;
  switch (e) {
  case Ext::Mirror: {
    const int64_t p = 2 * n - 2;
    k = ((k % p) + p) % p;
    return k < n ? k : p - k;
  }
  case Ext::Reflect: {
    const int64_t p = 2 * n;
    k = ((k % p) + p) % p;
    return k < n ? k : p - 1 - k;
  }
  case Ext::GridWrap:
    return ((k % n) + n) % n;
  case Ext::Edge:
    return std::clamp<int64_t>(k, 0, n - 1);
  }
  return k;
}

// The centred B-spline of degree 2 or 3 at t.
double basis(double t, int order) {
  t = std::abs(t);
  if (order == 3)
    return t < 1 ? 2.0 / 3 - t * t + t * t * t / 2 : t < 2 ? (2 - t) * (2 - t) * (2 - t) / 6 : 0;
  return t < 0.5 ? 0.75 - t * t : t < 1.5 ? (1.5 - t) * (1.5 - t) / 2 : 0;
}

// Coefficients of `f` (D, H, W float64) along every axis: A c = f with A[i][ext(k)] += B(i - k).
at::Tensor coefficients(at::Tensor f, int order, Ext e) {
  for (int64_t d = 0; d < f.dim(); ++d) {
    const int64_t n = f.size(d);
    at::Tensor a = at::zeros({n, n}, at::kDouble);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = i - 2; k <= i + 2; ++k)
        a[i][extend(k, n, e)] += basis(double(i - k), order);
    at::Tensor moved = f.movedim(d, 0);
    auto shape = moved.sizes().vec();
    at::Tensor c = at::linalg_solve(a, moved.reshape({n, -1})).reshape(shape);
    f = c.movedim(0, d).contiguous();
  }
  return f;
}

// The spline with coefficients c (3-D) at x, taps read through the extension `taps`.
double evaluate(const at::Tensor &c, const std::array<double, 3> &x, int order, Ext taps) {
  auto acc = c.accessor<double, 3>();
  double sum = 0;
  const int64_t r = order == 3 ? 2 : 1;
  std::array<int64_t, 3> base;
  for (int d = 0; d < 3; ++d)
    base[d] = static_cast<int64_t>(std::floor(x[d]));
  for (int64_t i = base[0] - r; i <= base[0] + r + 1; ++i)
    for (int64_t j = base[1] - r; j <= base[1] + r + 1; ++j)
      for (int64_t k = base[2] - r; k <= base[2] + r + 1; ++k) {
        const double w = basis(x[0] - i, order) * basis(x[1] - j, order) * basis(x[2] - k, order);
        if (w != 0)
          sum += w * acc[extend(i, c.size(0), taps)][extend(j, c.size(1), taps)]
                        [extend(k, c.size(2), taps)];
      }
  return sum;
}

// Affine's input position of output voxel o for a centred matrix m (rows of 4), the input and
// output sizes equal: MONAI's AffineGrid and Resample, exact for the dyadic matrices used here.
// With align_corners, MONAI's Resample scales the centred position by (d - 1) / d in float32
// before adding (d - 1) / 2.
std::array<double, 3> position(const std::vector<double> &m, const std::array<int64_t, 3> &o,
                               const std::vector<int64_t> &size, bool align = false) {
  std::array<double, 3> x;
  for (int r = 0; r < 3; ++r) {
    double v = m[r * 4 + 3];
    for (int k = 0; k < 3; ++k)
      v += m[r * 4 + k] * (double(o[k]) - (size[k] - 1) / 2.0);
    const double d = double(std::max<int64_t>(size[r], 2));
    x[r] = align ? double(float(float((d - 1) / d) * float(v)) + float((d - 1) / 2))
                 : v + (size[r] - 1) / 2.0;
  }
  return x;
}

// A smooth random volume: values in about [-1, 1], so float32 rounding stays near 1e-7.
at::Tensor volume(const std::vector<int64_t> &size, int seed) {
  at::manual_seed(seed);
  at::Tensor x = at::rand({1, 1, size[0] / 2 + 2, size[1] / 2 + 2, size[2] / 2 + 2}) * 2 - 1;
  return at::upsample_trilinear3d(x, {size[0], size[1], size[2]}, true, {}, {}, {})[0];
}

// Runs Affine(m, mode, padding) and compares every voxel with `reference(x)`.
void expectAffine(const std::vector<int64_t> &size, const std::vector<double> &m,
                  const std::string &mode, const std::string &padding,
                  const std::function<double(const std::array<double, 3> &)> &reference,
                  bool align = false) {
  med::MetaTensor img(volume(size, 7));
  med::MetaTensor out =
      T::Affine(T::AffineOptions().affine(m).mode(mode).padding_mode(padding).align_corners(align))
          .eager(img);
  ASSERT_EQ(out.data.sizes(), img.data.sizes());
  ASSERT_EQ(out.data.scalar_type(), at::kFloat);
  auto o = out.data.accessor<float, 4>();
  double worst = 0;
  for (int64_t i = 0; i < size[0]; ++i)
    for (int64_t j = 0; j < size[1]; ++j)
      for (int64_t k = 0; k < size[2]; ++k) {
        const double want = reference(position(m, {i, j, k}, size, align));
        worst = std::max(worst, std::abs(double(o[0][i][j][k]) - want));
      }
  EXPECT_LT(worst, 2e-6) << mode << " " << padding << (align ? " align_corners" : "");
}

// Rotation-like shear, zoom and an off-grid shift (all dyadic: positions exact in float32).
const std::vector<double> kMatrix = {0.75,  0.25, 0.0,   0.3125, //
                                     0.0,   1.25, -0.5,  -1.5,   //
                                     0.125, 0.0,  0.875, 2.25,   //
                                     0.0,   0.0,  0.0,   1.0};

TEST(Spline, CubicMatchesTheDenseReferenceForEachBoundary) {
  const std::vector<int64_t> size{9, 12, 7};
  const at::Tensor f = volume(size, 7)[0].to(at::kDouble);
  // mirror: whole-sample symmetric; reflect (MONAI's "reflection"): half-sample; grid-wrap.
  for (auto [padding, ext] :
       {std::pair{"mirror", Ext::Mirror}, std::pair{"reflection", Ext::Reflect},
        std::pair{"reflect", Ext::Reflect}, std::pair{"grid-wrap", Ext::GridWrap}}) {
    const at::Tensor c = coefficients(f, 3, ext);
    expectAffine(size, kMatrix, "3", padding,
                 [&](const std::array<double, 3> &x) { return evaluate(c, x, 3, ext); });
  }
}

TEST(Spline, AlignCornersScalesThePositionAsMonaisResample) {
  const std::vector<int64_t> size{9, 12, 7};
  const at::Tensor c = coefficients(volume(size, 7)[0].to(at::kDouble), 3, Ext::Mirror);
  expectAffine(
      size, kMatrix, "3", "mirror",
      [&](const std::array<double, 3> &x) { return evaluate(c, x, 3, Ext::Mirror); }, true);
}

TEST(Spline, QuadraticMatchesTheDenseReference) {
  const std::vector<int64_t> size{8, 10, 9};
  const at::Tensor c = coefficients(volume(size, 7)[0].to(at::kDouble), 2, Ext::Mirror);
  expectAffine(size, kMatrix, "2", "mirror",
               [&](const std::array<double, 3> &x) { return evaluate(c, x, 2, Ext::Mirror); });
}

TEST(Spline, ConstantIsZeroOutsideAndMirrorsTapsInside) {
  // MONAI's "zeros" is ndimage's constant: 0 where a coordinate leaves [0, n - 1]; inside, the
  // spline of the mirror-filtered coefficients.
  const std::vector<int64_t> size{9, 12, 7};
  const at::Tensor c = coefficients(volume(size, 7)[0].to(at::kDouble), 3, Ext::Mirror);
  expectAffine(size, kMatrix, "3", "zeros", [&](const std::array<double, 3> &x) {
    for (int d = 0; d < 3; ++d)
      if (x[d] < 0 || x[d] > size[d] - 1)
        return 0.0;
    return evaluate(c, x, 3, Ext::Mirror);
  });
}

TEST(Spline, NearestPadsWithEdgeValuesBeforeFiltering) {
  // ndimage pads 12 edge voxels per side, filters with reflect, then reads taps clamped.
  const std::vector<int64_t> size{9, 12, 7};
  at::Tensor f = volume(size, 7)[0].to(at::kDouble);
  for (int64_t d = 0; d < 3; ++d)
    f = f.index_select(d, at::arange(-12, size[d] + 12, at::kLong).clamp(0, size[d] - 1));
  const at::Tensor c = coefficients(f, 3, Ext::Reflect);
  expectAffine(size, kMatrix, "3", "border", [&](const std::array<double, 3> &x) {
    return evaluate(c, {x[0] + 12, x[1] + 12, x[2] + 12}, 3, Ext::Edge);
  });
}

TEST(Spline, LinearAndNearestOrdersNeedNoPrefilter) {
  const std::vector<int64_t> size{6, 7, 5};
  const at::Tensor f = volume(size, 7)[0].to(at::kDouble);
  auto fa = f.accessor<double, 3>();
  auto at3 = [&](int64_t i, int64_t j, int64_t k) {
    return fa[extend(i, size[0], Ext::Mirror)][extend(j, size[1], Ext::Mirror)]
             [extend(k, size[2], Ext::Mirror)];
  };
  expectAffine(size, kMatrix, "1", "mirror", [&](const std::array<double, 3> &x) {
    double sum = 0;
    const int64_t b0 = std::floor(x[0]), b1 = std::floor(x[1]), b2 = std::floor(x[2]);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t k = 0; k < 2; ++k)
          sum += (i ? x[0] - b0 : 1 - (x[0] - b0)) * (j ? x[1] - b1 : 1 - (x[1] - b1)) *
                 (k ? x[2] - b2 : 1 - (x[2] - b2)) * at3(b0 + i, b1 + j, b2 + k);
    return sum;
  });
  // Order 0 mirrors the position into the image first, then rounds half up (floor(x + 0.5)):
  // a tie outside the image rounds towards its inside.
  expectAffine(size, kMatrix, "0", "mirror", [&](const std::array<double, 3> &x) {
    std::array<int64_t, 3> q;
    for (int d = 0; d < 3; ++d) {
      const double hi = double(size[d] - 1);
      const double in = x[d] < 0 ? -x[d] : x[d] > hi ? 2 * hi - x[d] : x[d];
      q[d] = static_cast<int64_t>(std::floor(in + 0.5));
    }
    return at3(q[0], q[1], q[2]);
  });
}

TEST(Spline, CubicInterpolatesTheSamples) {
  // The identity matrix reads every voxel at its own position: the spline passes through it.
  med::MetaTensor img(volume({11, 6, 9}, 3) * 100.0f);
  for (const char *padding : {"zeros", "border", "reflection", "mirror", "grid-constant", "wrap"}) {
    med::MetaTensor out = T::Affine(T::AffineOptions().mode("3").padding_mode(padding)).eager(img);
    EXPECT_LT((out.data - img.data).abs().max().item<double>(), 1e-4) << padding;
  }
  med::MetaTensor flat(img.data[0].slice(2, 0, 1).squeeze(2).unsqueeze(0)); // (1, 11, 6)
  med::MetaTensor out2 = T::Affine(T::AffineOptions().mode("3")).eager(flat);
  EXPECT_LT((out2.data - flat.data).abs().max().item<double>(), 1e-4);
}

TEST(Spline, RandomTransformsCompileAroundTheSplineAsAHostStep) {
  // RandAffine and Rand3DElastic in mode 3 run eagerly inside a compiled pipeline: compiled ==
  // eager, the record inverts, a zero-magnitude elastic field leaves the samples in place.
  med::MetaTensor img(volume({12, 10, 8}, 5));
  T::Compose chain({T::RandAffine(T::RandAffineOptions()
                                      .prob(1.0)
                                      .rotate_range({0.3, 0.2, 0.1})
                                      .scale_range({0.1})
                                      .mode("3")
                                      .padding_mode("zeros")),
                    T::ShiftIntensity(T::ShiftIntensityOptions(0.5))});
  const med::rt::RandomKey key{1, 2, 3, 0};
  med::MetaTensor eager = chain.eager(img, key);
  med::MetaTensor compiled = chain.compile(T::Schedule::cpu().threads(2)).run(img, key);
  EXPECT_TRUE(at::equal(eager.data, compiled.data));
  med::MetaTensor back = T::inverse(eager); // ShiftIntensity keeps no record
  EXPECT_EQ(back.data.sizes(), img.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-6);

  med::MetaTensor still =
      T::Rand3DElastic(T::Rand3DElasticOptions({1, 2}, {0, 0}).prob(1.0).mode("3")).eager(img);
  EXPECT_LT((still.data - img.data).abs().max().item<double>(), 1e-5);
}

TEST(Spline, BadModesAndPaddingsNameTheOption) {
  expectError([] { T::Affine(T::AffineOptions().mode("4")); }, {"Affine.mode", "'4'"});
  expectError([] { T::Affine(T::AffineOptions().mode("bilinear").padding_mode("mirror")); },
              {"Affine.padding_mode", "'mirror'"});
  expectError([] { T::Affine(T::AffineOptions().mode("3").padding_mode("edge")); },
              {"Affine.padding_mode", "'edge'"});
  expectError([] { T::RandAffine(T::RandAffineOptions().mode("5")); }, {"RandAffine.mode"});
  expectError([] { T::Rotate(T::RotateOptions({0.1}).mode("3")); }, {"Rotate.mode", "'3'"});
}

} // namespace
