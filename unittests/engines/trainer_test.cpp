// SupervisedTrainer, SupervisedEvaluator, EnsembleEvaluator, metric handlers, set_determinism.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "common.h"
#include "med/core/error.h"
#include "med/engines/engines.h"
#include "med/engines/evaluator.h"
#include "med/engines/trainer.h"
#include "med/handlers/metrics.h"
#include "med/losses/dice.h"
#include "med/metrics/meandice.h"

using namespace med::engines;
using med::engines::test::copy_of;
using med::engines::test::separable_batches;
using med::engines::test::tiny_net;

namespace {

LossFunction dice_loss() {
  return med::losses::DiceLoss(med::losses::DiceLossOptions().to_onehot_y(true).softmax(true));
}

std::vector<double> train_losses(uint64_t seed, int epochs) {
  set_determinism(seed);
  auto net = tiny_net();
  auto opt =
      std::make_shared<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(0.05));
  SupervisedTrainer trainer(
      SupervisedTrainerOptions(epochs, separable_batches(4, 2, 7), net, opt, dice_loss()));
  std::vector<double> losses;
  trainer.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &e) {
    losses.push_back(e.state.output.at("loss").item<double>());
  });
  trainer.run();
  return losses;
}

// One-hot of argmax over channels, (B, C, ...).
at::Tensor onehot_argmax(const at::Tensor &logits) {
  return at::one_hot(logits.argmax(1), logits.size(1)).permute({0, 3, 1, 2}).to(at::kFloat);
}

Output discretize(Output o) {
  o["pred"] = onehot_argmax(o["pred"]);
  o["label"] =
      at::one_hot(o["label"].squeeze(1).to(at::kLong), 2).permute({0, 3, 1, 2}).to(at::kFloat);
  return o;
}

} // namespace

TEST(SupervisedTrainer, SetDeterminismGivesIdenticalLosses) {
  auto a = train_losses(0, 2);
  auto b = train_losses(0, 2);
  auto c = train_losses(1, 2);
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c); // another seed, another initialisation
  EXPECT_EQ(determinism_seed(), std::optional<uint64_t>(1));
}

TEST(SupervisedTrainer, LossDecreasesOnSeparableProblem) {
  auto losses = train_losses(0, 10);
  double first = (losses[0] + losses[1] + losses[2] + losses[3]) / 4;
  double last = 0;
  for (size_t i = losses.size() - 4; i < losses.size(); ++i)
    last += losses[i] / 4;
  EXPECT_LT(last, 0.5 * first) << "first epoch " << first << ", last epoch " << last;
}

TEST(SupervisedTrainer, IterationEventsInOrder) {
  auto net = tiny_net();
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  SupervisedTrainer trainer(
      SupervisedTrainerOptions(1, separable_batches(1, 2, 3), net, opt, dice_loss()));
  std::vector<std::string> log;
  for (const Event &ev : {Events::ITERATION_STARTED, IterationEvents::FORWARD_COMPLETED,
                          IterationEvents::LOSS_COMPLETED, IterationEvents::BACKWARD_COMPLETED,
                          IterationEvents::MODEL_COMPLETED, Events::ITERATION_COMPLETED})
    trainer.add_event_handler(ev, [&log, n = ev.name()](Engine &e) {
      log.push_back(n + ":" + std::to_string(e.state.output.count("pred")) +
                    std::to_string(e.state.output.count("loss")));
    });
  trainer.run();
  EXPECT_EQ(log, (std::vector<std::string>{"ITERATION_STARTED:00", "FORWARD_COMPLETED:10",
                                           "LOSS_COMPLETED:11", "BACKWARD_COMPLETED:11",
                                           "MODEL_COMPLETED:11", "ITERATION_COMPLETED:11"}));
}

