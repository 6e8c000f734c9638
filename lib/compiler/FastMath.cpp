// Inline float32 log, exp and cos (FastMath.h). The reductions and polynomial coefficients are
// the classic single-precision ones (minimax fits on the reduced ranges; log's and cos's in
// med/runtime/fast_math.h, shared with the runtime's microkernels); every multiply-add of a
// reduction is an FMA so that the reduced argument carries one rounding.
#include "FastMath.h"

#include "med/runtime/fast_math.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <initializer_list>
#include <limits>
#include <vector>

using namespace mlir;

namespace {

// The few builder calls the three functions share, for f32 scalars and their i32 bit patterns.
struct F32 {
  OpBuilder &b;
  Location l;

  Value c(float v) { return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(v)); }
  Value ci(int32_t v) { return b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(v)); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(l, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(l, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(l, x, y); }
  Value fma(Value x, Value y, Value z) { return b.create<math::FmaOp>(l, x, y, z); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(l, p, x, y);
  }
  Value sel(Value cond, Value x, Value y) { return b.create<arith::SelectOp>(l, cond, x, y); }
  Value bits(Value x) { return b.create<arith::BitcastOp>(l, b.getI32Type(), x); }
  Value real(Value i) { return b.create<arith::BitcastOp>(l, b.getF32Type(), i); }
  // Horner's rule, highest coefficient first.
  template <typename Coeffs> Value poly(Value x, const Coeffs &coeffs) {
    Value acc;
    for (float k : coeffs)
      acc = acc ? fma(acc, x, c(k)) : c(k);
    return acc;
  }
  Value poly(Value x, std::initializer_list<float> coeffs) {
    return poly<std::initializer_list<float>>(x, coeffs);
  }
  // 2^n for an i32 n in [-126, 127]: the biased exponent in place.
  Value pow2(Value n) {
    return real(b.create<arith::ShLIOp>(l, b.create<arith::AddIOp>(l, n, ci(127)), ci(23)));
  }
};

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// log(x) for positive, finite x (subnormals included); other x give meaningless values, which
// the callers replace.
Value logOfFinitePositive(F32 &f, Value x) {
  OpBuilder &b = f.b;
  Location l = f.l;
  // Subnormals: scaled by 2^23 into the normal range, the exponent corrected below.
  Value tiny = f.cmp(arith::CmpFPredicate::OLT, x, f.c(0x1p-126f));
  Value bits = f.bits(f.sel(tiny, f.mul(x, f.c(0x1p23f)), x));
  Value e = b.create<arith::SubIOp>(l, b.create<arith::ShRUIOp>(l, bits, f.ci(23)),
                                    f.sel(tiny, f.ci(127 + 23), f.ci(127)));
  // x = 2^e m with m in [1, 2), then m in [sqrt(1/2), sqrt(2)) so that log(m) is small.
  Value m = f.real(b.create<arith::OrIOp>(l, b.create<arith::AndIOp>(l, bits, f.ci(0x007fffff)),
                                          f.ci(0x3f800000)));
  namespace fm = ::med::rt::fastmath;
  Value big = f.cmp(arith::CmpFPredicate::OGT, m, f.c(fm::kSqrt2));
  m = f.sel(big, f.mul(m, f.c(0.5f)), m);
  e = f.sel(big, b.create<arith::AddIOp>(l, e, f.ci(1)), e);
  Value ef = b.create<arith::SIToFPOp>(l, b.getF32Type(), e);
  // log(1 + t) = t - t^2 / 2 + t^3 P(t), t = m - 1; then e ln 2 with ln 2 in two parts.
  Value t = f.sub(m, f.c(1.0f)), z = f.mul(t, t);
  Value p = f.poly(t, fm::kLogP);
  Value y = f.mul(f.mul(p, t), z);
  y = f.fma(ef, f.c(fm::kLn2Lo), y);
  y = f.fma(z, f.c(-0.5f), y);
  return f.fma(ef, f.c(fm::kLn2Hi), f.add(t, y));
}

// exp(x) = e 2^n for f32 x: whether x is below -87.3 (the result is then 0), e, and the i32 n
// in [-126, 128]. Results are never subnormal: below -87.3 (exp < 1.21e-38, within 3% of the
// smallest normal float) the result is 0. A multiply whose result is subnormal takes a
// microcode assist on current x86 cores; in RandAdjustContrast, where every voxel at the
// image's minimum has exp(-inf), the assists cost more than the rest of the kernel. So the
// argument is clamped to [-87.3, 88.8] (NaN to the low end; the callers put it back), and
// above 88.72 2^n times the polynomial overflows to inf.
struct ExpParts {
  Value low, e, n;
};
ExpParts expReduced(F32 &f, Value x) {
  OpBuilder &b = f.b;
  Location l = f.l;
  Value low = f.cmp(arith::CmpFPredicate::OLT, x, f.c(-87.3f));
  Value xc = f.sel(f.cmp(arith::CmpFPredicate::OGT, x, f.c(-87.3f)), x, f.c(-87.3f));
  xc = f.sel(f.cmp(arith::CmpFPredicate::OLT, xc, f.c(88.8f)), xc, f.c(88.8f));
  Value n = b.create<math::RoundEvenOp>(l, f.mul(xc, f.c(1.44269504088896341f)));
  Value r = f.fma(n, f.c(-0.693359375f), xc);
  r = f.fma(n, f.c(2.12194440e-4f), r);
  // exp(r) = 1 + r + r^2 P(r) for |r| <= ln2 / 2.
  Value p = f.poly(r, {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                       1.6666665459e-1f, 5.0000001201e-1f});
  Value e = f.add(f.fma(p, f.mul(r, r), r), f.c(1.0f));
  return {low, e, b.create<arith::FPToSIOp>(l, b.getI32Type(), n)};
}

} // namespace

