// The traced form of spatial transforms: a med.resample whose operands (shapes and voxel map)
// are filled per call from a ResamplePlan.
#include "med/core/error.h"
#include "med/transforms/transform.h"

namespace med::transforms {

void traceResample(const Transform &t, frontend::ChainSpec &chain, const std::string &mode,
                   const std::string &padding, rt::DType result, bool bounded, bool zeroOutside,
                   bool displaced) {
  const int n = chain.spatialRank;
  if (n != 2 && n != 3)
    throw Error(t.name(),
                "a resample needs an image with 2 or 3 spatial axes, got " + std::to_string(n));
  if (mode == "bicubic" && n != 2) // the message eager's grid_sample gives
    throw Error(t.name() + ".mode", "bicubic needs an image with 2 spatial axes, got " +
                                        std::to_string(n) + " (grid_sample has no 3-D bicubic)");
  frontend::OpSpec op =
      opWithParams(t, chain, "resample", result, 2 * n + n * (n + 1) + (bounded ? 2 * n : 0));
  op.strings = {{"mode", mode}, {"padding_mode", padding}};
  if (bounded)
    op.flags = {"bounded"};
  if (bounded && zeroOutside)
    op.flags.push_back("zero_outside");
  op.resamples = true;
  op.displaced = displaced;
  chain.ops.push_back(std::move(op));
}

void tracePass(const Transform &t, frontend::ChainSpec &chain, int64_t axis, int64_t taps) {
  const int n = chain.spatialRank;
  if (n != 2 && n != 3)
    throw Error(t.name(),
                "a window pass needs an image with 2 or 3 spatial axes, got " + std::to_string(n));
  frontend::OpSpec op =
      opWithParams(t, chain, "filter_axis", rt::DType::Float32, n + static_cast<int>(taps));
  op.attrs = {{"axis", double(axis)}, {"spatial_rank", double(n)}};
  op.resamples = true; // gathers: the whole input, a window of output rows
  chain.ops.push_back(std::move(op));
}

bool resampleSupports(const std::string &mode, const std::string &padding) {
  return (mode == "nearest" || mode == "bilinear" || mode == "bicubic") &&
         (padding == "zeros" || padding == "border" || padding == "reflection");
}

std::string tracedPadding(const std::string &padding, bool alignCorners) {
  return padding == "reflection" && alignCorners ? "reflection_corners" : padding;
}

void appendPlan(const std::vector<int64_t> &in, const ResamplePlan &plan,
                std::vector<double> &params) {
  for (int64_t s : in)
    params.push_back(static_cast<double>(s));
  for (int64_t s : plan.shape)
    params.push_back(static_cast<double>(s));
  params.insert(params.end(), plan.matrix.begin(), plan.matrix.end());
  params.insert(params.end(), plan.bounds.begin(), plan.bounds.end());
}

ResamplePlan permutePlan(const std::vector<int64_t> &shape, const Meta &meta,
                         const std::vector<int64_t> &perm, const std::vector<bool> &flip) {
  const int64_t n = static_cast<int64_t>(shape.size());
  ResamplePlan plan;
  plan.shape.resize(n);
  plan.matrix.assign(n * (n + 1), 0.0);
  Affine xform = rt::identityAffine();
  for (int64_t i = 0; i < n; ++i)
    xform[i * 4 + i] = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t i = perm[j];
    plan.shape[j] = shape[i];
    // Output index o along axis j reads input index o (or size - 1 - o) along axis i.
    const double sign = flip[j] ? -1.0 : 1.0, shift = flip[j] ? double(shape[i] - 1) : 0.0;
    plan.matrix[i * (n + 1) + j] = sign;
    plan.matrix[i * (n + 1) + n] = shift;
    xform[i * 4 + j] = sign;
    xform[i * 4 + 3] = shift;
  }
  plan.meta = meta;
  plan.meta.affine = rt::matmul(meta.affine, xform);
  return plan;
}

} // namespace med::transforms
