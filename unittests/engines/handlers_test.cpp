// EarlyStopHandler, ValidationHandler, StatsHandler, MetricsSaver, LrScheduleHandler.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <torch/optim/schedulers/step_lr.h>
#include <torch/optim/sgd.h>

#include "common.h"
#include "med/core/error.h"
#include "med/engines/evaluator.h"
#include "med/handlers/early_stop.h"
#include "med/handlers/lr_schedule.h"
#include "med/handlers/metrics_saver.h"
#include "med/handlers/stats.h"
#include "med/handlers/validation.h"

using namespace med::engines;
using namespace med::handlers;
using med::engines::test::separable_batches;
using med::engines::test::tiny_net;
namespace fs = std::filesystem;

namespace {

Output nothing(Engine &, med::Data &) { return {}; }

// Runs an engine whose epoch e scores scores[e - 1]; returns the last epoch that completed.
int64_t stop_epoch(const std::vector<double> &scores, int64_t patience, double min_delta,
                   bool cumulative) {
  Engine e(nothing);
  int64_t last = 0;
  auto stop = std::make_shared<EarlyStopHandler>(
      patience, [&](const Engine &en) { return scores[en.state.epoch - 1]; }, min_delta,
      cumulative);
  e.attach(stop);
  e.add_event_handler(Events::EPOCH_COMPLETED, [&](Engine &en) { last = en.state.epoch; });
  e.run(separable_batches(1, 1, 0), static_cast<int64_t>(scores.size()));
  return last;
}

std::string read(const fs::path &p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST(EarlyStopHandler, StopsAtTheRightEpoch) {
  // best 1 (e1), improve (e2), no improvement at e3 and e4 -> stop after epoch 4.
  EXPECT_EQ(stop_epoch({1, 2, 2, 1.5, 1.9, 3, 4}, 2, 0.0, false), 4);
  // Improvements smaller than min_delta do not count: stop after epoch 3.
  EXPECT_EQ(stop_epoch({1, 1.05, 1.08, 1.5, 2}, 2, 0.1, false), 3);
  // Without cumulative_delta the best follows small gains (1.06, 1.12): stop at epoch 4;
  // with it the best stays 1, so 1.12 is an improvement and training goes on.
  EXPECT_EQ(stop_epoch({1, 1.06, 1.12, 1.18, 1.2}, 3, 0.1, false), 4);
  EXPECT_EQ(stop_epoch({1, 1.06, 1.12, 1.18, 1.2}, 3, 0.1, true), 5);
  EXPECT_THROW(EarlyStopHandler(0, [](const Engine &) { return 0.0; }), med::Error);
}

TEST(EarlyStopHandler, OnEvaluatorStopsTrainer) {
  Engine trainer(nothing);
  auto evaluator = std::make_shared<SupervisedEvaluator>(
      SupervisedEvaluatorOptions(separable_batches(1, 1, 0), tiny_net()));
  auto stop = std::make_shared<EarlyStopHandler>(1, [](const Engine &) { return 1.0; });
  stop->set_trainer(trainer);
  evaluator->attach(stop);
  std::vector<int64_t> validated;
  evaluator->add_event_handler(Events::EPOCH_COMPLETED,
                               [&](Engine &e) { validated.push_back(e.state.epoch); });
  trainer.attach(std::make_shared<ValidationHandler>(1, evaluator));
  int completed = 0;
  trainer.add_event_handler(Events::COMPLETED, [&](Engine &) { ++completed; });
  trainer.run(separable_batches(2, 1, 0), 10);
  // Constant score: the second validation (epoch 2) is the first without improvement.
  EXPECT_EQ(validated, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(trainer.state.epoch, 2);
  EXPECT_EQ(completed, 1);
}

TEST(ValidationHandler, RunsEveryIntervalWithTrainerEpoch) {
  Engine trainer(nothing);
  auto evaluator = std::make_shared<SupervisedEvaluator>(
      SupervisedEvaluatorOptions(separable_batches(3, 1, 0), tiny_net()));
  std::vector<std::string> seen;
  evaluator->add_event_handler(Events::EPOCH_COMPLETED, [&](Engine &e) {
    seen.push_back(std::to_string(e.state.epoch) + ":" + std::to_string(e.state.iteration));
  });
  trainer.attach(std::make_shared<ValidationHandler>(2, evaluator, true, /*exec_at_start=*/true));
  trainer.run(separable_batches(2, 1, 0), 5);
  EXPECT_EQ(seen, (std::vector<std::string>{"1:3", "2:3", "4:3"}));
  EXPECT_THROW(ValidationHandler(0, evaluator), med::Error);
}

TEST(StatsHandler, PlainLinesWhenNotATerminal) {
  Engine e([](Engine &en, med::Data &) {
    return Output{{"loss", at::full({}, 0.5 * double(en.state.iteration))}};
  });
  e.state.key_metric_name = "acc";
  e.add_event_handler(Events::EPOCH_COMPLETED, [](Engine &en) {
    en.state.metrics["acc"] = 0.25;
    en.state.best_metric = 0.25;
    en.state.best_metric_epoch = en.state.epoch;
  });
  std::ostringstream out;
  auto stats = std::make_shared<StatsHandler>(StatsHandlerOptions().stream(&out).name("train"));
  EXPECT_FALSE(stats->progress_bar());
  e.attach(stats);
  e.run(separable_batches(2, 1, 0), 1);
  EXPECT_EQ(out.str(), "train Epoch: 1/1, Iter: 1/2 -- Loss: 0.5000\n"
                       "train Epoch: 1/1, Iter: 2/2 -- Loss: 1.0000\n"
                       "train Epoch[1] Metrics -- acc: 0.2500\n"
                       "train Key metric: acc best value: 0.2500 at epoch: 1\n");
}

TEST(StatsHandler, ProgressBarRedrawsOneLine) {
  Engine e([](Engine &, med::Data &) { return Output{{"loss", at::full({}, 2.0)}}; });
  std::ostringstream out;
  e.attach(
      std::make_shared<StatsHandler>(StatsHandlerOptions().stream(&out).progress_bar("always")));
  e.run(separable_batches(3, 1, 0), 1);
  std::string s = out.str();
  EXPECT_NE(s.find("\rEpoch 1/1 [####################] 3/3 ETA 0:00:00 Loss 2.0000 (avg 2.0000)"),
            std::string::npos)
      << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1); // one line, closed at epoch end
  EXPECT_THROW(StatsHandler(StatsHandlerOptions().progress_bar("sometimes")), med::Error);
  EXPECT_EQ(format_duration(3723.4), "1:02:03");
}

TEST(StatsHandler, LogsAndRethrowsExceptions) {
  Engine e([](Engine &, med::Data &) -> Output { throw med::Error("net", "bad shape"); });
  std::ostringstream out;
  e.attach(std::make_shared<StatsHandler>(StatsHandlerOptions().stream(&out)));
  EXPECT_THROW(e.run(separable_batches(1, 1, 0), 1), med::Error);
  EXPECT_EQ(out.str(), "Exception: net: bad shape\n");
}

TEST(MetricsSaver, WritesOneRowPerEpoch) {
  fs::path dir = fs::temp_directory_path() / ("med_engines_saver_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Engine e(nothing);
  e.add_event_handler(Events::EPOCH_COMPLETED, [](Engine &en) {
    en.state.metrics["dice"] = 0.5 * double(en.state.epoch);
    if (en.state.epoch == 2)
      en.state.metrics["hd"] = 3.0;
    en.state.metric_details["dice"] = at::tensor({0.25, 0.5, 1.0, NAN}).reshape({2, 2});
  });
  e.attach(
      std::make_shared<MetricsSaver>(MetricsSaverOptions(dir.string()).metric_details({"dice"})));
  e.run(separable_batches(1, 1, 0), 3);
  EXPECT_EQ(read(dir / "metrics.csv"), "epoch,dice,hd\n"
                                       "1,0.5,\n"
                                       "2,1,3\n"
                                       "3,1.5,3\n");
  EXPECT_EQ(read(dir / "dice_raw.csv"), "index,class0,class1,mean\n"
                                        "0,0.25,0.5,0.375\n"
                                        "1,1,nan,1\n");
  fs::remove_all(dir);
}

TEST(LrScheduleHandler, StepsPerEpoch) {
  auto net = tiny_net();
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(1.0));
  auto sched = std::make_shared<torch::optim::StepLR>(*opt, 2, 0.5);
  Engine e(nothing);
  std::ostringstream out;
  e.attach(std::make_shared<LrScheduleHandler>(sched, true, opt, &out));
  std::vector<double> lrs;
  e.add_event_handler(Events::EPOCH_COMPLETED, [&](Engine &) { lrs.push_back(current_lr(*opt)); });
  e.run(separable_batches(3, 1, 0), 5);
  // LibTorch's StepLR halves at the k-th step() when k - 1 is a positive multiple of 2.
  EXPECT_EQ(lrs, (std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.25}));
  EXPECT_EQ(out.str().substr(0, 26), "Current learning rate: 1\nC");

  Engine it(nothing);
  int steps = 0;
  it.attach(std::make_shared<LrScheduleHandler>([&](Engine &) { ++steps; }, /*epoch_level=*/false));
  it.run(separable_batches(3, 1, 0), 2);
  EXPECT_EQ(steps, 6);
}
