// Compiled chains equal the eager ATen reference for several dtypes, shapes, thread counts and
// schedules (a schedule never changes results).
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/compiler/JitSession.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/utility.h"

namespace T = med::transforms;

namespace {

at::Tensor randomImage(at::ScalarType dtype, at::IntArrayRef shape, uint64_t seed) {
  at::manual_seed(seed);
  switch (dtype) {
  case at::kByte:
    return at::randint(0, 256, shape, at::TensorOptions().dtype(at::kByte));
  case at::kShort:
    return at::randint(-2000, 2000, shape, at::TensorOptions().dtype(at::kShort));
  default:
    return (at::randn(shape) * 600).to(dtype);
  }
}

void expectSame(const at::Tensor &got, const at::Tensor &want, const std::string &what) {
  ASSERT_EQ(got.scalar_type(), want.scalar_type()) << what;
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  if (at::isFloatingType(want.scalar_type()))
    EXPECT_TRUE(at::allclose(got, want, 1e-6, 1e-6, /*equal_nan=*/true))
        << what << ": max diff " << (got - want).abs().nan_to_num(0).max().item<double>();
  else
    EXPECT_TRUE(at::equal(got, want)) << what;
}

struct Case {
  std::string name;
  T::Compose chain;
};

std::vector<Case> chains() {
  return {
      {"sir_threshold",
       T::Compose(
           {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
            T::ThresholdIntensity(T::ThresholdIntensityOptions(0.4))})},
      {"pointwise_chain",
       T::Compose(
           {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
            T::ShiftIntensity(T::ShiftIntensityOptions(0.1)),
            T::ThresholdIntensity(T::ThresholdIntensityOptions(0.3)),
            T::ClipIntensity(T::ClipIntensityOptions(0.0, 0.9))})},
      {"dtype_preserving",
       T::Compose({T::ThresholdIntensity(T::ThresholdIntensityOptions(20).above(false).cval(3)),
                   T::ShiftIntensity(T::ShiftIntensityOptions(-7.5)),
                   T::ClipIntensity(T::ClipIntensityOptions(std::nullopt, 100))})},
      {"scale_minmax_then_shift",
       T::Compose({T::ShiftIntensity(T::ShiftIntensityOptions(3)), T::ScaleIntensity(),
                   T::ShiftIntensity(T::ShiftIntensityOptions(-0.5))})},
      {"scale_factor",
       T::Compose({T::ScaleIntensity(T::ScaleIntensityOptions().minv({}).maxv({}).factor(0.25))})},
      {"sir_without_b",
       T::Compose({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-50, 150))})},
  };
}

TEST(CompiledChain, EqualsEagerForDtypesShapesThreadsAndSchedules) {
  const std::vector<std::vector<int64_t>> shapes = {{1, 7, 5, 3}, {2, 64, 33, 17}, {1, 31, 17}};
  uint64_t seed = 1;
  for (const Case &c : chains())
    for (at::ScalarType dtype : {at::kByte, at::kShort, at::kFloat})
      for (const auto &shape : shapes) {
        med::MetaTensor img(randomImage(dtype, shape, seed++));
        med::MetaTensor want = c.chain.eager(img);
        for (bool fuse : {true, false})
          for (int threads : {1, 2}) {
            auto run = c.chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
            med::MetaTensor got = run(img);
            expectSame(got.data, want.data,
                       c.name + " " + c10::toString(dtype) + " threads=" + std::to_string(threads) +
                           (fuse ? " fused" : " unfused"));
          }
      }
}

TEST(CompiledChain, NaNAndInfPropagateAsInTheReference) {
  at::Tensor x = at::tensor({0.5f, NAN, INFINITY, -INFINITY, -3.0f, 900.0f}).reshape({1, 2, 3});
  for (const Case &c : chains()) {
    med::MetaTensor want = c.chain.eager(med::MetaTensor(x));
    med::MetaTensor got = c.chain.compile()(med::MetaTensor(x));
    expectSame(got.data, want.data, c.name + " with NaN/Inf");
  }
}

TEST(CompiledChain, FusedChainIsOneKernelAndUnfusedOnePerOp) {
  Case c = chains()[1];
  EXPECT_EQ(c.chain.compile().ir(at::kFloat).size(), 1u);
  EXPECT_EQ(c.chain.compile(T::Schedule::cpu().fuse(false)).ir(at::kFloat).size(), 4u);
}

