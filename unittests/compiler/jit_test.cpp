#include "jit_util.h"
#include "med/compiler/JitSession.h"
#include "med/frontends/Chain.h"
#include "med/runtime/launcher.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <future>
#include <limits>
#include <thread>
#include <vector>

namespace {

using med::frontend::ChainSpec;
using med::frontend::OpSpec;
using med::rt::DType;

template <class In, class Out>
std::vector<Out> run(const med::compiler::Kernel &k, const std::vector<In> &in, int threads) {
  std::vector<Out> out(in.size());
  med::rt::BufferRef bufs[2] = {{const_cast<In *>(in.data()), (int64_t)in.size(), sizeof(In)},
                                {out.data(), (int64_t)out.size(), sizeof(Out)}};
  if (k.elementwise)
    med::rt::launchElementwise(k.entry, bufs, 2, threads);
  else
    med::rt::launchWhole(k.entry, bufs, 2);
  return out;
}

TEST(Jit, Uint8ScaleRangeThenThresholdMatchesHandValues) {
  ChainSpec chain{DType::UInt8,
                  {OpSpec{"scale_intensity_range",
                          {{"a_min", 0}, {"a_max", 255}, {"b_min", 0}, {"b_max", 1}},
                          {"clip"},
                          DType::Float32,
                          "ScaleIntensityRange"},
                   OpSpec{"threshold_intensity",
                          {{"threshold", 0.5}, {"cval", -1}},
                          {"above"},
                          DType::Float32,
                          "ThresholdIntensity"}}};
  auto k = compile(chain);
  ASSERT_TRUE(k);
  EXPECT_TRUE(k->elementwise);
  std::vector<uint8_t> in(1000);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<uint8_t>(i % 256);
  for (int threads : {1, 2}) {
    auto out = run<uint8_t, float>(*k, in, threads);
    for (size_t i = 0; i < in.size(); ++i) {
      float scaled = static_cast<float>(in[i]) / 255.0f;
      ASSERT_EQ(out[i], scaled > 0.5f ? scaled : -1.0f) << "i=" << i;
    }
  }
}

TEST(Jit, Int16ShiftKeepsTypeAndWrapsLikeTorch) {
  ChainSpec chain{DType::Int16,
                  {OpSpec{"shift_intensity", {{"offset", 2.5}}, {}, DType::Int16, "Shift"}}};
  auto k = compile(chain);
  ASSERT_TRUE(k);
  std::vector<int16_t> in = {-3, -1, 0, 7, 32767};
  auto out = run<int16_t, int16_t>(*k, in, 1);
  // x + 2.5 truncated toward zero; 32769.5 -> 32769 wraps to -32767.
  EXPECT_EQ(out, (std::vector<int16_t>{0, 1, 2, 9, -32767}));
}

TEST(Jit, ScaleIntensityMinMaxIsAWholeBufferKernel) {
  ChainSpec chain{
      DType::Float32,
      {OpSpec{
          "scale_intensity", {{"minv", -1}, {"maxv", 1}}, {}, DType::Float32, "ScaleIntensity"}}};
  auto k = compile(chain);
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->elementwise);
  std::vector<float> in = {2, 4, 6, 10};
  auto out = run<float, float>(*k, in, 2);
  EXPECT_EQ(out, (std::vector<float>{-1, -0.5f, 0, 1}));
  // Constant image: x * minv (MONAI's rescale_array).
  auto flat = run<float, float>(*k, std::vector<float>{3, 3, 3}, 1);
  EXPECT_EQ(flat, (std::vector<float>{-3, -3, -3}));
}

TEST(Jit, NaNPropagatesThroughClipAndFailsThreshold) {
  ChainSpec clip{DType::Float32,
                 {OpSpec{"clip", {{"min", 0}, {"max", 1}}, {}, DType::Float32, "Clip"}}};
  auto k = compile(clip);
  ASSERT_TRUE(k);
  float nan = std::numeric_limits<float>::quiet_NaN();
  auto out = run<float, float>(*k, std::vector<float>{nan, -2, 0.5f, 9}, 1);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 0.5f);
  EXPECT_EQ(out[3], 1);
  ChainSpec thr{DType::Float32,
                {OpSpec{"threshold_intensity",
                        {{"threshold", 0}, {"cval", 7}},
                        {"above"},
                        DType::Float32,
                        "Threshold"}}};
  auto t = compile(thr);
  ASSERT_TRUE(t);
  auto thresholded = run<float, float>(*t, std::vector<float>{nan, 1}, 1);
  EXPECT_EQ(thresholded, (std::vector<float>{7, 1}));
}

