// RandBiasField, RandRicianNoise and RandKSpaceSpikeNoise (MONAI semantics). Draws come from the
// call's sub-stream (detail::subStream), per-voxel noise from rt::voxelNormal.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/intensity_aug.h"
#include "med/transforms/spatial.h"

namespace med::transforms {
namespace {

void checkProb(const std::string &t, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(t + ".prob", "expected a probability in [0, 1], got " + std::to_string(p));
}

int64_t randint(rt::Rng &rng, int64_t lo, int64_t hi) {
  if (hi <= lo + 1)
    return lo;
  auto k = static_cast<int64_t>(std::floor(rng.uniform() * static_cast<double>(hi - lo)));
  return lo + std::min(k, hi - lo - 1);
}

// Legendre polynomials P_0..P_degree at np.linspace(-1, 1, n, dtype=float32), float64.
std::vector<at::Tensor> legendre(int64_t n, int64_t degree) {
  at::Tensor x = at::linspace(-1.0, 1.0, n, at::TensorOptions().dtype(at::kDouble));
  x = x.to(at::kFloat).to(at::kDouble);
  std::vector<at::Tensor> p{at::ones_like(x), x};
  for (int64_t k = 1; k < degree; ++k)
    p.push_back(((2.0 * k + 1.0) * x * p[k] - static_cast<double>(k) * p[k - 1]) / (k + 1.0));
  p.resize(degree + 1);
  return p;
}

// One value per channel: `v` of size 1 (repeated) or size C.
double perChannel(const std::vector<double> &v, int64_t c, int64_t C, const std::string &where) {
  if (v.size() != 1 && static_cast<int64_t>(v.size()) != C)
    throw Error(where, "got " + std::to_string(v.size()) + " values for an image with " +
                           std::to_string(C) + " channels");
  return v.size() == 1 ? v[0] : v[c];
}

} // namespace

// --- RandBiasField -------------------------------------------------------------------------------

RandBiasField::RandBiasField(Options o) : o_(std::move(o)) {
  checkProb(name(), o_.prob());
  if (o_.degree() < 1)
    throw Error(name() + ".degree", "expected a degree >= 1, got " + std::to_string(o_.degree()));
  auto [lo, hi] = o_.coeff_range();
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
    throw Error(name() + ".coeff_range", "expected finite (low, high) with low <= high");
}

namespace {
// MONAI's term order: np.tril_indices(d + 1) in 2D, (i, j, k) with i + j + k <= d in 3D.
std::vector<std::array<int64_t, 3>> biasTerms(int64_t rank, int64_t d) {
  std::vector<std::array<int64_t, 3>> terms;
  for (int64_t i = 0; i <= d; ++i)
    if (rank == 2)
      for (int64_t j = 0; j <= i; ++j)
        terms.push_back({i, j, 0});
    else
      for (int64_t j = 0; j <= d - i; ++j)
        for (int64_t k = 0; k <= d - i - j; ++k)
          terms.push_back({i, j, k});
  return terms;
}
} // namespace

std::vector<double> RandBiasField::coefficients(int64_t rank, const double *p) const {
  if (rank != 2 && rank != 3)
    throw Error(name(), "only 2D and 3D fields are supported");
  rt::Rng rng(detail::subStream(p));
  std::vector<double> c;
  for (size_t t = 0; t < biasTerms(rank, o_.degree()).size(); ++t)
    c.push_back(rng.uniform(o_.coeff_range().first, o_.coeff_range().second));
  return c;
}

at::Tensor RandBiasField::field(const std::vector<int64_t> &spatial, const double *p) const {
  const int64_t rank = static_cast<int64_t>(spatial.size()), d = o_.degree();
  const std::vector<double> coeff = coefficients(rank, p);
  const std::vector<std::array<int64_t, 3>> terms = biasTerms(rank, d);
  std::vector<std::vector<at::Tensor>> L;
  for (int64_t a = 0; a < rank; ++a)
    L.push_back(legendre(spatial[a], d));
  at::Tensor f = at::zeros(spatial, at::TensorOptions().dtype(at::kDouble));
  for (size_t t = 0; t < terms.size(); ++t) {
    at::Tensor term = L[0][terms[t][0]].view({-1, 1}) * L[1][terms[t][1]].view({1, -1});
    if (rank == 3)
      term = term.unsqueeze(2) * L[2][terms[t][2]].view({1, 1, -1});
    f += coeff[t] * term;
  }
  return f;
}

void RandBiasField::sample(rt::Rng &rng, std::vector<double> &p) const {
  detail::sampleSubStream(rng, o_.prob(), p);
}

void RandBiasField::trace(frontend::ChainSpec &chain) const {
  const int n = chain.spatialRank;
  if (n != 2 && n != 3)
    throw Error(name(),
                "only 2D and 3D fields are supported, got " + std::to_string(n) + " spatial axes");
  chain.numParams += numParams(); // the draws; the shape and coefficients follow them
  const int terms = static_cast<int>(biasTerms(n, o_.degree()).size());
  frontend::OpSpec op = opWithParams(*this, chain, "bias_field", rt::DType::Float32, n + terms);
  op.operands.push_back(frontend::OpSpec::kIndexBase);
  op.attrs = {{"spatial_rank", double(n)}, {"degree", double(o_.degree())}};
  op.cheap = false; // a polynomial and an exp per voxel
  chain.ops.push_back(std::move(op));
}

void RandBiasField::shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                                  std::vector<double> &params) const {
  const int64_t n = static_cast<int64_t>(shape.size());
  for (int64_t s : shape)
    params.push_back(static_cast<double>(s));
  // A call that does not fire has no field: exp(0) leaves every value as it is.
  std::vector<double> c = draws[0] != 0.0 ? coefficients(n, draws)
                                          : std::vector<double>(biasTerms(n, o_.degree()).size());
  params.insert(params.end(), c.begin(), c.end());
}