TEST(SupervisedTrainer, GradientAccumulationEqualsOneBigBatch) {
  set_determinism(3);
  auto net_acc = tiny_net();
  auto net_big = copy_of(net_acc);
  at::Tensor w0 = net_acc->weight.detach().clone();
  auto small = separable_batches(2, 2, 11);
  med::Data big = {
      {"image", med::MetaTensor(at::cat({small[0].at("image").data, small[1].at("image").data}))},
      {"label", med::MetaTensor(at::cat({small[0].at("label").data, small[1].at("label").data}))}};

  auto opt_acc =
      std::make_shared<torch::optim::SGD>(net_acc->parameters(), torch::optim::SGDOptions(0.5));
  SupervisedTrainer acc(SupervisedTrainerOptions(1, small, net_acc, opt_acc, dice_loss())
                            .gradient_accumulation_steps(2));
  int steps = 0;
  acc.add_event_handler(IterationEvents::MODEL_COMPLETED, [&](Engine &) { ++steps; });
  acc.run();

  auto opt_big =
      std::make_shared<torch::optim::SGD>(net_big->parameters(), torch::optim::SGDOptions(0.5));
  SupervisedTrainer one(
      SupervisedTrainerOptions(1, std::vector<med::Data>{big}, net_big, opt_big, dice_loss()));
  one.run();

  EXPECT_EQ(steps, 2); // MODEL_COMPLETED fires per iteration; only the 2nd stepped
  EXPECT_TRUE(at::allclose(net_acc->weight, net_big->weight, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(net_acc->bias, net_big->bias, 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(w0, net_acc->weight)); // the step happened
}

TEST(SupervisedTrainer, CustomIterationUpdateReplacesTheStep) {
  auto net = tiny_net();
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  at::Tensor before = net->weight.detach().clone();
  int calls = 0;
  SupervisedTrainer trainer(
      SupervisedTrainerOptions(2, separable_batches(3, 2, 3), net, opt, dice_loss())
          .iteration_update([&](SupervisedTrainer &t, med::Data &b) {
            ++calls;
            return Output{{"loss", at::full({}, double(t.state.iteration))}};
          }));
  trainer.run();
  EXPECT_EQ(calls, 6);
  EXPECT_TRUE(at::equal(before, net->weight.detach())); // never stepped
  EXPECT_EQ(trainer.state.output.at("loss").item<double>(), 6.0);
}

TEST(SupervisedTrainer, BadOptionsThrow) {
  auto net = tiny_net();
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  auto data = separable_batches(1, 1, 0);
  EXPECT_THROW(SupervisedTrainer(SupervisedTrainerOptions(1, data, net, nullptr, dice_loss())),
               med::Error);
  EXPECT_THROW(SupervisedTrainer(SupervisedTrainerOptions(0, data, net, opt, dice_loss())),
               med::Error);
  EXPECT_THROW(
      SupervisedTrainer(
          SupervisedTrainerOptions(1, data, net, opt, dice_loss()).gradient_accumulation_steps(0)),
      med::Error);
  std::vector<med::Data> no_image = {{{"label", med::MetaTensor(at::zeros({1, 1, 4, 4}))}}};
  SupervisedTrainer t(SupervisedTrainerOptions(1, no_image, net, opt, dice_loss()));
  EXPECT_THROW(t.run(), med::Error);
}

TEST(SupervisedEvaluator, MeanDiceHandlerEqualsMetricByHand) {
  set_determinism(0);
  auto net = tiny_net();
  auto data = separable_batches(3, 2, 5);
  SupervisedEvaluator eval(
      SupervisedEvaluatorOptions(data, net)
          .postprocessing(discretize)
          .key_val_metric({{"val_mean_dice", std::make_shared<med::handlers::MeanDice>()}}));
  eval.run();

  // By hand: the metric called on the same predictions, and an ATen Dice.
  med::metrics::DiceMetric metric;
  std::vector<at::Tensor> per_item;
  {
    at::NoGradGuard g;
    for (auto &b : data) {
      Output o = discretize({{"pred", net(b.at("image").data)}, {"label", b.at("label").data}});
      metric(o["pred"], o["label"]);
      at::Tensor inter = (o["pred"] * o["label"]).sum({2, 3});
      at::Tensor sums = o["pred"].sum({2, 3}) + o["label"].sum({2, 3});
      per_item.push_back(2 * inter / sums); // (B, C); nan where the class is absent in both
    }
  }
  at::Tensor d = at::cat(per_item).to(at::kDouble);
  // Only empty ground truth gives nan in MONAI; skip those entries in the mean.
  double by_aten = d.masked_select(~d.isnan()).mean().item<double>();
  EXPECT_NEAR(eval.state.metrics.at("val_mean_dice"), metric.aggregate().item<double>(), 1e-12);
  EXPECT_NEAR(eval.state.metrics.at("val_mean_dice"), by_aten, 1e-6);
  EXPECT_EQ(eval.state.metric_details.at("val_mean_dice").size(0), 6);
  EXPECT_EQ(eval.state.best_metric_epoch, 1);
  EXPECT_EQ(eval.state.best_metric, eval.state.metrics.at("val_mean_dice"));
}

TEST(SupervisedEvaluator, RunLabelsPassWithTrainerEpochAndUsesNoGrad) {
  auto net = tiny_net();
  SupervisedEvaluator eval(SupervisedEvaluatorOptions(separable_batches(2, 1, 5), net));
  std::vector<std::string> seen;
  eval.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &e) {
    seen.push_back(std::to_string(e.state.epoch) + ":" + std::to_string(e.state.iteration) + ":" +
                   std::to_string(e.state.output.at("pred").requires_grad()));
  });
  eval.run(3);
  eval.run(4);
  EXPECT_EQ(seen, (std::vector<std::string>{"3:1:0", "3:2:0", "4:1:0", "4:2:0"}));
  EXPECT_FALSE(net->is_training());
}

TEST(EnsembleEvaluator, OnePredictionPerNetwork) {
  set_determinism(0);
  auto a = tiny_net();
  auto b = tiny_net();
  auto data = separable_batches(1, 2, 9);
  EnsembleEvaluator ens(EnsembleEvaluatorOptions(data, {a, b}).postprocessing([](Output o) {
    o["pred"] = (o["pred_0"] + o["pred_1"]) / 2;
    return o;
  }));
  ens.run();
  at::NoGradGuard g;
  at::Tensor x = data[0].at("image").data;
  EXPECT_TRUE(at::allclose(ens.state.output.at("pred_0"), a(x)));
  EXPECT_TRUE(at::allclose(ens.state.output.at("pred_1"), b(x)));
  EXPECT_TRUE(at::allclose(ens.state.output.at("pred"), (a(x) + b(x)) / 2));
  EXPECT_THROW(EnsembleEvaluator(EnsembleEvaluatorOptions(data, {a, b}).pred_keys({"x"})),
               med::Error);
}

TEST(SupervisedTrainer, AmpIsANoOpOnCpu) {
  set_determinism(0);
  auto net = tiny_net();
  auto net2 = copy_of(net);
  auto data = separable_batches(3, 2, 4);
  std::vector<double> plain, amp;
  for (auto *run : {&plain, &amp}) {
    auto &n = run == &plain ? net : net2;
    auto opt =
        std::make_shared<torch::optim::Adam>(n->parameters(), torch::optim::AdamOptions(0.05));
    SupervisedTrainer t(SupervisedTrainerOptions(2, data, n, opt, dice_loss()).amp(run == &amp));
    t.add_event_handler(Events::ITERATION_COMPLETED, [run](Engine &e) {
      run->push_back(e.state.output.at("loss").item<double>());
    });
    t.run();
  }
  EXPECT_EQ(plain, amp);
}
