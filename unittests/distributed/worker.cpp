// The program the distributed tests start under med::distributed::launch (one per rank).
//   med-distributed-worker SCENARIO OUTDIR
// Exit status 0 when the rank's own checks pass; results for the parent go to OUTDIR.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include "common.h"
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "med/core/error.h"
#include "med/distributed/ddp.h"
#include "med/distributed/gather.h"
#include "med/distributed/process_group.h"
#include "med/engines/trainer.h"
#include "med/handlers/checkpoint.h"
#include "med/handlers/metrics_saver.h"
#include "med/handlers/stats.h"
#include "med/metrics/meandice.h"

namespace dist = med::distributed;

namespace {

int gFailures = 0;
void check(bool ok, const std::string &what) {
  if (!ok) {
    std::cerr << "rank " << dist::get_rank() << ": check failed: " << what << "\n";
    ++gFailures;
  }
}

bool same(const at::Tensor &a, const at::Tensor &b) {
  return a.sizes().equals(b.sizes()) && a.scalar_type() == b.scalar_type() && at::equal(a, b);
}

void trainScenario(const std::string &out, int micro) {
  const int rank = dist::get_rank(), world = dist::get_world_size();
  medtest::Net net = medtest::make_net(7 + rank); // replicas differ until DDP broadcasts
  dist::DistributedDataParallel ddp(net.ptr(),
                                    dist::DistributedDataParallelOptions().bucket_cap_mb(0.0005));
  check(ddp.num_buckets() > 2, "several gradient buckets");
  medtest::train(net, rank, world, micro, [&](bool last) {
    ddp.set_require_backward_grad_sync(last);
    ddp.sync_buffers();
  });
  ddp.finish_gradient_sync(); // already done by the autograd callback: must be a no-op
  torch::save(net->parameters(), out + "/params_rank" + std::to_string(rank) + ".pt");
}

void metricScenario(const std::string &out, bool rank1Empty) {
  const int rank = dist::get_rank();
  auto batches = medtest::metric_batches();
  med::metrics::DiceMetric dice(med::metrics::DiceMetricOptions().reduction("mean_batch"));
  for (size_t i = 0; i < batches.size(); ++i) {
    int owner = rank1Empty ? 0 : int(i % 2);
    if (owner == rank)
      dice(batches[i].first, batches[i].second);
  }
  dist::all_gather_metric(dice);
  torch::save(std::vector<at::Tensor>{dice.aggregate(), dice.aggregate("mean"), dice.get_buffer()},
              out + "/metric_rank" + std::to_string(rank) + ".pt");
}

void gatherScenario() {
  const int rank = dist::get_rank();
  check(dist::get_world_size() == 2, "world size 2");
  // Unequal first dimensions: rank 0 has 3 rows, rank 1 has 1.
  auto rows = [](int r) { return r == 0 ? 3 : 1; };
  auto expected = [&](int r) {
    return at::arange(rows(r) * 2, at::kFloat).reshape({rows(r), 2}) + 100.0 * r;
  };
  auto got = dist::all_gather_tensors(expected(rank));
  check(got.size() == 2, "one tensor per rank");
  for (int r = 0; r < 2 && got.size() == 2; ++r)
    check(same(got[r], expected(r)), "float rows of rank " + std::to_string(r));
  check(
      same(dist::evenly_divisible_all_gather(expected(rank)), at::cat({expected(0), expected(1)})),
      "evenly_divisible_all_gather concatenates in rank order");

  // Rank 1 has nothing (undefined): it comes back as (0, 4) int64.
  at::Tensor ints = at::tensor({1, -2, 3, 4, 5, 6, 7, 8}, at::kLong).reshape({2, 4});
  got = dist::all_gather_tensors(rank == 0 ? ints : at::Tensor());
  check(got.size() == 2 && same(got[0], ints), "int64 rows of rank 0");
  check(got.size() == 2 && same(got[1], at::empty({0, 4}, at::kLong)), "empty rank 1");

  // Bool, and zero rows on rank 0.
  at::Tensor flags = at::tensor({1, 0, 1}, at::kLong).to(at::kBool);
  got = dist::all_gather_tensors(rank == 1 ? flags : at::empty({0}, at::kBool));
  check(got.size() == 2 && same(got[1], flags) && same(got[0], at::empty({0}, at::kBool)),
        "bool rows");

  // Trailing dimensions that disagree are refused on every rank.
  bool threw = false;
  try {
    dist::all_gather_tensors(at::zeros({2, 3 + rank}));
  } catch (const med::Error &e) {
    threw = std::string(e.what()).find("dimensions after the first") != std::string::npos;
  }
  check(threw, "mismatched trailing dimensions throw med::Error");
}

// The writing handlers on every rank of a 2-process run: only rank 0 writes checkpoints, metric
// files and log lines; rank 1 trains the same way and leaves its folders empty.
void handlersScenario(const std::string &out) {
  namespace fs = std::filesystem;
  namespace E = med::engines;
  const int rank = dist::get_rank();
  medtest::Net net = medtest::make_net(5);
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  std::vector<med::Data> batches;
  for (int s = 0; s < 2; ++s) {
    auto [x, y] = medtest::global_batch(s);
    batches.push_back({{"image", med::MetaTensor(x)}, {"label", med::MetaTensor(y)}});
  }
  E::SupervisedTrainer trainer(E::SupervisedTrainerOptions(
      2, batches, net, opt,
      [](const at::Tensor &p, const at::Tensor &t) { return at::mse_loss(p, t); }));
  const fs::path mine = fs::path(out) / ("rank" + std::to_string(rank));
  std::ostringstream log;
  trainer.attach(std::make_shared<med::handlers::CheckpointSaver>(
      med::handlers::CheckpointSaverOptions((mine / "ckpt").string(), {{"net", net}})
          .save_final(true)));
  trainer.attach(std::make_shared<med::handlers::MetricsSaver>(
      med::handlers::MetricsSaverOptions((mine / "metrics").string())));
  trainer.attach(std::make_shared<med::handlers::StatsHandler>(
      med::handlers::StatsHandlerOptions().stream(&log)));
  trainer.run();
  check(trainer.state.iteration == 4, "every rank trains 4 iterations");
  auto files = [](const fs::path &d) {
    return fs::exists(d) ? std::distance(fs::directory_iterator(d), fs::directory_iterator()) : 0;
  };
  if (rank == 0) {
    check(files(mine / "ckpt") == 1, "rank 0 writes the final checkpoint");
    check(files(mine / "metrics") == 1, "rank 0 writes metrics.csv");
    check(!log.str().empty(), "rank 0 logs");
  } else {
    check(!fs::exists(mine), "rank 1 creates no folder");
    check(log.str().empty(), "rank 1 logs nothing");
  }
}

void apiScenario() {
  const int rank = std::atoi(std::getenv("RANK"));
  check(dist::is_initialized(), "is_initialized after init");
  check(dist::get_rank() == rank, "get_rank == RANK");
  check(dist::get_world_size() == std::atoi(std::getenv("WORLD_SIZE")), "get_world_size");
  check(dist::get_local_rank() == rank, "LOCAL_RANK");
  check(dist::is_main_process() == (rank == 0), "is_main_process on rank 0 only");
  // The store rank 0 serves reaches every rank.
  auto &store = dist::default_group().store();
  store.set("from" + std::to_string(rank), std::vector<uint8_t>{uint8_t(40 + rank)});
  dist::barrier();
  for (int r = 0; r < dist::get_world_size(); ++r)
    check(store.get("from" + std::to_string(r)) == std::vector<uint8_t>{uint8_t(40 + r)},
          "store value of rank " + std::to_string(r));
  bool threw = false;
  try {
    dist::init_process_group();
  } catch (const med::Error &) {
    threw = true;
  }
  check(threw, "second init_process_group throws");
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: med-distributed-worker SCENARIO OUTDIR\n";
    return 2;
  }
  const std::string scenario = argv[1], out = argv[2];
  try {
    dist::init_process_group(dist::InitProcessGroupOptions().timeout(std::chrono::seconds(60)));
    if (scenario == "train")
      trainScenario(out, 1);
    else if (scenario == "handlers")
      handlersScenario(out);
    else if (scenario == "train_accumulate")
      trainScenario(out, 2);
    else if (scenario == "metric")
      metricScenario(out, false);
    else if (scenario == "metric_empty_rank")
      metricScenario(out, true);
    else if (scenario == "gather")
      gatherScenario();
    else if (scenario == "api")
      apiScenario();
    else if (scenario == "fail") {
      if (dist::get_rank() == 1)
        std::_Exit(3); // dies; rank 0 waits in a barrier until the launcher stops it
      dist::barrier();
      return 0;
    } else {
      std::cerr << "unknown scenario " << scenario << "\n";
      return 2;
    }
    dist::destroy_process_group();
    if (dist::is_initialized())
      ++gFailures;
  } catch (const std::exception &e) {
    std::cerr << "rank " << dist::get_rank() << ": " << e.what() << "\n";
    return 1;
  }
  return gFailures == 0 ? 0 : 1;
}