MetaTensor RandBiasField::eager(const MetaTensor &img, const double *p) const {
  detail::spatialRank(img.data, name());
  if (p[0] == 0.0)
    return img.withData(img.data.to(at::kFloat));
  std::vector<int64_t> spatial(img.data.sizes().begin() + 1, img.data.sizes().end());
  at::Tensor f = field(spatial, p).unsqueeze(0);
  return img.withData((img.data.to(at::kDouble) * at::exp(f)).to(at::kFloat));
}

// --- RandRicianNoise -----------------------------------------------------------------------------

RandRicianNoise::RandRicianNoise(Options o) : o_(std::move(o)) {
  checkProb(name(), o_.prob());
  if (o_.mean().empty() || o_.std().empty())
    throw Error(name() + (o_.mean().empty() ? ".mean" : ".std"), "expected at least one value");
  if (!o_.channel_wise() && o_.mean().size() != 1)
    throw Error(name() + ".mean", "expected one value when channel_wise is false");
  if (!o_.channel_wise() && o_.std().size() != 1)
    throw Error(name() + ".std", "expected one value when channel_wise is false");
  for (double m : o_.mean())
    if (!std::isfinite(m))
      throw Error(name() + ".mean", "expected finite values");
  for (double s : o_.std())
    if (!std::isfinite(s) || s < 0)
      throw Error(name() + ".std", "expected finite values >= 0, got " + std::to_string(s));
  if (traceable())
    validateByTrace(*this);
}

void RandRicianNoise::sample(rt::Rng &rng, std::vector<double> &p) const {
  const size_t first = p.size();
  detail::sampleSubStream(rng, o_.prob(), p);
  // As eager() draws them, from the call's sub-stream: s first, then a key per noise.
  rt::Rng sub(detail::subStream(p.data() + first));
  const double std = o_.std()[0];
  p.push_back(o_.mean()[0]);
  p.push_back(o_.sample_std() ? sub.uniform(0.0, std) : std);
  for (uint32_t part : {1u, 2u}) {
    const auto key = rt::streamKey(detail::subStream(p.data() + first, part));
    p.push_back(key[0]);
    p.push_back(key[1]);
  }
  p.push_back(1.0); // the scale when the call is not relative
}

void RandRicianNoise::inputStats(const at::Tensor &input, std::vector<double> &p) const {
  p.push_back(input.to(at::kFloat).std().item<double>());
}

void RandRicianNoise::trace(frontend::ChainSpec &chain) const {
  if (chain.output() != rt::DType::Float32) // the reference converts first, then adds noise
    chain.ops.push_back(frontend::OpSpec{"cast", {}, {}, rt::DType::Float32, name()});
  const int base = chain.numParams;
  frontend::OpSpec s = opWithParams(*this, chain, "rician_noise", rt::DType::Float32, 10);
  // (fires, mean, s, scale, the keys): the scale is the std statistic after the draws when
  // relative, else the 1 sample() appended.
  int scale = base + 9;
  if (needsInputStats())
    scale = chain.numParams++;
  s.operands = {base,     base + 3, base + 4,
                scale,    base + 5, base + 6,
                base + 7, base + 8, frontend::OpSpec::kIndexBase};
  s.cheap = false; // two Philox blocks and Box-Muller pairs per voxel
  chain.ops.push_back(std::move(s));
}

