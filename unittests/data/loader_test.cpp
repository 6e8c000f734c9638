// DataLoader / ThreadDataLoader: order, batches, worker independence, errors.
#include <ATen/CPUGeneratorImpl.h>

#include "data_test_util.h"

namespace med::data::test {
namespace {

// All batches of one epoch, as lists of tensors per key.
std::vector<Batch> epochBatches(DataLoader &loader, int64_t epoch) {
  loader.set_epoch(epoch);
  std::vector<Batch> out;
  for (const Batch &b : loader)
    out.push_back(b);
  return out;
}

// The order torch's RandomSampler-with-generator gives: randperm(n) seeded seed + epoch.
std::vector<int64_t> torchOrder(int64_t n, uint64_t seed) {
  at::Tensor p = at::randperm(n, at::detail::createCPUGenerator(seed), at::kLong);
  return std::vector<int64_t>(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + n);
}

TEST(DataLoader, BatchesEqualTheEagerPipelineWithTheItemsStream) {
  const int64_t n = 7;
  Dataset ds(memoryItems(n), pipeline());
  DataLoader loader(ds, DataLoaderOptions().batch_size(3).shuffle(true).seed(11).num_workers(2));
  EXPECT_EQ(loader.size(), 3);
  for (int64_t epoch : {0, 3}) {
    std::vector<Batch> batches = epochBatches(loader, epoch);
    ASSERT_EQ(batches.size(), 3u);
    std::vector<int64_t> order = torchOrder(n, 11 + epoch);
    T::Compose ref = pipeline();
    for (size_t b = 0; b < batches.size(); ++b) {
      std::vector<at::Tensor> images, labels;
      for (size_t k = b * 3; k < std::min<size_t>(n, b * 3 + 3); ++k) {
        int64_t idx = order[k];
        Data d = ref.eager(memoryItem(idx).data, rt::RandomKey{11, uint64_t(epoch), uint64_t(idx)});
        images.push_back(d.at("image").data);
        labels.push_back(d.at("label").data);
      }
      EXPECT_TRUE(at::equal(batches[b].at("image").data, at::stack(images))) << b;
      EXPECT_TRUE(at::equal(batches[b].at("label").data, at::stack(labels))) << b;
    }
  }
}

TEST(DataLoader, OneAndThreeWorkersGiveIdenticalBatches) {
  Dataset ds(memoryItems(10), pipeline());
  for (bool shuffle : {false, true}) {
    DataLoader one(ds, DataLoaderOptions().batch_size(4).shuffle(shuffle).seed(5).num_workers(1));
    DataLoader three(ds, DataLoaderOptions().batch_size(4).shuffle(shuffle).seed(5).num_workers(3));
    DataLoader inline0(ds, DataLoaderOptions().batch_size(4).shuffle(shuffle).seed(5));
    for (int64_t epoch : {0, 1}) {
      auto a = epochBatches(one, epoch), b = epochBatches(three, epoch),
           c = epochBatches(inline0, epoch);
      ASSERT_EQ(a.size(), 3u);
      ASSERT_EQ(b.size(), a.size());
      ASSERT_EQ(c.size(), a.size());
      for (size_t i = 0; i < a.size(); ++i) {
        expectSameData(a[i], b[i]);
        expectSameData(a[i], c[i]);
        EXPECT_EQ(a[i].item_meta.at("image")[0].filename_or_obj,
                  b[i].item_meta.at("image")[0].filename_or_obj);
      }
    }
  }
}

TEST(DataLoader, SetEpochChangesOrderAndDraws) {
  Dataset ds(memoryItems(12), pipeline());
  DataLoader loader(ds, DataLoaderOptions().batch_size(12).shuffle(true).num_workers(2));
  auto e0 = epochBatches(loader, 0), e0again = epochBatches(loader, 0),
       e1 = epochBatches(loader, 1);
  expectSameData(e0[0], e0again[0]);
  auto names = [](const Batch &b) {
    std::vector<std::string> s;
    for (const Meta &m : b.item_meta.at("image"))
      s.push_back(m.filename_or_obj);
    return s;
  };
  EXPECT_NE(names(e0[0]), names(e1[0]));
  // Without shuffle the order stays but the random draws follow the epoch.
  DataLoader plain(ds, DataLoaderOptions().batch_size(12));
  auto p0 = epochBatches(plain, 0), p1 = epochBatches(plain, 1);
  EXPECT_EQ(names(p0[0]), names(p1[0]));
  EXPECT_FALSE(at::equal(p0[0].at("image").data, p1[0].at("image").data));
}

TEST(DataLoader, PinMemoryKeepsValues) {
  // A no-op on CPU-only builds; with CUDA the batches are page-locked copies of the same values.
  Dataset ds(memoryItems(6), pipeline());
  DataLoader plain(ds, DataLoaderOptions().batch_size(3).seed(2));
  DataLoader pinned(ds, DataLoaderOptions().batch_size(3).seed(2).pin_memory(true).num_workers(2));
  auto a = epochBatches(plain, 1), b = epochBatches(pinned, 1);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    expectSameData(a[i], b[i]);
}

TEST(DataLoader, DropLastAndSize) {
  Dataset ds(memoryItems(10));
  DataLoader keep(ds, DataLoaderOptions().batch_size(4));
  DataLoader drop(ds, DataLoaderOptions().batch_size(4).drop_last(true).num_workers(2));
  EXPECT_EQ(keep.size(), 3);
  EXPECT_EQ(drop.size(), 2);
  auto k = epochBatches(keep, 0), d = epochBatches(drop, 0);
  ASSERT_EQ(k.size(), 3u);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(k[2].at("label").data.size(0), 2);
  // Without a transform a batch is the stacked items: labels i % 3 in order.
  EXPECT_TRUE(at::equal(k[1].at("label").data, at::tensor({1, 2, 0, 1}, at::kLong)));
}

TEST(DataLoader, WorkerErrorsReachTheConsumer) {
  std::vector<Item> items = memoryItems(6);
  items[4].data["image"].data = at::zeros({1, 3, 3}); // cannot be stacked with item 5
  Dataset ds(items);
  DataLoader loader(ds, DataLoaderOptions().batch_size(2).num_workers(3));
  auto run = [&] {
    for (const Batch &b : loader)
      (void)b;
  };
  EXPECT_THROW(run(), med::Error);
  // An epoch abandoned half-way stops its workers cleanly.
  DataLoader ok(Dataset(memoryItems(20)), DataLoaderOptions().num_workers(3));
  auto it = ok.begin();
  ++it;
  EXPECT_EQ((*it).at("label").data[0].item<int64_t>(), 1);
}

TEST(DataLoader, OptionErrors) {
  Dataset ds(memoryItems(4));
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions().batch_size(0)), med::Error);
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions().num_workers(-1)), med::Error);
  auto s = std::make_shared<DistributedSampler>(4, DistributedSamplerOptions(2, 0));
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions().sampler(s).shuffle(true)), med::Error);
  EXPECT_THROW(ds.get(4), med::Error);
  EXPECT_THROW(Dataset(memoryItems(2), T::Compose({T::ScaleIntensity()})), med::Error);
}