TEST(Jit, CacheHitOnSameIRAndStableFingerprint) {
  ChainSpec chain{DType::Float32,
                  {OpSpec{"shift_intensity", {{"offset", 123.25}}, {}, DType::Float32, "S"}}};
  std::string error;
  std::string ir = med::frontend::traceToIR(chain, &error);
  bool hit = true;
  auto a = med::compiler::JitSession::global().compile(ir, &error, &hit);
  ASSERT_TRUE(a) << error;
  EXPECT_FALSE(hit);
  auto b = med::compiler::JitSession::global().compile(ir, &error, &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->fingerprint, med::compiler::fingerprint(ir));
  EXPECT_EQ(a->fingerprint.size(), 16u);
}

TEST(Jit, VerifierErrorsNameTheOriginAndAttribute) {
  ChainSpec chain{DType::Float32,
                  {OpSpec{"clip", {{"min", 2}, {"max", 1}}, {}, DType::Float32, "MyClip"}}};
  std::string error, origin;
  EXPECT_TRUE(med::frontend::traceToIR(chain, &error, &origin).empty());
  EXPECT_EQ(origin, "MyClip");
  EXPECT_NE(error.find("'min'"), std::string::npos) << error;
  ChainSpec unknown{DType::Float32, {OpSpec{"no_such_op", {}, {}, DType::Float32, "X"}}};
  EXPECT_TRUE(med::frontend::traceToIR(unknown, &error, &origin).empty());
  EXPECT_NE(error.find("no_such_op"), std::string::npos);
}

TEST(Jit, MalformedIRIsAnErrorNotACrash) {
  std::string error;
  EXPECT_FALSE(med::compiler::JitSession::global().compile("func.func @oops(", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(med::compiler::JitSession::global().compile("module {}", &error));
  EXPECT_NE(error.find("med_kernel"), std::string::npos);
}

} // namespace

namespace {

// A kernel that no other test compiles (its offset is unique), so the first compile is a miss.
ChainSpec uniqueShift(double offset) {
  return ChainSpec{DType::Float32,
                   {OpSpec{"shift_intensity", {{"offset", offset}}, {}, DType::Float32, "Shift"}}};
}

TEST(Jit, ConcurrentCompilesOfTheSameIrShareOneKernel) {
  std::string error;
  const std::string ir = med::frontend::traceToIR(uniqueShift(12345.678), &error);
  ASSERT_FALSE(ir.empty()) << error;
  auto &jit = med::compiler::JitSession::global();
  const auto before = jit.stats();
  std::vector<std::shared_ptr<const med::compiler::Kernel>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] { got[t] = jit.compile(ir, nullptr); });
  for (std::thread &t : threads)
    t.join();
  for (const auto &k : got) {
    ASSERT_TRUE(k);
    EXPECT_EQ(k.get(), got[0].get()); // one compile (or disk load), shared by every caller
  }
  const auto after = jit.stats();
  EXPECT_EQ((after.misses + after.diskHits) - (before.misses + before.diskHits), 1);
}

TEST(Jit, DifferentKernelsCompileConcurrentlyAndRunCorrectly) {
  std::vector<std::shared_ptr<const med::compiler::Kernel>> got(3);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] { got[t] = compile(uniqueShift(1000.5 + double(t))); });
  for (std::thread &t : threads)
    t.join();
  for (size_t t = 0; t < got.size(); ++t) {
    ASSERT_TRUE(got[t]);
    std::vector<float> out = run<float, float>(*got[t], std::vector<float>{1, 2, 3}, 1);
    EXPECT_FLOAT_EQ(out[2], 3.0f + 1000.5f + float(t));
  }
}

TEST(Jit, PrefetchedKernelIsCompiledOnceThenAHit) {
  std::string error;
  const std::string ir = med::frontend::traceToIR(uniqueShift(-2718.25), &error);
  ASSERT_FALSE(ir.empty()) << error;
  auto &jit = med::compiler::JitSession::global();
  const auto before = jit.stats();
  std::future<void> pending = jit.prefetch(ir);
  auto kernel = jit.compile(ir, &error); // waits for the prefetch instead of compiling again
  ASSERT_TRUE(kernel) << error;
  pending.get();
  jit.prefetch(ir).get(); // cached: nothing more to do
  bool hit = false;
  EXPECT_EQ(jit.compile(ir, &error, &hit).get(), kernel.get());
  EXPECT_TRUE(hit);
  const auto after = jit.stats();
  EXPECT_EQ((after.misses + after.diskHits) - (before.misses + before.diskHits), 1);
  std::vector<float> out = run<float, float>(*kernel, std::vector<float>{0.25f}, 1);
  EXPECT_FLOAT_EQ(out[0], 0.25f - 2718.25f);
}

TEST(Jit, PrefetchOfBadIrFailsAtTheCompileThatNeedsIt) {
  auto &jit = med::compiler::JitSession::global();
  jit.prefetch("func.func @broken(").get(); // no throw, no crash: the error is not lost...
  std::string error;
  EXPECT_FALSE(jit.compile("func.func @broken(", &error));
  EXPECT_FALSE(error.empty()); // ...the compile that needs the kernel reports it
}

} // namespace