MetaTensor RandRicianNoise::eager(const MetaTensor &img, const double *p) const {
  at::Tensor x = img.data.to(at::kFloat).contiguous();
  if (p[0] == 0.0)
    return img.withData(x);
  rt::Rng rng(detail::subStream(p));
  const auto k1 = rt::streamKey(detail::subStream(p, 1)),
             k2 = rt::streamKey(detail::subStream(p, 2));
  // Noise of one block of voxels (global flat indices base..): N(mean, s) in float64, as
  // numpy draws, then float32 (MONAI's astype).
  auto noise = [](std::array<uint32_t, 2> key, int64_t base, at::IntArrayRef shape, double mean,
                  double s) {
    at::Tensor n = at::empty(shape, at::TensorOptions().dtype(at::kDouble));
    double *d = n.data_ptr<double>();
    for (int64_t i = 0, e = n.numel(); i < e; ++i)
      d[i] = mean + s * rt::voxelNormal(key, static_cast<uint64_t>(base + i));
    return n.to(at::kFloat);
  };
  auto rician = [&](const at::Tensor &d, int64_t base, double mean, double std) {
    const double s = o_.sample_std() ? rng.uniform(0.0, std) : std;
    at::Tensor n1 = noise(k1, base, d.sizes(), mean, s), n2 = noise(k2, base, d.sizes(), mean, s);
    return at::sqrt((d + n1).pow(2) + n2.pow(2));
  };
  if (!o_.channel_wise()) {
    double std = o_.std()[0];
    if (o_.relative())
      std *= x.std().item<double>();
    return img.withData(rician(x, 0, o_.mean()[0], std));
  }
  const int64_t C = x.size(0), per = x.numel() / std::max<int64_t>(C, 1);
  at::Tensor out = x.clone();
  for (int64_t c = 0; c < C; ++c) {
    at::Tensor d = x[c];
    const double mean = perChannel(o_.mean(), c, C, name() + ".mean");
    double std = perChannel(o_.std(), c, C, name() + ".std");
    if (o_.relative())
      std *= d.std().item<double>();
    out[c].copy_(rician(d, c * per, mean, std));
  }
  return img.withData(out);
}

// --- RandKSpaceSpikeNoise ------------------------------------------------------------------------

RandKSpaceSpikeNoise::RandKSpaceSpikeNoise(Options o) : o_(std::move(o)) {
  checkProb(name(), o_.prob());
  if (o_.intensity_range()) {
    const auto &r = *o_.intensity_range();
    if (r.empty())
      throw Error(name() + ".intensity_range", "expected (low, high) or one per channel");
    if (r.size() > 1 && !o_.channel_wise())
      throw Error(name() + ".intensity_range",
                  "per-channel ranges need channel_wise; give one (low, high)");
    for (const auto &[lo, hi] : r)
      if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
        throw Error(name() + ".intensity_range", "expected finite (low, high) with low <= high");
  }
}

MetaTensor RandKSpaceSpikeNoise::eager(const MetaTensor &img, const double *p) const {
  const int64_t nsp = detail::spatialRank(img.data, name());
  if (p[0] == 0.0)
    return img;
  const at::Tensor x0 = img.data;
  const at::Tensor x = at::isFloatingType(x0.scalar_type()) ? x0 : x0.to(at::kFloat);
  const int64_t C = x.size(0);
  std::vector<int64_t> dims;
  for (int64_t d = 1; d <= nsp; ++d)
    dims.push_back(d);
  at::Tensor k = at::fft_fftshift(at::fft_fftn(x, c10::nullopt, dims), dims);
  at::Tensor logAbs = at::log(at::abs(k) + 1e-10);
  at::Tensor phase = at::angle(k);
  // Intensity interval per channel (MONAI's _make_sequence / _set_default_range).
  std::vector<std::pair<double, double>> ranges;
  if (!o_.intensity_range()) {
    at::Tensor m = (logAbs.mean(dims) * 2.5).to(at::kDouble);
    for (int64_t c = 0; c < C; ++c)
      ranges.emplace_back(m[c].item<double>() * 0.95, m[c].item<double>() * 1.1);
  } else if (o_.intensity_range()->size() == 1) {
    ranges.assign(C, o_.intensity_range()->front());
  } else if (static_cast<int64_t>(o_.intensity_range()->size()) == C) {
    ranges = *o_.intensity_range();
  } else {
    throw Error(name() + ".intensity_range", "got " + std::to_string(o_.intensity_range()->size()) +
                                                 " ranges for an image with " + std::to_string(C) +
                                                 " channels");
  }
  rt::Rng rng(detail::subStream(p));
  std::vector<int64_t> loc(nsp);
  auto drawLoc = [&] {
    for (int64_t d = 0; d < nsp; ++d)
      loc[d] = randint(rng, 0, x.size(d + 1));
  };
  if (!o_.channel_wise())
    drawLoc();
  for (int64_t c = 0; c < C; ++c) {
    if (o_.channel_wise())
      drawLoc();
    // Each channel draws its own intensity also without channel_wise (as MONAI, whose ranges
    // are always per channel by then).
    const double val = rng.uniform(ranges[c].first, ranges[c].second);
    at::Tensor e = logAbs.select(0, c);
    for (int64_t d = 0; d < nsp; ++d)
      e = e.select(0, loc[d]);
    e.fill_(val);
  }
  at::Tensor k2 = at::polar(at::exp(logAbs), phase);
  at::Tensor out = at::real(at::fft_ifftn(at::fft_ifftshift(k2, dims), c10::nullopt, dims));
  return img.withData(out.to(x0.scalar_type()).contiguous());
}

} // namespace med::transforms
