// Distributed training tests: in-process checks of the API, and 2-rank runs of
// med-distributed-worker under med::distributed::launch compared with one process doing all the
// work. Every multi-process run has a 120 s launcher timeout and a 60 s process-group timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "common.h"
#include "med/core/error.h"
#include "med/distributed/ddp.h"
#include "med/distributed/gather.h"
#include "med/distributed/launcher.h"
#include "med/distributed/process_group.h"
#include "med/metrics/meandice.h"

namespace dist = med::distributed;
namespace fs = std::filesystem;

namespace {

// A fresh output folder per test.
fs::path outDir(const std::string &name) {
  fs::path dir =
      fs::temp_directory_path() / ("med-distributed-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

int runWorkers(const std::string &scenario, const fs::path &dir, int nproc = 2) {
  return dist::launch(dist::LaunchOptions({MED_DIST_WORKER, scenario, dir.string()})
                          .nproc(nproc)
                          .master_port(0)
                          .timeout_s(120));
}

std::vector<at::Tensor> load(const fs::path &file) {
  std::vector<at::Tensor> t;
  torch::load(t, file.string());
  return t;
}

void expectThrowsWith(const std::function<void()> &f, const std::string &needle) {
  try {
    f();
    ADD_FAILURE() << "expected med::Error containing '" << needle << "'";
  } catch (const med::Error &e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// Sets (or clears, with nullptr) an environment variable for the scope.
struct ScopedEnv {
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      previous = old, had = true;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { had ? ::setenv(name, previous.c_str(), 1) : ::unsetenv(name); }
  const char *name;
  std::string previous;
  bool had = false;
};

} // namespace

TEST(ProcessGroup, NotDistributedDefaults) {
  ASSERT_FALSE(dist::is_initialized());
  EXPECT_EQ(dist::get_rank(), 0);
  EXPECT_EQ(dist::get_world_size(), 1);
  EXPECT_TRUE(dist::is_main_process());
  dist::barrier(); // no-op
  dist::destroy_process_group();
  auto t = at::arange(6).reshape({3, 2});
  auto all = dist::all_gather_tensors(t);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(at::equal(all[0], t));
  expectThrowsWith([] { dist::default_group(); }, "init_process_group");
}

TEST(ProcessGroup, EnvironmentErrors) {
  ScopedEnv rank("RANK", nullptr), world("WORLD_SIZE", "2"), addr("MASTER_ADDR", "127.0.0.1"),
      port("MASTER_PORT", "29999");
  expectThrowsWith([] { dist::init_process_group(); }, "init_process_group.RANK");
  ScopedEnv rank2("RANK", "abc");
  expectThrowsWith([] { dist::init_process_group(); }, "'abc'");
  ScopedEnv rank3("RANK", "2");
  expectThrowsWith([] { dist::init_process_group(); }, "expected a rank in [0, 2)");
  ScopedEnv rank4("RANK", "0"), port2("MASTER_PORT", "70000");
  expectThrowsWith([] { dist::init_process_group(); }, "MASTER_PORT");
  ScopedEnv port3("MASTER_PORT", "29999"), addr2("MASTER_ADDR", nullptr);
  expectThrowsWith([] { dist::init_process_group(); }, "MASTER_ADDR");
  expectThrowsWith([] { dist::init_process_group(dist::InitProcessGroupOptions().backend("mpi")); },
                   "\"gloo\"");
  EXPECT_FALSE(dist::is_initialized());
}

TEST(ProcessGroup, NcclRefusedWithoutCuda) {
  if (torch::cuda::is_available())
    GTEST_SKIP() << "CUDA present";
  expectThrowsWith(
      [] {
        dist::init_process_group(dist::InitProcessGroupOptions()
                                     .backend("nccl")
                                     .rank(0)
                                     .world_size(1)
                                     .master_addr("127.0.0.1")
                                     .master_port(29999));
      },
      "CUDA");
}

TEST(ProcessGroup, RendezvousTimesOut) {
  // Rank 1 of 2 with nobody serving the store: must fail within the timeout, not hang.
  auto start = std::chrono::steady_clock::now();
  expectThrowsWith(
      [] {
        dist::init_process_group(dist::InitProcessGroupOptions()
                                     .rank(1)
                                     .world_size(2)
                                     .master_addr("127.0.0.1")
                                     .master_port(dist::find_free_port())
                                     .timeout(std::chrono::seconds(2)));
      },
      "rendezvous");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_FALSE(dist::is_initialized());
}

TEST(ProcessGroup, SingleRankGroupAndDdp) {
  dist::init_process_group(dist::InitProcessGroupOptions()
                               .rank(0)
                               .world_size(1)
                               .master_addr("127.0.0.1")
                               .master_port(dist::find_free_port())
                               .timeout(std::chrono::seconds(60)));
  ASSERT_TRUE(dist::is_initialized());
  EXPECT_EQ(dist::get_world_size(), 1);
  dist::barrier();
  // A world of one: DDP training equals plain training exactly.
  medtest::Net ref = medtest::make_net(3), net = medtest::make_net(3);
  medtest::train(ref, 0, 1, 1);
  {
    dist::DistributedDataParallel ddp(net.ptr());
    EXPECT_EQ(ddp.num_buckets(), 1u);
    medtest::train(net, 0, 1, 1);
  }
  auto a = ref->parameters(), b = net->parameters();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(at::allclose(a[i], b[i], 0, 1e-12)) << "parameter " << i;
  dist::destroy_process_group();
  EXPECT_FALSE(dist::is_initialized());
}

TEST(Launcher, SetsEnvironmentAndForwardsStatus) {
  const std::string checkEnv =
      "test \"$WORLD_SIZE\" = 3 -a \"$LOCAL_RANK\" = \"$RANK\" -a \"$MASTER_ADDR\" = 127.0.0.1 "
      "-a \"$MASTER_PORT\" = 23456 -a \"$LOCAL_WORLD_SIZE\" = 3";
  EXPECT_EQ(dist::launch(dist::LaunchOptions({"sh", "-c", checkEnv}).nproc(3).master_port(23456)),
            0);
  // Rank 2 fails with 7 while the others would sleep: 7 comes back quickly.
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(
      dist::launch(dist::LaunchOptions({"sh", "-c", "test \"$RANK\" = 2 && exit 7; exec sleep 60"})
                       .nproc(3)),
      7);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(dist::launch(dist::LaunchOptions({"sleep", "60"}).nproc(2).timeout_s(1)), 124);
  EXPECT_EQ(dist::launch(dist::LaunchOptions({"/nonexistent/program"}).nproc(2)), 127);
  expectThrowsWith([] { dist::launch(dist::LaunchOptions({"true"}).nproc(0)); }, "launch.nproc");
  expectThrowsWith([] { dist::launch(dist::LaunchOptions({})); }, "launch.command");
}

// Two ranks, each on half of every global batch, equal one process on the whole batch.
void expectMatchesSingleProcess(const std::string &scenario) {
  auto dir = outDir(scenario);
  ASSERT_EQ(runWorkers(scenario, dir), 0);
  medtest::Net ref = medtest::make_net(7); // rank 0's initial weights
  medtest::train(ref, 0, 1, 1);
  auto expected = ref->parameters();
  medtest::Net init = medtest::make_net(7);
  for (int r = 0; r < 2; ++r) {
    auto got = load(dir / ("params_rank" + std::to_string(r) + ".pt"));
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      double diff = (got[i] - expected[i]).abs().max().item<double>();
      EXPECT_LE(diff, 1e-5) << "rank " << r << " parameter " << i;
    }
  }
  // Training moved the used parameters (the comparison is not trivially true).
  EXPECT_GT((expected[0] - init->parameters()[0]).abs().max().item<double>(), 1e-3);
  fs::remove_all(dir);
}

TEST(DistributedDataParallel, TwoRanksMatchSingleProcess) { expectMatchesSingleProcess("train"); }

TEST(DistributedDataParallel, TwoRanksWithGradientAccumulation) {
  expectMatchesSingleProcess("train_accumulate");
}

// CheckpointSaver, MetricsSaver and StatsHandler attached on both ranks: rank 0 writes, rank 1
// writes nothing (the worker checks the details on each rank).
TEST(DistributedHandlers, OnlyRankZeroWrites) {
  auto dir = outDir("handlers");
  ASSERT_EQ(runWorkers("handlers", dir), 0);
  EXPECT_TRUE(fs::exists(dir / "rank0" / "ckpt"));
  EXPECT_FALSE(fs::exists(dir / "rank1"));
  fs::remove_all(dir);
}

// DiceMetric over all five batches in one process.
std::vector<at::Tensor> singleProcessDice() {
  med::metrics::DiceMetric dice(med::metrics::DiceMetricOptions().reduction("mean_batch"));
  for (auto &[p, y] : medtest::metric_batches())
    dice(p, y);
  return {dice.aggregate(), dice.aggregate("mean"), dice.get_buffer()};
}

void expectMetricMatches(const std::string &scenario) {
  auto dir = outDir(scenario);
  ASSERT_EQ(runWorkers(scenario, dir), 0);
  auto expected = singleProcessDice();
  ASSERT_EQ(expected[2].size(0), 10);
  for (int r = 0; r < 2; ++r) {
    auto got = load(dir / ("metric_rank" + std::to_string(r) + ".pt"));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_TRUE(at::allclose(got[0], expected[0], 1e-6, 1e-7)) << got[0] << expected[0];
    EXPECT_TRUE(at::allclose(got[1], expected[1], 1e-6, 1e-7)) << got[1] << expected[1];
    EXPECT_EQ(got[2].sizes(), expected[2].sizes()); // every item from every rank
  }
  fs::remove_all(dir);
}

TEST(AllGather, DiceMetricOverTwoRanksEqualsOneProcess) { expectMetricMatches("metric"); }

TEST(AllGather, DiceMetricWithAnIdleRank) { expectMetricMatches("metric_empty_rank"); }

TEST(AllGather, UnequalSizesDtypesAndErrors) {
  auto dir = outDir("gather");
  EXPECT_EQ(runWorkers("gather", dir), 0);
  fs::remove_all(dir);
}

TEST(ProcessGroup, TwoRankApiAndStore) {
  auto dir = outDir("api");
  EXPECT_EQ(runWorkers("api", dir), 0);
  fs::remove_all(dir);
}

TEST(Launcher, FailedRankStopsTheOthers) {
  auto dir = outDir("fail");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(runWorkers("fail", dir), 3);
  // Rank 0 was stopped in its barrier, long before the 60 s process-group timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(40));
  fs::remove_all(dir);
}
