// The inline float32 log, exp and cos (lib/compiler/FastMath.h) against the C library's double
// functions, over dense sweeps of float32 inputs and the special values. Each function is
// compiled alone into a kernel (a loop over a buffer) by the process's JIT session, so the code
// under test is exactly what the lowering emits, vectorised as in the transforms.
#include "FastMath.h"
#include "med/compiler/JitSession.h"
#include "med/runtime/kernel_abi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

namespace {

using Builder = std::function<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::Value)>;

// med_kernel(in, out, params): out[i] = f(in[i]) for every i, as IR text.
std::string kernelIR(const Builder &f) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect>();
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  mlir::OpBuilder b(&ctx);
  mlir::Location l = b.getUnknownLoc();
  mlir::ModuleOp module = mlir::ModuleOp::create(l);
  b.setInsertionPointToEnd(module.getBody());
  auto buf = mlir::MemRefType::get({mlir::ShapedType::kDynamic}, b.getF32Type());
  auto params = mlir::MemRefType::get({mlir::ShapedType::kDynamic}, b.getF64Type());
  auto func =
      b.create<mlir::func::FuncOp>(l, "med_kernel", b.getFunctionType({buf, buf, params}, {}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  b.setInsertionPointToStart(func.addEntryBlock());
  mlir::Value in = func.getArgument(0), out = func.getArgument(1);
  mlir::Value zero = b.create<mlir::arith::ConstantIndexOp>(l, 0);
  mlir::Value one = b.create<mlir::arith::ConstantIndexOp>(l, 1);
  mlir::Value n = b.create<mlir::memref::DimOp>(l, in, 0);
  b.create<mlir::scf::ForOp>(
      l, zero, n, one, mlir::ValueRange{},
      [&](mlir::OpBuilder &nb, mlir::Location nl, mlir::Value i, mlir::ValueRange) {
        mlir::Value x = nb.create<mlir::memref::LoadOp>(nl, in, mlir::ValueRange{i});
        nb.create<mlir::memref::StoreOp>(nl, f(nb, nl, x), out, mlir::ValueRange{i});
        nb.create<mlir::scf::YieldOp>(nl);
      });
  b.create<mlir::func::ReturnOp>(l);
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  module.erase();
  return text;
}

std::vector<float> run(const Builder &f, std::vector<float> in) {
  std::string error;
  auto kernel = med::compiler::JitSession::global().compile(kernelIR(f), &error);
  EXPECT_TRUE(kernel) << error;
  std::vector<float> out(in.size(), -12345.0f);
  if (!kernel)
    return out;
  std::vector<double> p(1);
  const int64_t n = static_cast<int64_t>(in.size());
  med_memref1d descs[3] = {{in.data(), in.data(), 0, n, 1},
                           {out.data(), out.data(), 0, n, 1},
                           {p.data(), p.data(), 0, 1, 1}};
  void *ptrs[3] = {&descs[0], &descs[1], &descs[2]};
  void *args[3] = {&ptrs[0], &ptrs[1], &ptrs[2]};
  kernel->entry(args);
  return out;
}

float fromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Every `step`-th float32 bit pattern in [first, last] (positive floats increase with their
// bits), and the last.
std::vector<float> sweep(float first, float last, uint32_t step) {
  uint32_t a, z;
  std::memcpy(&a, &first, 4);
  std::memcpy(&z, &last, 4);
  std::vector<float> v;
  for (uint64_t u = a; u <= z; u += step)
    v.push_back(fromBits(static_cast<uint32_t>(u)));
  v.push_back(last);
  return v;
}

// The distance between the float32 values around `ref` (the unit in the last place there);
// the subnormal spacing below the normal range.
double ulp(double ref) {
  float f = static_cast<float>(std::fabs(ref));
  if (f < std::numeric_limits<float>::min())
    return std::ldexp(1.0, -149);
  return std::nextafter(f, std::numeric_limits<float>::infinity()) - f;
}

// The largest error of f over `in` in ulps of the double reference, and where it is.
struct Worst {
  double ulps = 0;
  float at = 0;
};
Worst worstUlps(const std::vector<float> &in, const std::vector<float> &out, double (*ref)(double),
                double absFloor = 0) {
  Worst w;
  for (size_t i = 0; i < in.size(); ++i) {
    double r = ref(in[i]);
    double err = std::fabs(double(out[i]) - r);
    if (err <= absFloor)
      continue;
    double u = err / ulp(r);
    if (!(u <= w.ulps)) { // NaN counts as worst
      w.ulps = u;
      w.at = in[i];
    }
  }
  return w;
}

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(FastMath, LogWithinTwoUlpOnAllPositiveFloats) {
  // Subnormals through the largest float, every 401st pattern (5.3M inputs).
  std::vector<float> in = sweep(fromBits(1), std::numeric_limits<float>::max(), 401);
  std::vector<float> out = run(mlir::med::lowering::fastLogF32, in);
  Worst w = worstUlps(in, out, [](double x) { return std::log(x); });
  EXPECT_LE(w.ulps, 2.0) << "at x = " << w.at;
}

TEST(FastMath, LogSpecialValues) {
  std::vector<float> out =
      run(mlir::med::lowering::fastLogF32, {0.0f, -0.0f, kInf, -1.0f, -kInf, kNaN, 1.0f});
  EXPECT_EQ(out[0], -kInf);
  EXPECT_EQ(out[1], -kInf);
  EXPECT_EQ(out[2], kInf);
  EXPECT_TRUE(std::isnan(out[3]));
  EXPECT_TRUE(std::isnan(out[4]));
  EXPECT_TRUE(std::isnan(out[5]));
  EXPECT_EQ(out[6], 0.0f);
}

TEST(FastMath, ExpWithinTwoUlpOverItsRange) {
  // From -87.3 (results near the smallest normal float) to where it overflows, every 331st
  // pattern (5.8M inputs).
  std::vector<float> in = sweep(0.0f, 87.3f, 331), pos = sweep(0.0f, 88.72f, 331);
  for (float &x : in)
    x = -x;
  in.insert(in.end(), pos.begin(), pos.end());
  std::vector<float> out = run(mlir::med::lowering::fastExpF32, in);
  Worst w = worstUlps(in, out, [](double x) { return std::exp(x); });
  EXPECT_LE(w.ulps, 2.0) << "at x = " << w.at;
}

TEST(FastMath, ExpSpecialValuesAndNoSubnormals) {
  std::vector<float> out =
      run(mlir::med::lowering::fastExpF32,
          {0.0f, -kInf, kInf, kNaN, -87.31f, -90.0f, -104.0f, -1000.0f, 88.8f, 1000.0f});
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], kInf);
  EXPECT_TRUE(std::isnan(out[3]));
  for (int i = 4; i <= 7; ++i) // below -87.3: 0, never a subnormal
    EXPECT_EQ(out[i], 0.0f) << "i = " << i;
  EXPECT_EQ(out[8], kInf);
  EXPECT_EQ(out[9], kInf);
  // Just above the cut the result is a normal float.
  std::vector<float> near = run(mlir::med::lowering::fastExpF32, {-87.29f, -87.2999f});
  for (float v : near)
    EXPECT_GE(v, std::numeric_limits<float>::min());
}