TEST(ThreadDataLoader, RepeatsBatchesAndMatchesDataLoader) {
  Dataset ds(memoryItems(5), pipeline());
  DataLoader base(ds, DataLoaderOptions().batch_size(2).seed(3));
  ThreadDataLoader threaded(ds, DataLoaderOptions().batch_size(2).seed(3),
                            ThreadDataLoaderOptions().repeats(2).buffer_size(2));
  EXPECT_EQ(threaded.size(), 6);
  auto a = epochBatches(base, 2), b = epochBatches(threaded, 2);
  ASSERT_EQ(b.size(), 6u);
  for (size_t i = 0; i < b.size(); ++i)
    expectSameData(b[i], a[i / 2]);
}

TEST(DataLoader, DistributedSamplerDrivesTheOrder) {
  Dataset ds(memoryItems(10));
  std::vector<int64_t> seen;
  for (int64_t rank = 0; rank < 3; ++rank) {
    auto s = std::make_shared<DistributedSampler>(
        10, DistributedSamplerOptions(3, rank).shuffle(false).even_divisible(false));
    DataLoader loader(ds, DataLoaderOptions().batch_size(2).sampler(s).num_workers(2));
    EXPECT_EQ(loader.size(), rank == 0 ? 2 : 2);
    for (const Batch &b : loader)
      for (const Meta &m : b.item_meta.at("image"))
        seen.push_back(std::stoll(m.filename_or_obj.substr(4)));
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int64_t> all(10);
  for (int64_t i = 0; i < 10; ++i)
    all[i] = i;
  EXPECT_EQ(seen, all);
}

} // namespace
} // namespace med::data::test