TEST(CompiledChain, ScaleIntensitySplitsAtItsExtrema) {
  // ScaleIntensity(minv, maxv) ends the first kernel: its extrema come from a reduction kernel,
  // then med.rescale_by is an elementwise map that fuses with the op after it.
  Case c = chains()[3]; // Shift -> ScaleIntensity -> Shift
  ASSERT_EQ(c.name, "scale_minmax_then_shift");
  std::vector<std::string> ir = c.chain.compile().ir(at::kShort);
  ASSERT_EQ(ir.size(), 2u);
  EXPECT_NE(ir[1].find("med.rescale_by"), std::string::npos) << ir[1];
  EXPECT_NE(ir[1].find("med.shift_intensity"), std::string::npos) << ir[1];
  EXPECT_EQ(ir[1].find("med.scale_intensity "), std::string::npos) << ir[1];
  // A flat image: rescale_array gives x * minv, from either path.
  med::MetaTensor flat(at::full({1, 300, 300}, 7.0f));
  T::Compose scale({T::ScaleIntensity(T::ScaleIntensityOptions().minv(2.0).maxv(5.0))});
  expectSame(scale.compile(T::Schedule::cpu().threads(2))(flat).data, scale.eager(flat).data,
             "flat image");
  EXPECT_EQ(scale.compile()(flat).data[0][0][0].item<float>(), 14.0f);
}

TEST(CompiledChain, ResultsSurviveLaterCalls) {
  // Unfused, the chain's intermediates live in reused per-thread buffers: a result handed out
  // must never be one of them, nor be overwritten by the next call.
  Case c = chains()[1];
  auto run = c.chain.compile(T::Schedule::cpu().fuse(false));
  med::MetaTensor a(randomImage(at::kFloat, {1, 9, 8, 7}, 21));
  med::MetaTensor b(randomImage(at::kFloat, {1, 9, 8, 7}, 22));
  at::Tensor first = run(a).data, kept = first.clone();
  at::Tensor second = run(b).data;
  EXPECT_NE(first.data_ptr(), second.data_ptr());
  EXPECT_TRUE(at::equal(first, kept));
  expectSame(second, c.chain.eager(b).data, "second call");
  std::vector<med::MetaTensor> batch{a, b, a};
  std::vector<med::rt::RandomKey> keys(3, med::rt::RandomKey{0, 0, 0, 0});
  auto outs = run.runBatch(batch, keys);
  expectSame(outs[0].data, kept, "batch item 0");
  expectSame(outs[1].data, second, "batch item 1");
  expectSame(outs[2].data, kept, "batch item 2");
  EXPECT_TRUE(at::equal(first, kept));
}

TEST(CompiledChain, DroppedResultsAreReusedAndHeldOnesNever) {
  // Results come from a per-thread pool: memory of a result whose every reference was dropped is
  // written by a later call, a result (or a view of it) still held never is, and each result's
  // storage is its own size. Fused and unfused, single calls and batches.
  for (bool fuse : {true, false}) {
    auto run = chains()[1].chain.compile(T::Schedule::cpu().fuse(fuse));
    med::MetaTensor a(randomImage(at::kFloat, {1, 9, 8, 7}, 31));
    med::MetaTensor b(randomImage(at::kFloat, {1, 9, 8, 7}, 32));
    const at::Tensor wantA = chains()[1].chain.eager(a).data;
    const at::Tensor wantB = chains()[1].chain.eager(b).data;
    const void *dropped = run(a).data.data_ptr();
    at::Tensor held = run(a).data;
    EXPECT_EQ(held.data_ptr(), dropped) << "a dropped result's memory is taken again";
    EXPECT_EQ(held.storage().nbytes(), held.nbytes());
    at::Tensor view = run(b).data.narrow(1, 2, 3); // the result dropped, a view of it held
    for (int i = 0; i < 4; ++i) {
      at::Tensor other = run(i % 2 ? a : b).data;
      EXPECT_NE(other.data_ptr(), held.data_ptr());
      expectSame(other, i % 2 ? wantA : wantB, "call " + std::to_string(i));
    }
    expectSame(held, wantA, fuse ? "held result, fused" : "held result, unfused");
    expectSame(view, wantB.narrow(1, 2, 3), "held view");
    std::vector<med::rt::RandomKey> keys(3, med::rt::RandomKey{0, 0, 0, 0});
    for (int round = 0; round < 2; ++round) {
      auto outs = run.runBatch({a, b, a}, keys);
      expectSame(outs[0].data, wantA, "batch item 0");
      expectSame(outs[1].data, wantB, "batch item 1");
      expectSame(outs[2].data, wantA, "batch item 2");
    }
    expectSame(held, wantA, "held result after batches");
  }
}

TEST(CompiledChain, TraceIsCachedPerInputSignature) {
  auto run = chains()[0].chain.compile();
  med::MetaTensor a(randomImage(at::kFloat, {1, 8, 8, 8}, 7));
  med::MetaTensor b(randomImage(at::kFloat, {1, 16, 4, 4}, 8)); // other shape, same signature
  run(a);
  run(b);
  EXPECT_EQ(run.compiles(), 1);
  EXPECT_EQ(run.hits(), 1);
  run(med::MetaTensor(randomImage(at::kShort, {1, 8, 8, 8}, 9)));
  EXPECT_EQ(run.compiles(), 2);
}