// RandAdjustContrast's power on [0, 1]: bit for bit what fastExpF32(g fastLogF32(x)) gives
// (which the contrast computed before), and within a few float ulp of 1 of the exact power.
TEST(FastMath, PowOnTheUnitIntervalIsExpOfGammaLogBitForBit) {
  std::vector<float> in = sweep(0.0f, 1.0f, 997); // every 997th float in [0, 1], subnormals too
  for (float x : {0.0f, fromBits(1), 1e-39f, 1e-30f, 0.5f, 1.0f, kNaN})
    in.push_back(x);
  for (float g : {0.5f, 0.7f, 1.0f, 1.37f, 2.5f, 4.5f}) {
    auto constant = [g](mlir::OpBuilder &b, mlir::Location l) {
      return b.create<mlir::arith::ConstantOp>(l, b.getF32FloatAttr(g)).getResult();
    };
    std::vector<float> pow = run(
        [&](mlir::OpBuilder &b, mlir::Location l, mlir::Value x) {
          return mlir::med::lowering::fastPowUnitF32(b, l, x, constant(b, l));
        },
        in);
    std::vector<float> viaExp = run(
        [&](mlir::OpBuilder &b, mlir::Location l, mlir::Value x) {
          mlir::Value lg = mlir::med::lowering::fastLogF32(b, l, x);
          return mlir::med::lowering::fastExpF32(
              b, l, b.create<mlir::arith::MulFOp>(l, constant(b, l), lg));
        },
        in);
    double worst = 0.0;
    for (size_t i = 0; i < in.size(); ++i) {
      if (std::isnan(in[i])) {
        EXPECT_TRUE(std::isnan(pow[i]) && std::isnan(viaExp[i])) << "g = " << g;
        continue;
      }
      ASSERT_EQ(pow[i], viaExp[i]) << "x = " << in[i] << ", g = " << g;
      worst = std::max(worst, std::fabs(double(pow[i]) - std::pow(double(in[i]), double(g))));
    }
    EXPECT_LE(worst, 3.0 * 0x1p-24) << "g = " << g; // three ulp of 1's lower neighbours
  }
}

