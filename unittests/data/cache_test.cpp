// CacheDataset, PersistentDataset and SmartCacheDataset return what Dataset returns.
#include <fstream>

#include "data_test_util.h"

namespace med::data::test {
namespace {

namespace fs = std::filesystem;

rt::RandomKey keyOf(int64_t i, uint64_t epoch) { return rt::RandomKey{9, epoch, uint64_t(i)}; }

// Plain Dataset outputs of items [0, n) for epochs 0..2, computed before the counts start.
std::vector<std::vector<Data>> reference(int64_t n) {
  Dataset plain(memoryItems(n), pipeline());
  std::vector<std::vector<Data>> out(3);
  for (uint64_t e = 0; e < 3; ++e)
    for (int64_t i = 0; i < n; ++i)
      out[e].push_back(plain.get(i, keyOf(i, e)));
  return out;
}

TEST(Pipeline, SplitsAtTheFirstRandomStep) {
  Pipeline p(pipeline());
  EXPECT_EQ(p.firstRandom(), 2u);
  Data in = memoryItem(3).data;
  for (uint64_t e : {0, 1})
    expectSameData(p.suffix()(p.prefix()(in, keyOf(3, e)), keyOf(3, e)), p(in, keyOf(3, e)));
  EXPECT_NE(Pipeline(pipeline(0.0)).prefix().fingerprint(),
            Pipeline(pipeline(0.5)).prefix().fingerprint());
  EXPECT_EQ(Pipeline(pipeline(0.5)).prefix().fingerprint(),
            Pipeline(pipeline(0.5)).prefix().fingerprint());
  // Steps that differ only in their result type (one traced op, med.cast) differ too.
  auto castTo = [](at::ScalarType t) {
    return Pipeline(T::Compose({T::CastToTyped({"image"}, T::CastToTypeOptions(t))})).fingerprint();
  };
  EXPECT_NE(castTo(at::kShort), castTo(at::kDouble));
  EXPECT_EQ(castTo(at::kShort), castTo(at::kShort));
  // EnsureType() keeps an int16 image, EnsureType(float32) converts it (both trace nothing for
  // float32 input).
  auto ensure = [](std::optional<at::ScalarType> t) {
    return Pipeline(T::Compose({T::EnsureTyped({"image"}, T::EnsureTypeOptions().dtype(t))}))
        .fingerprint();
  };
  EXPECT_NE(ensure(std::nullopt), ensure(at::kFloat));
}

TEST(CacheDataset, EqualsDataset) {
  auto ref = reference(9);
  for (int64_t workers : {1, 3}) {
    prefixCalls() = 0;
    CacheDataset cached(memoryItems(9), pipeline(),
                        CacheDatasetOptions().cache_rate(0.7).num_workers(workers));
    EXPECT_EQ(cached.cache_num(), 6); // int(9 * 0.7)
    EXPECT_EQ(prefixCalls(), 6);
    for (uint64_t e : {0, 2})
      for (int64_t i = 0; i < 9; ++i)
        expectSameData(cached.get(i, keyOf(i, e)), ref[e][i]);
    // Cached items do not rerun the prefix; the 3 uncached ones do, on every access.
    EXPECT_EQ(prefixCalls(), 6 + 2 * 3);
  }
  EXPECT_EQ(
      CacheDataset(memoryItems(9), pipeline(), CacheDatasetOptions().cache_num(2)).cache_num(), 2);
  EXPECT_THROW(CacheDataset(memoryItems(2), pipeline(), CacheDatasetOptions().cache_rate(1.5)),
               med::Error);
}

TEST(CacheDataset, CompiledPipelineEqualsEager) {
  Dataset plain(memoryItems(4), pipeline());
  CacheDataset compiled(memoryItems(4), Pipeline(pipeline(), T::Schedule::cpu()));
  for (int64_t i = 0; i < 4; ++i) {
    Data a = compiled.get(i, keyOf(i, 1)), b = plain.get(i, keyOf(i, 1));
    EXPECT_TRUE(at::allclose(a.at("image").data, b.at("image").data, 1e-5, 1e-5)) << i;
  }
}

TEST(PersistentDataset, ReusesTheCacheAndRebuildsCorruptFiles) {
  ScratchDir dir("persistent");
  auto ref = reference(5);
  prefixCalls() = 0;
  {
    PersistentDataset first(memoryItems(5), pipeline(),
                            PersistentDatasetOptions(dir.path().string()));
    for (int64_t i = 0; i < 5; ++i)
      expectSameData(first.get(i, keyOf(i, 0)), ref[0][i]);
  }
  EXPECT_EQ(prefixCalls(), 5);
  size_t files = 0;
  for (const auto &e : fs::directory_iterator(dir.path().string()))
    files += e.path().extension() == ".medpds";
  EXPECT_EQ(files, 5u);

  PersistentDataset second(memoryItems(5), pipeline(),
                           PersistentDatasetOptions(dir.path().string()));
  prefixCalls() = 0;
  for (uint64_t e : {1, 2})
    for (int64_t i = 0; i < 5; ++i)
      expectSameData(second.get(i, keyOf(i, e)), ref[e][i]);
  EXPECT_EQ(prefixCalls(), 0); // every item came from disk

  // Flip one payload byte of item 2 and truncate item 3: both are detected and rebuilt.
  {
    std::fstream f(second.cachePath(2), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-5, std::ios::end);
    char c;
    f.get(c);
    f.seekp(-5, std::ios::end);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  fs::resize_file(second.cachePath(3), fs::file_size(second.cachePath(3)) / 2);
  for (int64_t i = 0; i < 5; ++i)
    expectSameData(second.get(i, keyOf(i, 0)), ref[0][i]);
  EXPECT_EQ(prefixCalls(), 2);
  for (int64_t i = 0; i < 5; ++i)
    second.get(i, keyOf(i, 0));
  EXPECT_EQ(prefixCalls(), 2); // the rewritten files are good again
  // No temporary file is left behind.
  for (const auto &e : fs::directory_iterator(dir.path().string()))
    EXPECT_EQ(e.path().extension(), ".medpds") << e.path();
}

TEST(PersistentDataset, KeyFollowsPrefixParametersFilesAndSalt) {
  ScratchDir dir("persistent-key");
  PersistentDatasetOptions o(dir.path().string());
  PersistentDataset a(memoryItems(2), pipeline(0.0), o), b(memoryItems(2), pipeline(0.25), o);
  PersistentDataset salted(
      memoryItems(2), pipeline(0.0),
      PersistentDatasetOptions(dir.path().string()).hash_transform("loader v2"));
  EXPECT_NE(a.cachePath(0), b.cachePath(0));
  EXPECT_NE(a.cachePath(0), salted.cachePath(0));
  EXPECT_NE(a.cachePath(0), a.cachePath(1));
  // An item read from a file: rewriting the file changes its key.
  std::string file = dir / "img.txt";
  std::ofstream(file) << "one";
  auto item = [&] { return std::vector<Item>{Item({{"image", file}})}; };
  PersistentDataset before(item(), {}, o);
  std::string k1 = before.cachePath(0);
  std::ofstream(file) << "three";
  PersistentDataset after(item(), {}, o);
  EXPECT_NE(k1, after.cachePath(0));
  EXPECT_THROW(PersistentDataset(item(), {}, PersistentDatasetOptions("")), med::Error);
}

TEST(SmartCacheDataset, SlidesThroughTheData) {
  Dataset plain(memoryItems(10), pipeline());
  SmartCacheDataset ds(memoryItems(10), pipeline(),
                       SmartCacheDatasetOptions().cache_num(4).replace_rate(0.5).shuffle(false));
  EXPECT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.replace_num(), 2);
  auto slots = [&] {
    std::vector<int64_t> s;
    for (int64_t i = 0; i < ds.size(); ++i)
      s.push_back(ds.itemIndex(i));
    return s;
  };
  EXPECT_EQ(slots(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_THROW(ds.update_cache(), med::Error);
  ds.start();
  ds.update_cache();
  EXPECT_EQ(slots(), (std::vector<int64_t>{2, 3, 4, 5}));
  for (int k = 0; k < 3; ++k)
    ds.update_cache();
  EXPECT_EQ(slots(), (std::vector<int64_t>{8, 9, 0, 1})); // wraps around
  for (int64_t i = 0; i < 4; ++i)
    expectSameData(ds.get(i, keyOf(i, 1)), plain.get(ds.itemIndex(i), keyOf(i, 1)));
  ds.shutdown();

  // shuffle uses numpy.random.RandomState(0): permutation(10) = [2 8 4 9 1 6 7 3 0 5].
  SmartCacheDataset shuffled(memoryItems(10), {}, SmartCacheDatasetOptions().cache_num(3));
  EXPECT_EQ(shuffled.get(1).at("image").meta.filename_or_obj, "item8");
}

} // namespace
} // namespace med::data::test
