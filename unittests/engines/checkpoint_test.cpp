// CheckpointSaver / CheckpointLoader: exact resume, atomic writes, keep-N rotation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/optim/schedulers/step_lr.h>
#include <torch/optim/sgd.h>

#include "common.h"
#include "med/core/error.h"
#include "med/engines/trainer.h"
#include "med/handlers/checkpoint.h"
#include "med/losses/dice.h"

using namespace med::engines;
using namespace med::handlers;
using med::engines::test::separable_batches;
using med::engines::test::tiny_net;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string &name) {
  fs::path d =
      fs::temp_directory_path() / ("med_engines_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::string> files_in(const fs::path &d) {
  std::vector<std::string> out;
  for (auto &e : fs::directory_iterator(d))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

LossFunction dice_loss() {
  return med::losses::DiceLoss(med::losses::DiceLossOptions().to_onehot_y(true).softmax(true));
}

// A trainer over fixed data whose losses are recorded per iteration.
struct TrainRun {
  torch::nn::Conv2d net = tiny_net();
  std::shared_ptr<torch::optim::Adam> opt =
      std::make_shared<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(0.05));
  std::unique_ptr<SupervisedTrainer> trainer;
  std::vector<double> losses;
  explicit TrainRun(int epochs) {
    trainer = std::make_unique<SupervisedTrainer>(
        SupervisedTrainerOptions(epochs, separable_batches(3, 2, 21), net, opt, dice_loss()));
    trainer->add_event_handler(Events::ITERATION_COMPLETED, [this](Engine &e) {
      losses.push_back(e.state.output.at("loss").item<double>());
    });
  }
};

} // namespace

TEST(Checkpoint, ResumeMidEpochContinuesExactly) {
  fs::path dir = fresh_dir("resume");
  set_determinism(0);
  TrainRun full(3); // 9 iterations, checkpoint after iteration 4 (mid epoch 2)
  auto saver = std::make_shared<CheckpointSaver>(
      CheckpointSaverOptions(dir.string(),
                             {{"net", full.net}, {"opt", full.opt}, {"trainer", *full.trainer}})
          .epoch_level(false)
          .save_interval(4));
  full.trainer->attach(saver);
  full.trainer->run();
  ASSERT_EQ(full.losses.size(), 9u);
  ASSERT_TRUE(fs::exists(dir / "checkpoint_iteration=4.pt"));
  ASSERT_TRUE(fs::exists(dir / "checkpoint_iteration=8.pt"));

  set_determinism(123); // a different initialisation: everything must come from the file
  TrainRun resumed(3);
  std::vector<int64_t> iterations;
  resumed.trainer->add_event_handler(Events::ITERATION_COMPLETED,
                                     [&](Engine &e) { iterations.push_back(e.state.iteration); });
  resumed.trainer->attach(std::make_shared<CheckpointLoader>(CheckpointLoaderOptions(
      (dir / "checkpoint_iteration=4.pt").string(),
      {{"net", resumed.net}, {"opt", resumed.opt}, {"trainer", *resumed.trainer}})));
  resumed.trainer->run();
  EXPECT_EQ(iterations, (std::vector<int64_t>{5, 6, 7, 8, 9}));
  ASSERT_EQ(resumed.losses.size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_DOUBLE_EQ(resumed.losses[i], full.losses[4 + i]) << "iteration " << 5 + i;
  EXPECT_TRUE(at::equal(resumed.net->weight, full.net->weight));
  fs::remove_all(dir);
}

TEST(Checkpoint, FailedWriteLeavesNoPartialFile) {
  fs::path dir = fresh_dir("atomic");
  auto net = tiny_net();
  std::string path = (dir / "model.pt").string();
  save_checkpoint(path, {{"net", net}});
  at::Tensor saved = net->weight.detach().clone();
  auto size_before = fs::file_size(path);

  // An entry that fails after others were serialized: the old file stays, nothing else appears.
  Checkpointable failing([](torch::serialize::OutputArchive &) { throw med::Error("x", "disk"); },
                         [](torch::serialize::InputArchive &) {});
  {
    at::NoGradGuard g;
    net->weight.add_(1.0);
  }
  EXPECT_THROW(save_checkpoint(path, {{"net", net}, {"zzz", failing}}), med::Error);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"model.pt"}));
  EXPECT_EQ(fs::file_size(path), size_before);
  auto other = tiny_net();
  load_checkpoint(path, {{"net", other}});
  EXPECT_TRUE(at::equal(other->weight, saved));

  // A directory that does not exist: med::Error, no file.
  EXPECT_THROW(save_checkpoint((dir / "missing" / "m.pt").string(), {{"net", net}}), med::Error);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"model.pt"}));
  fs::remove_all(dir);
}