namespace mlir::med::lowering {

Value fastLogF32(OpBuilder &b, Location l, Value x) {
  F32 f{b, l};
  Value r = logOfFinitePositive(f, x);
  // log(+-0) = -inf, log(inf) = inf, log(x < 0) and log(NaN) = NaN.
  r = f.sel(f.cmp(arith::CmpFPredicate::OEQ, x, f.c(0.0f)), f.c(-kInf), r);
  r = f.sel(f.cmp(arith::CmpFPredicate::OEQ, x, f.c(kInf)), f.c(kInf), r);
  return f.sel(f.cmp(arith::CmpFPredicate::ULT, x, f.c(0.0f)), f.c(kNaN), r);
}

Value fastExpF32(OpBuilder &b, Location l, Value x) {
  F32 f{b, l};
  auto [low, e, n] = expReduced(f, x);
  // n in [-126, 128]: 2^n as 2^(n >> 1) 2^(n - (n >> 1)), both normal (2^128 alone is not).
  Value n1 = b.create<arith::ShRSIOp>(l, n, f.ci(1));
  Value n2 = b.create<arith::SubIOp>(l, n, n1);
  Value res = f.mul(f.mul(e, f.pow2(n1)), f.pow2(n2));
  res = f.sel(low, f.c(0.0f), res);
  return f.sel(f.cmp(arith::CmpFPredicate::UNO, x, x), x, res);
}

Value fastPowUnitF32(OpBuilder &b, Location l, Value x, Value g) {
  F32 f{b, l};
  // As fastLogF32 for x in [0, 1]: only log(0) = -inf needs its select.
  Value lg = logOfFinitePositive(f, x);
  lg = f.sel(f.cmp(arith::CmpFPredicate::OEQ, x, f.c(0.0f)), f.c(-kInf), lg);
  Value w = f.mul(g, lg);
  // As fastExpF32, with 2^n as one factor: n <= 0 for x <= 1 (2^128, from x > 1 only, is inf).
  auto [low, e, n] = expReduced(f, w);
  Value res = f.sel(low, f.c(0.0f), f.mul(e, f.pow2(n)));
  return f.sel(f.cmp(arith::CmpFPredicate::UNO, x, x), x, res);
}

Value fastExpF64(OpBuilder &b, Location l, Value x) {
  auto c = [&](double v) { return b.create<arith::ConstantOp>(l, b.getF64FloatAttr(v)); };
  auto ci = [&](int64_t v) { return b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(v)); };
  auto cmp = [&](arith::CmpFPredicate p, Value u, Value v) {
    return b.create<arith::CmpFOp>(l, p, u, v).getResult();
  };
  auto sel = [&](Value cond, Value u, Value v) {
    return b.create<arith::SelectOp>(l, cond, u, v).getResult();
  };
  auto fma = [&](Value u, Value v, Value w) {
    return b.create<math::FmaOp>(l, u, v, w).getResult();
  };
  // As the f32 form: no subnormal results (0 below -708.39, where exp leaves the normal
  // range), the argument clamped (NaN to the low end, put back at the end), overflow to inf
  // through 2^n above 709.78.
  Value low = cmp(arith::CmpFPredicate::OLT, x, c(-708.39));
  Value xc = sel(cmp(arith::CmpFPredicate::OGT, x, c(-708.39)), x, c(-708.39));
  xc = sel(cmp(arith::CmpFPredicate::OLT, xc, c(710.0)), xc, c(710.0));
  Value n = b.create<math::RoundEvenOp>(l, b.create<arith::MulFOp>(l, xc, c(1.4426950408889634)));
  // ln 2 in two parts; the first has 32 trailing zero bits, so n times it is exact.
  Value r = fma(n, c(-0x1.62e42feep-1), xc);
  r = fma(n, c(-0x1.a39ef35793c76p-33), r);
  // exp(r) for |r| <= ln2 / 2: its Taylor series to r^13 (the next term is below 5e-18).
  double inv = 1.0;
  std::vector<double> k(14);
  for (int i = 0; i < 14; ++i) {
    k[i] = 1.0 / inv;
    inv *= double(i + 1);
  }
  Value p = c(k[13]);
  for (int i = 12; i >= 0; --i)
    p = fma(p, r, c(k[i]));
  // n in [-1022, 1024]: 2^n as 2^(n >> 1) 2^(n - (n >> 1)), both normal.
  Value ni = b.create<arith::FPToSIOp>(l, b.getI64Type(), n);
  Value n1 = b.create<arith::ShRSIOp>(l, ni, ci(1));
  Value n2 = b.create<arith::SubIOp>(l, ni, n1);
  auto pow2 = [&](Value e) {
    return b.create<arith::BitcastOp>(
        l, b.getF64Type(),
        b.create<arith::ShLIOp>(l, b.create<arith::AddIOp>(l, e, ci(1023)), ci(52)));
  };
  Value res = b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, p, pow2(n1)), pow2(n2));
  res = sel(low, c(0.0), res);
  return sel(cmp(arith::CmpFPredicate::UNO, x, x), x, res);
}

