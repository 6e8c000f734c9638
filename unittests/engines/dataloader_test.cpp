// The engines fed by med::data::DataLoader (the contract engines and loaders share): the
// trainer runs size() batches per epoch, calls set_epoch, and its losses do not depend on the
// loader's worker count.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/sgd.h>

#include "common.h"
#include "med/data/dataloader.h"
#include "med/data/dataset.h"
#include "med/engines/trainer.h"
#include "med/losses/dice.h"

using namespace med::engines;

namespace {

// Ten items: image (1, 4, 4) ~ N(0, 1), label = image > 0.
med::data::Dataset items() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  std::vector<med::data::Item> data;
  for (int i = 0; i < 10; ++i) {
    at::Tensor img = at::randn({1, 4, 4}, gen, at::kFloat);
    med::data::Item item;
    item.data = {{"image", med::MetaTensor(img)},
                 {"label", med::MetaTensor((img > 0).to(at::kFloat))}};
    data.push_back(item);
  }
  return med::data::Dataset(data);
}

std::vector<double> losses(int64_t workers, int64_t *iterations) {
  set_determinism(0);
  auto net = med::engines::test::tiny_net();
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  med::data::DataLoader loader(
      items(), med::data::DataLoaderOptions().batch_size(3).shuffle(true).num_workers(workers));
  SupervisedTrainer trainer(SupervisedTrainerOptions(
      2, std::move(loader), net, opt,
      med::losses::DiceLoss(med::losses::DiceLossOptions().to_onehot_y(true).softmax(true))));
  std::vector<double> out;
  trainer.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &e) {
    out.push_back(e.state.output.at("loss").item<double>());
  });
  trainer.run();
  *iterations = trainer.state.iteration;
  return out;
}

} // namespace

TEST(EnginesWithDataLoader, TrainerRunsEveryBatchAndWorkersDoNotChangeLosses) {
  int64_t iterations0 = 0, iterations3 = 0;
  std::vector<double> inline0 = losses(0, &iterations0);
  std::vector<double> threaded = losses(3, &iterations3);
  // 10 items in batches of 3: 4 batches (the last holds one item) per epoch, 2 epochs.
  EXPECT_EQ(iterations0, 8);
  EXPECT_EQ(iterations3, 8);
  ASSERT_EQ(inline0.size(), 8u);
  EXPECT_EQ(inline0, threaded);
}