TEST(FastMath, DoubleExpWithinFourDoubleUlpOfTheCLibrary) {
  // Kernel: x (f32) -> (fastExpF64(x) - exp(x)) / exp(x) in units of 2^-52, exp the C library's
  // (math.exp becomes a call), written as f32. Every 97th float in [-708, 709].
  std::vector<float> in = sweep(0.0f, 708.0f, 97), pos = sweep(0.0f, 709.0f, 97);
  for (float &x : in)
    x = -x;
  in.insert(in.end(), pos.begin(), pos.end());
  std::vector<float> err = run(
      [](mlir::OpBuilder &b, mlir::Location l, mlir::Value x32) -> mlir::Value {
        mlir::Value x = b.create<mlir::arith::ExtFOp>(l, b.getF64Type(), x32);
        mlir::Value ref = b.create<mlir::math::ExpOp>(l, x);
        mlir::Value ours = mlir::med::lowering::fastExpF64(b, l, x);
        mlir::Value rel =
            b.create<mlir::arith::DivFOp>(l, b.create<mlir::arith::SubFOp>(l, ours, ref), ref);
        mlir::Value scaled = b.create<mlir::arith::MulFOp>(
            l, rel, b.create<mlir::arith::ConstantOp>(l, b.getF64FloatAttr(4503599627370496.0)));
        return b.create<mlir::arith::TruncFOp>(l, b.getF32Type(), scaled);
      },
      in);
  float worst = 0.0f, at = 0.0f;
  for (size_t i = 0; i < in.size(); ++i)
    if (!(std::fabs(err[i]) <= worst))
      worst = std::fabs(err[i]), at = in[i];
  EXPECT_LE(worst, 4.0f) << "at x = " << at;
  std::vector<float> special = run(
      [](mlir::OpBuilder &b, mlir::Location l, mlir::Value x32) -> mlir::Value {
        mlir::Value x = b.create<mlir::arith::ExtFOp>(l, b.getF64Type(), x32);
        return b.create<mlir::arith::TruncFOp>(l, b.getF32Type(),
                                               mlir::med::lowering::fastExpF64(b, l, x));
      },
      {0.0f, -kInf, kInf, kNaN, -800.0f, 720.0f, 1.0f});
  EXPECT_EQ(special[0], 1.0f);
  EXPECT_EQ(special[1], 0.0f);
  EXPECT_EQ(special[2], kInf);
  EXPECT_TRUE(std::isnan(special[3]));
  EXPECT_EQ(special[4], 0.0f);
  EXPECT_EQ(special[5], kInf);
  EXPECT_EQ(special[6], static_cast<float>(std::exp(1.0)));
}

TEST(FastMath, CosWithinTwoUlpOnModerateArguments) {
  // |x| <= 64, every 211th pattern (10.6M inputs); near the zeros of cos an absolute error of 2^-27
  // is allowed (the reduced argument's error there, far below the float spacing of values near 1).
  std::vector<float> in = sweep(0.0f, 64.0f, 211);
  size_t half = in.size();
  for (size_t i = 0; i < half; ++i)
    in.push_back(-in[i]);
  std::vector<float> out = run(mlir::med::lowering::fastCosF32, in);
  Worst w = worstUlps(
      in, out, [](double x) { return std::cos(x); }, std::ldexp(1.0, -27));
  EXPECT_LE(w.ulps, 2.0) << "at x = " << w.at;
}

TEST(FastMath, CosSpecialValuesAndLargeArguments) {
  std::vector<float> in = {0.0f,     kInf,       -kInf,  kNaN,      3.0e38f,
                           -1.0e30f, 1048576.0f, 1.0e5f, -765432.5f};
  std::vector<float> out = run(mlir::med::lowering::fastCosF32, in);
  EXPECT_EQ(out[0], 1.0f);
  for (int i = 1; i <= 6; ++i) // infinities, NaN and |x| >= 2^20: NaN, not a made-up cosine
    EXPECT_TRUE(std::isnan(out[i])) << "x = " << in[i];
  for (int i = 7; i <= 8; ++i) // large but below 2^20: still a cosine to ~1e-7
    EXPECT_NEAR(out[i], std::cos(double(in[i])), 2e-7) << "x = " << in[i];
}

} // namespace