Value fastCosF32(OpBuilder &b, Location l, Value x) {
  F32 f{b, l};
  // Arguments beyond 2^20 in magnitude (and infinities, NaN) reduce 0 and give NaN at the end:
  // a reduction by pi/2 in three parts no longer bounds r there, and NaN says so louder than a
  // wrong cosine would. Our callers' angles lie within [-pi/2, 2 pi].
  namespace fm = ::med::rt::fastmath;
  Value finite = f.cmp(arith::CmpFPredicate::OLT, b.create<math::AbsFOp>(l, x), f.c(fm::kCosLimit));
  Value xg = f.sel(finite, x, f.c(0.0f));
  // x = q pi/2 + r, pi/2 in three parts whose products with small q are exact.
  Value q = b.create<math::RoundEvenOp>(l, f.mul(xg, f.c(fm::kTwoOverPi)));
  Value r = f.fma(q, f.c(-fm::kPiOver2[0]), xg);
  r = f.fma(q, f.c(-fm::kPiOver2[1]), r);
  r = f.fma(q, f.c(-fm::kPiOver2[2]), r);
  Value z = f.mul(r, r);
  // cos(r) = 1 - r^2 / 2 + r^4 C(r^2), sin(r) = r + r^3 S(r^2) on [-pi/4, pi/4].
  Value cosR = f.fma(f.mul(f.poly(z, fm::kCosC), z), z, f.fma(z, f.c(-0.5f), f.c(1.0f)));
  Value sinR = f.fma(f.mul(f.poly(z, fm::kSinS), z), r, r);
  // cos(q pi/2 + r) by q mod 4: cos r, -sin r, -cos r, sin r. The quadrant in floats
  // (q - 4 floor(q / 4), exact for any finite q), so no huge q meets an integer conversion.
  Value k = f.fma(f.c(-4.0f), b.create<math::FloorOp>(l, f.mul(q, f.c(0.25f))), q);
  auto is = [&](float v) { return f.cmp(arith::CmpFPredicate::OEQ, k, f.c(v)); };
  Value odd = b.create<arith::OrIOp>(l, is(1.0f), is(3.0f));
  Value negative = b.create<arith::OrIOp>(l, is(1.0f), is(2.0f));
  Value v = f.sel(odd, sinR, cosR);
  v = f.sel(negative, b.create<arith::NegFOp>(l, v), v);
  return f.sel(finite, v, f.c(kNaN));
}

Value logOf(OpBuilder &b, Location l, Value x) {
  return x.getType().isF32() ? fastLogF32(b, l, x) : b.create<math::LogOp>(l, x).getResult();
}

Value expOf(OpBuilder &b, Location l, Value x) {
  return x.getType().isF32() ? fastExpF32(b, l, x) : b.create<math::ExpOp>(l, x).getResult();
}

Value cosOf(OpBuilder &b, Location l, Value x) {
  return x.getType().isF32() ? fastCosF32(b, l, x) : b.create<math::CosOp>(l, x).getResult();
}

} // namespace mlir::med::lowering
