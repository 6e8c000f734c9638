// The .npy reader and writer: round trips and the errors a broken golden file must raise.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <unistd.h>

#include "med/core/error.h"
#include "npy.h"

namespace fs = std::filesystem;
using med::conformance::readNpy;
using med::conformance::writeNpy;

namespace {

// A per-test scratch folder, removed afterwards.
class ConformanceNpy : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("med-npy-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes a .npy by hand: magic, version, header (padded as NumPy does), then `data`.
  fs::path raw(const std::string &name, const std::string &dict, const std::string &data,
               char major = 1, char minor = 0) {
    std::string header = dict;
    size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
    fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write("\x93NUMPY", 6);
    out.put(major);
    out.put(minor);
    out.put(static_cast<char>(header.size() & 0xff));
    out.put(static_cast<char>(header.size() >> 8));
    out << header << data;
    return p;
  }

  // Expects readNpy(p) to throw med::Error whose message names the file and contains `what`.
  void expectError(const fs::path &p, const std::string &what) {
    try {
      readNpy(p);
      FAIL() << "no error for " << p;
    } catch (const med::Error &e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }

  fs::path dir_;
};

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char *>(v.begin()), v.size() * sizeof(float));
}

} // namespace

TEST_F(ConformanceNpy, RoundTripFloat32WithNonFinite) {
  at::Tensor t = at::arange(24, at::kFloat).reshape({1, 2, 3, 4}) * 0.5f - 3.0f;
  t.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  t.view(-1)[1] = std::numeric_limits<float>::infinity();
  t.view(-1)[2] = -std::numeric_limits<float>::infinity();
  writeNpy(dir_ / "a.npy", t);
  at::Tensor back = readNpy(dir_ / "a.npy");
  EXPECT_EQ(back.scalar_type(), at::kFloat);
  EXPECT_EQ(back.sizes(), t.sizes());
  EXPECT_TRUE(at::equal(at::isnan(back), at::isnan(t)));
  EXPECT_TRUE(at::equal(at::nan_to_num(back, 7.0), at::nan_to_num(t, 7.0)));
  EXPECT_FALSE(fs::exists(dir_ / "a.npy.tmp"));
}

TEST_F(ConformanceNpy, RoundTripFloat64ZeroDimAndEmpty) {
  at::Tensor scalar = at::full({}, 0.1234567890123, at::kDouble);
  writeNpy(dir_ / "s.npy", scalar);
  at::Tensor back = readNpy(dir_ / "s.npy");
  EXPECT_EQ(back.dim(), 0);
  EXPECT_EQ(back.scalar_type(), at::kDouble);
  EXPECT_EQ(back.item<double>(), 0.1234567890123);

  at::Tensor empty = at::empty({2, 0, 3}, at::kDouble);
  writeNpy(dir_ / "e.npy", empty);
  EXPECT_EQ(readNpy(dir_ / "e.npy").sizes(), empty.sizes());

  at::Tensor vec = at::arange(5, at::kDouble);
  writeNpy(dir_ / "v.npy", vec);
  EXPECT_TRUE(at::equal(readNpy(dir_ / "v.npy"), vec));
}

TEST_F(ConformanceNpy, WriterMatchesNumPyLayout) {
  writeNpy(dir_ / "l.npy", at::zeros({3, 2}, at::kFloat));
  std::ifstream in(dir_ / "l.npy", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 10u);
  size_t headerLen =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + headerLen) % 64, 0u);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes[10 + headerLen - 1], '\n');
  EXPECT_EQ(bytes.size(), 10 + headerLen + 6 * 4);
}

TEST_F(ConformanceNpy, ReadsNonContiguousWritesAndOtherKeyOrders) {
  at::Tensor t = at::arange(6, at::kFloat).reshape({2, 3}).t(); // not contiguous
  writeNpy(dir_ / "t.npy", t);
  EXPECT_TRUE(at::equal(readNpy(dir_ / "t.npy"), t.contiguous()));
  fs::path p = raw("k.npy", "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
                   floats({1.5f, -2.0f}));
  at::Tensor k = readNpy(p);
  EXPECT_EQ(k.sizes(), at::IntArrayRef({2}));
  EXPECT_EQ(k[1].item<float>(), -2.0f);
}

TEST_F(ConformanceNpy, RejectsWhatTheGoldenFolderNeverHolds) {
  std::string two = floats({1, 2});
  expectError(raw("i8.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                  std::string(8, '\0')),
              "unsupported dtype '<i8'");
  expectError(raw("be.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", two),
              "unsupported dtype '>f4'");
  expectError(raw("f.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", two),
              "Fortran");
  expectError(raw("v2.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", two, 2),
              "version 2.0");
  expectError(raw("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", two),
              "data size mismatch");
  expectError(raw("long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", two),
              "data size mismatch");
  expectError(raw("key.npy", "{'descr': '<f4', 'order': False, 'shape': (2,), }", two),
              "unexpected key");
  expectError(raw("bad.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,x), }", two),
              "malformed header");
  expectError(raw("miss.npy", "{'descr': '<f4', 'shape': (2,), }", two), "lacks");
}

TEST_F(ConformanceNpy, RejectsMissingAndForeignFiles) {
  expectError(dir_ / "absent.npy", "cannot open");
  fs::path p = dir_ / "text.npy";
  std::ofstream(p) << "hello, not an array";
  expectError(p, "magic");
  std::ofstream(dir_ / "tiny.npy") << "\x93NU";
  expectError(dir_ / "tiny.npy", "magic");
}

TEST_F(ConformanceNpy, WriterRejectsOtherDtypes) {
  try {
    writeNpy(dir_ / "int.npy", at::arange(3, at::kLong));
    FAIL() << "int64 accepted";
  } catch (const med::Error &e) {
    EXPECT_NE(std::string(e.what()).find("int.npy"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "int.npy"));
}