TEST(CompiledChain, NonContiguousInputGivesTheSameValues) {
  at::Tensor x = randomImage(at::kFloat, {1, 12, 10, 8}, 11).permute({0, 3, 2, 1});
  auto c = chains()[1];
  expectSame(c.chain.compile()(med::MetaTensor(x)).data, c.chain.eager(med::MetaTensor(x)).data,
             "permuted input");
  at::Tensor sliced = randomImage(at::kFloat, {1, 12, 10, 8}, 12).slice(1, 0, 12, 2);
  expectSame(c.chain.compile()(med::MetaTensor(sliced)).data,
             c.chain.eager(med::MetaTensor(sliced)).data, "strided input");
}

TEST(CompiledChain, DictionaryFormAppliesPerKey) {
  T::Compose chain({T::ScaleIntensityRanged({"image"}, T::ScaleIntensityRangeOptions(0, 255, 0, 1)),
                    T::ThresholdIntensityd({"image", "label"}, T::ThresholdIntensityOptions(0.5))});
  med::Data d{{"image", med::MetaTensor(randomImage(at::kByte, {1, 9, 9, 9}, 3))},
              {"label", med::MetaTensor(randomImage(at::kFloat, {1, 9, 9, 9}, 4))}};
  med::Data want = chain.eager(d);
  med::Data got = chain.compile(T::Schedule::cpu().threads(2))(d);
  expectSame(got.at("image").data, want.at("image").data, "image");
  expectSame(got.at("label").data, want.at("label").data, "label");
  EXPECT_EQ(got.at("image").data.scalar_type(), at::kFloat);
}

} // namespace

namespace {

// A transform without a med lowering: Compose must run it eagerly between fused kernels.
class NegateForTest : public T::HostTransform {
public:
  std::string name() const override { return "NegateForTest"; }
  med::MetaTensor eager(const med::MetaTensor &img) const override {
    return img.withData(at::neg(img.data));
  }
};

TEST(CompiledChain, HostTransformSplitsTheChainAndKeepsResults) {
  T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(2)), NegateForTest(),
                    T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-300, 300, 0, 1)),
                    T::ThresholdIntensity(T::ThresholdIntensityOptions(0.5))});
  med::MetaTensor img(randomImage(at::kFloat, {1, 10, 9, 8}, 21));
  auto run = chain.compile(T::Schedule::cpu().threads(2));
  expectSame(run(img).data, chain.eager(img).data, "with a host step");
  EXPECT_EQ(run.compiles(), 2) << "one kernel before and one after the barrier";
  EXPECT_EQ(run.ir(at::kFloat).size(), 2u);
}

// Kernels the process has obtained from the JIT so far (compiled or loaded from disk).
int64_t kernelsObtained() {
  const med::compiler::JitStats s = med::compiler::JitSession::global().stats();
  return s.misses + s.diskHits;
}

TEST(CompiledChain, ColdPipelineObtainsOnlyTheKernelsItRuns) {
  // A cold pipeline compiles its later segments ahead, each traced for the type the one before
  // yields, but not past a host step: this one turns float32 into float64, so a float32 trace
  // of the last ShiftIntensity would be a kernel that never runs. (Offsets unique to this test:
  // no other test has these kernels in memory.)
  T::Compose host({T::ShiftIntensity(T::ShiftIntensityOptions(0.8125)),
                   T::Lambda(T::LambdaOptions([](const med::MetaTensor &m) {
                     return m.withData(m.data.to(at::kDouble));
                   })),
                   T::ShiftIntensity(T::ShiftIntensityOptions(-0.6875))});
  med::MetaTensor img(randomImage(at::kFloat, {1, 6, 5, 4}, 22));
  int64_t before = kernelsObtained();
  med::MetaTensor out = host.compile()(img);
  EXPECT_EQ(kernelsObtained() - before, 2);
  expectSame(out.data, host.eager(img).data, "host step changing the type");

  // Past a statistics split the type is known: the second segment's kernels (and the extrema
  // kernel, unless an earlier test compiled it) are obtained once, for the right type.
  T::Compose split({T::ShiftIntensity(T::ShiftIntensityOptions(0.5625)),
                    T::ScaleIntensity(T::ScaleIntensityOptions().minv(-3.0).maxv(5.0)),
                    T::ShiftIntensity(T::ShiftIntensityOptions(-0.4375))});
  med::MetaTensor shorts(randomImage(at::kShort, {1, 6, 5, 4}, 23));
  auto run = split.compile();
  const int64_t kernels = static_cast<int64_t>(run.ir(at::kShort).size());
  before = kernelsObtained();
  expectSame(run(shorts).data, split.eager(shorts).data, "statistics split");
  const int64_t obtained = kernelsObtained() - before;
  EXPECT_GE(obtained, kernels);
  EXPECT_LE(obtained, kernels + 1);
}

} // namespace