TEST(Checkpoint, IntervalKeepsLastN) {
  fs::path dir = fresh_dir("keepn");
  Engine e([](Engine &, med::Data &) { return Output{}; });
  auto net = tiny_net();
  auto saver = std::make_shared<CheckpointSaver>(
      CheckpointSaverOptions(dir.string(), {{"net", net}, {"engine", e}})
          .save_interval(1)
          .n_saved(2)
          .file_prefix("net"));
  e.attach(saver);
  e.run(separable_batches(2, 1, 0), 5);
  EXPECT_EQ(files_in(dir),
            (std::vector<std::string>{"net_checkpoint_epoch=4.pt", "net_checkpoint_epoch=5.pt"}));
  fs::remove_all(dir);
}

TEST(Checkpoint, KeyMetricKeepsBestN) {
  fs::path dir = fresh_dir("keymetric");
  std::vector<double> scores = {0.1, 0.5, 0.3, 0.7, 0.2, 0.6};
  Engine e([](Engine &, med::Data &) { return Output{}; });
  e.state.key_metric_name = "dice";
  e.add_event_handler(Events::EPOCH_COMPLETED,
                      [&](Engine &en) { en.state.metrics["dice"] = scores[en.state.epoch - 1]; });
  auto net = tiny_net();
  auto saver =
      std::make_shared<CheckpointSaver>(CheckpointSaverOptions(dir.string(), {{"net", net}})
                                            .save_key_metric(true)
                                            .key_metric_n_saved(2)
                                            .save_final(true));
  e.attach(saver);
  e.run(separable_batches(1, 1, 0), 6);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"checkpoint_final_iteration=6.pt",
                                                     "checkpoint_key_metric=0.6000.pt",
                                                     "checkpoint_key_metric=0.7000.pt"}));
  fs::remove_all(dir);
}

TEST(Checkpoint, SchedulerAndEngineStateRoundTrip) {
  fs::path dir = fresh_dir("sched");
  auto net = tiny_net();
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(1.0));
  auto sched = std::make_shared<torch::optim::StepLR>(*opt, 2, 0.5);
  // LibTorch's StepLR multiplies by gamma at the k-th step() when k - 1 is a positive multiple
  // of step_size: steps 3 and 5 halve the rate here.
  for (int i = 0; i < 3; ++i)
    sched->step(); // lr 0.5, step count 3
  std::string path = (dir / "s.pt").string();
  save_checkpoint(path, {{"opt", opt}, {"sched", sched}});

  auto net2 = tiny_net();
  auto opt2 =
      std::make_shared<torch::optim::SGD>(net2->parameters(), torch::optim::SGDOptions(1.0));
  auto sched2 = std::make_shared<torch::optim::StepLR>(*opt2, 2, 0.5);
  load_checkpoint(path, {{"opt", opt2}, {"sched", sched2}});
  auto lr = [](torch::optim::SGD &o) {
    return static_cast<torch::optim::SGDOptions &>(o.param_groups()[0].options()).lr();
  };
  EXPECT_DOUBLE_EQ(lr(*opt2), 0.5); // the optimizer's learning rate came back
  for (int i = 0; i < 2; ++i) {
    sched->step();
    sched2->step(); // step 4: unchanged; step 5: halved
    EXPECT_DOUBLE_EQ(lr(*opt2), lr(*opt));
  }
  EXPECT_DOUBLE_EQ(lr(*opt), 0.25);
  EXPECT_THROW(load_checkpoint(path, {{"net", net2}}), med::Error); // strict: missing entry
  EXPECT_NO_THROW(load_checkpoint(path, {{"net", net2}}, /*strict=*/false));
  EXPECT_THROW(load_checkpoint((dir / "nope.pt").string(), {{"net", net2}}), med::Error);
  fs::remove_all(dir);
}
