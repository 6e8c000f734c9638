// TensorBoard handlers on a small Engine run, checked by decoding the event file.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "event_reader.h"
#include "med/core/error.h"
#include "med/visualize/tensorboard_handlers.h"

namespace V = med::visualize;
namespace E = med::engines;
namespace fs = std::filesystem;
using namespace med_vis_test;

namespace {

std::vector<med::Data> batches(int n) {
  std::vector<med::Data> out;
  for (int i = 0; i < n; ++i)
    out.push_back({{"image", med::MetaTensor(at::rand({2, 1, 4, 5}))},
                   {"label", med::MetaTensor(at::ones({2, 1, 4, 5}))}});
  return out;
}

/// (tag, step, simple_value or image height/width) of every summary event in the file.
struct Rec {
  std::string tag;
  int64_t step;
  float value;
  uint64_t height = 0, width = 0;
};
std::vector<Rec> summaries(const std::string &path) {
  std::vector<Rec> out;
  for (const auto &r : readRecords(path)) {
    Fields e = parse(r);
    if (!e.count(5))
      continue;
    Fields v = parse(one(parse(one(e, 5).bytes), 1).bytes);
    Rec rec{one(v, 1).bytes, e.count(2) ? static_cast<int64_t>(one(e, 2).num) : 0, 0.f};
    if (v.count(2))
      rec.value = asFloat(one(v, 2).num);
    if (v.count(4)) {
      Fields im = parse(one(v, 4).bytes);
      rec.height = one(im, 1).num;
      rec.width = one(im, 2).num;
    }
    out.push_back(rec);
  }
  return out;
}

TEST(TensorBoardHandlers, LossPerIterationMetricsPerEpochImages) {
  const fs::path dir = fs::temp_directory_path() / ("med-vis-tbh-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto writer = std::make_shared<V::SummaryWriter>(dir.string());
  E::Engine engine([](E::Engine &e, med::Data &) {
    return E::Output{{"loss", at::tensor({0.5 * e.state.iteration})},
                     {"pred", at::rand({2, 3, 4, 5, 6})}};
  });
  engine.add_event_handler(E::Events::EPOCH_COMPLETED, [](E::Engine &e) {
    e.state.metrics["mean_dice"] = 0.25 * e.state.epoch;
    e.state.best_metric = 0.9;
  });
  engine.attach(std::make_shared<V::TensorBoardStatsHandler>(
      V::TensorBoardStatsHandlerOptions().summary_writer(writer).state_attributes(
          {"best_metric"})));
  engine.attach(std::make_shared<V::TensorBoardImageHandler>(
      V::TensorBoardImageHandlerOptions().summary_writer(writer).max_channels(2).index(1)));
  engine.run(batches(3), 2);
  writer->close();

  auto recs = summaries(writer->file_path());
  std::vector<Rec> loss, dice, best, images;
  for (const auto &r : recs) {
    if (r.tag == "Loss")
      loss.push_back(r);
    else if (r.tag == "mean_dice")
      dice.push_back(r);
    else if (r.tag == "state_attribute/best_metric")
      best.push_back(r);
    else
      images.push_back(r);
  }
  ASSERT_EQ(loss.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(loss[i].step, i + 1);
    EXPECT_FLOAT_EQ(loss[i].value, 0.5f * (i + 1));
  }
  ASSERT_EQ(dice.size(), 2u);
  EXPECT_EQ(dice[1].step, 2);
  EXPECT_FLOAT_EQ(dice[1].value, 0.5f);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_FLOAT_EQ(best[0].value, 0.9f);
  // Per epoch: input_0_HW_0 (4 x 5), input_1_HW_0, output_HWD_0 and _1: 4 frames of 5 x 6 in a
  // 2 x 2 grid -> 10 x 12.
  ASSERT_EQ(images.size(), 8u);
  EXPECT_EQ(images[0].tag, "input_0_HW_0");
  EXPECT_EQ(images[0].height, 4u);
  EXPECT_EQ(images[0].width, 5u);
  EXPECT_EQ(images[1].tag, "input_1_HW_0");
  EXPECT_EQ(images[2].tag, "output_HWD_0");
  EXPECT_EQ(images[3].tag, "output_HWD_1");
  EXPECT_EQ(images[2].height, 10u);
  EXPECT_EQ(images[2].width, 12u);
  EXPECT_EQ(images[7].step, 2);
  fs::remove_all(dir);
}

TEST(TensorBoardHandlers, BadOptionsThrow) {
  auto writer = std::make_shared<V::SummaryWriter>(
      (fs::temp_directory_path() / ("med-vis-tbh2-" + std::to_string(::getpid()))).string());
  EXPECT_THROW(
      V::TensorBoardStatsHandler(
          V::TensorBoardStatsHandlerOptions().summary_writer(writer).iteration_interval(0)),
      med::Error);
  EXPECT_THROW(
      V::TensorBoardStatsHandler(
          V::TensorBoardStatsHandlerOptions().summary_writer(writer).state_attributes({"nope"})),
      med::Error);
  EXPECT_THROW(V::TensorBoardImageHandler(
                   V::TensorBoardImageHandlerOptions().summary_writer(writer).interval(0)),
               med::Error);
  fs::remove_all(writer->log_dir());
}

} // namespace
