// Helpers shared by the transform tests: MONAI golden cases (.npy + case.json), error checks
// and a test volume with an oblique affine.
#pragma once

#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "med/core/error.h"
#include "med/core/meta_tensor.h"

namespace T = med::transforms;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// --- golden cases (MONAI 1.4.0 outputs) ----------------------------------------------------------

// Reads a .npy v1.0 file (little-endian float32/float64, C order).
at::Tensor readNpy(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.compare(0, 6, "\x93NUMPY"), 0) << p;
  uint16_t hlen = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  std::string header = bytes.substr(10, hlen);
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(header, m, std::regex("'descr': '<f([48])'"))) << header;
  auto dtype = m[1] == "4" ? at::kFloat : at::kDouble;
  std::regex_search(header, m, std::regex("'shape': \\(([^)]*)\\)"));
  std::vector<int64_t> shape;
  std::string dims = m[1];
  const std::regex number("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    shape.push_back(std::stoll(it->str()));
  at::Tensor t = at::empty(shape, dtype);
  EXPECT_EQ(bytes.size() - 10 - hlen, t.nbytes()) << p;
  std::memcpy(t.data_ptr(), bytes.data() + 10 + hlen, t.nbytes());
  return t;
}

med::Affine affineOf(const json &a) {
  med::Affine out{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      out[r * 4 + c] = a[r][c].get<double>();
  return out;
}

struct Golden {
  fs::path dir;
  json c;
  med::MetaTensor input(const std::string &name = "img") const {
    med::MetaTensor img(readNpy(dir / c["inputs"][name]["file"].get<std::string>()));
    img.meta.affine = affineOf(c["inputs"][name]["affine"]);
    return img;
  }
  // Expects MONAI's output: same shape, identical values, affine within 1e-6.
  void expectOutput(const med::MetaTensor &out, const std::string &name = "out") const {
    const json &o = c["outputs"][name];
    at::Tensor ref = readNpy(dir / o["file"].get<std::string>());
    ASSERT_EQ(out.data.sizes(), ref.sizes()) << c["case"];
    EXPECT_TRUE(at::equal(out.data.to(ref.scalar_type()), ref)) << c["case"];
    EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, affineOf(o["affine"])), 1e-6) << c["case"];
  }
};

std::optional<Golden> loadCase(const std::string &name) {
  fs::path dir = fs::path(MED_GOLDEN_DIR) / "seed0" / "transforms" / name;
  if (!fs::exists(dir / "case.json"))
    return std::nullopt;
  std::ifstream f(dir / "case.json");
  return Golden{dir, json::parse(f)};
}

#define LOAD_GOLDEN(var, name)                                                                     \
  auto var = loadCase(name);                                                                       \
  if (!var)                                                                                        \
  GTEST_SKIP() << "golden case " << name << " not found under " MED_GOLDEN_DIR

// --- helpers -------------------------------------------------------------------------------------

template <class F> void expectError(F &&f, std::vector<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "expected med::Error";
  } catch (const med::Error &e) {
    for (const std::string &n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
          << "'" << n << "' not in: " << e.what();
  }
}

// A volume whose every voxel differs, with an oblique affine.
med::MetaTensor volume(std::vector<int64_t> shape) {
  med::MetaTensor img(at::arange(at::ones(shape).numel(), at::kFloat).reshape(shape));
  med::Affine a = {0.9, -0.3, 0.1, -20, 0.3, 0.8, 0.05, 15, -0.1, 0.0, 2.4, 7, 0, 0, 0, 1};
  if (shape.size() == 3) // 2D: z row and column stay identity
    a = {0.9, -0.3, 0, -20, 0.3, 0.8, 0, 15, 0, 0, 1, 0, 0, 0, 0, 1};
  img.meta.affine = a;
  return img;
}

} // namespace
