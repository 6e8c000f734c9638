// Engine: event order, filters, custom events, terminate, resume, exceptions.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/engines/engine.h"

using namespace med::engines;

namespace {

std::vector<med::Data> make_batches(int n) {
  std::vector<med::Data> out;
  for (int i = 0; i < n; ++i)
    out.push_back({{"image", med::MetaTensor(at::full({1}, double(i)))}});
  return out;
}

// Records every built-in event as "NAME:epoch:iteration".
struct Recorder {
  std::vector<std::string> log;
  void attach(Engine &e) {
    for (const Event &ev :
         {Events::STARTED, Events::EPOCH_STARTED, Events::GET_BATCH_STARTED,
          Events::GET_BATCH_COMPLETED, Events::ITERATION_STARTED, Events::ITERATION_COMPLETED,
          Events::EPOCH_COMPLETED, Events::TERMINATE, Events::COMPLETED})
      e.add_event_handler(ev, [this, name = ev.name()](Engine &en) {
        log.push_back(name + ":" + std::to_string(en.state.epoch) + ":" +
                      std::to_string(en.state.iteration));
      });
  }
};

Engine::ProcessFn echo() {
  return [](Engine &, med::Data &b) { return Output{{"pred", b.at("image").data}}; };
}

} // namespace

TEST(Engine, EventOrderMatchesHandWrittenSequence) {
  Engine e(echo());
  Recorder r;
  r.attach(e);
  e.run(make_batches(2), 2);
  std::vector<std::string> expected = {
      "STARTED:0:0",           "EPOCH_STARTED:1:0",
      "GET_BATCH_STARTED:1:0", "GET_BATCH_COMPLETED:1:0",
      "ITERATION_STARTED:1:1", "ITERATION_COMPLETED:1:1",
      "GET_BATCH_STARTED:1:1", "GET_BATCH_COMPLETED:1:1",
      "ITERATION_STARTED:1:2", "ITERATION_COMPLETED:1:2",
      "EPOCH_COMPLETED:1:2",   "EPOCH_STARTED:2:2",
      "GET_BATCH_STARTED:2:2", "GET_BATCH_COMPLETED:2:2",
      "ITERATION_STARTED:2:3", "ITERATION_COMPLETED:2:3",
      "GET_BATCH_STARTED:2:3", "GET_BATCH_COMPLETED:2:3",
      "ITERATION_STARTED:2:4", "ITERATION_COMPLETED:2:4",
      "EPOCH_COMPLETED:2:4",   "COMPLETED:2:4",
  };
  EXPECT_EQ(r.log, expected);
  EXPECT_EQ(e.state.epoch_length, 2);
}

TEST(Engine, OutputAndBatchFollowTheData) {
  Engine e(echo());
  std::vector<double> seen;
  e.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &en) {
    seen.push_back(en.state.output.at("pred").item<double>());
    EXPECT_EQ(en.state.batch.at("image").data.item<double>(), seen.back());
  });
  e.run(make_batches(3), 2);
  EXPECT_EQ(seen, (std::vector<double>{0, 1, 2, 0, 1, 2}));
}

TEST(Engine, EveryAndOnceFilters) {
  Engine e(echo());
  std::vector<int64_t> every3, once2, epoch_every2;
  e.add_event_handler(Events::ITERATION_COMPLETED.every(3),
                      [&](Engine &en) { every3.push_back(en.state.iteration); });
  e.add_event_handler(Events::EPOCH_COMPLETED.once(2),
                      [&](Engine &en) { once2.push_back(en.state.epoch); });
  e.add_event_handler(Events::EPOCH_STARTED.every(2),
                      [&](Engine &en) { epoch_every2.push_back(en.state.epoch); });
  e.run(make_batches(4), 3);
  EXPECT_EQ(every3, (std::vector<int64_t>{3, 6, 9, 12}));
  EXPECT_EQ(once2, (std::vector<int64_t>{2}));
  EXPECT_EQ(epoch_every2, (std::vector<int64_t>{2}));
  EXPECT_THROW(Events::ITERATION_COMPLETED.every(0), med::Error);
}

TEST(Engine, CustomEventsMustBeRegistered) {
  Engine e(echo());
  EXPECT_THROW(e.add_event_handler(Event("MY_EVENT"), [](Engine &) {}), med::Error);
  e.register_events({"MY_EVENT"});
  std::vector<int64_t> counts;
  e.add_event_handler(Event("MY_EVENT").every(2),
                      [&](Engine &en) { counts.push_back(en.state.iteration); });
  e.add_event_handler(Events::ITERATION_COMPLETED,
                      [](Engine &en) { en.fire_event(Event("MY_EVENT")); });
  e.run(make_batches(5), 1);
  EXPECT_EQ(counts, (std::vector<int64_t>{2, 4})); // 2nd and 4th firing
}

TEST(Engine, TerminateSkipsEpochCompletedAndFiresTerminate) {
  Engine e(echo());
  Recorder r;
  r.attach(e);
  e.add_event_handler(Events::ITERATION_COMPLETED.once(3), [](Engine &en) { en.terminate(); });
  e.run(make_batches(2), 5);
  std::vector<std::string> tail(r.log.end() - 4, r.log.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"ITERATION_STARTED:2:3", "ITERATION_COMPLETED:2:3",
                                            "TERMINATE:2:3", "COMPLETED:2:3"}));
}

TEST(Engine, TerminateEpochSkipsRestOfEpoch) {
  Engine e(echo());
  int iters = 0, epochs = 0;
  e.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &en) {
    ++iters;
    en.terminate_epoch();
  });
  e.add_event_handler(Events::EPOCH_COMPLETED, [&](Engine &) { ++epochs; });
  e.run(make_batches(4), 3);
  EXPECT_EQ(iters, 3);
  EXPECT_EQ(epochs, 3);
}

TEST(Engine, EpochLengthShorterAndLongerThanData) {
  std::vector<double> seen;
  Engine e(echo());
  e.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &en) {
    seen.push_back(en.state.output.at("pred").item<double>());
  });
  e.run(make_batches(3), 2, /*epoch_length=*/2);
  EXPECT_EQ(seen, (std::vector<double>{0, 1, 0, 1}));
  seen.clear();
  Engine e2(echo());
  e2.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &en) {
    seen.push_back(en.state.output.at("pred").item<double>());
  });
  e2.run(make_batches(2), 1, /*epoch_length=*/5);
  EXPECT_EQ(seen, (std::vector<double>{0, 1, 0, 1, 0}));
}

TEST(Engine, ResumeMidEpochSkipsUsedBatches) {
  Engine e(echo());
  std::map<std::string, double> saved;
  e.add_event_handler(Events::ITERATION_COMPLETED.once(4),
                      [&](Engine &en) { saved = en.state_dict(); });
  e.run(make_batches(3), 3);
  EXPECT_EQ(saved.at("iteration"), 4);

  Engine resumed(echo());
  std::vector<std::string> seen;
  resumed.add_event_handler(Events::ITERATION_COMPLETED, [&](Engine &en) {
    seen.push_back(std::to_string(en.state.epoch) + ":" + std::to_string(en.state.iteration) + ":" +
                   std::to_string(int(en.state.output.at("pred").item<double>())));
  });
  resumed.load_state_dict(saved);
  resumed.run(make_batches(3), 3);
  // Iteration 5 is the 2nd batch of epoch 2.
  EXPECT_EQ(seen, (std::vector<std::string>{"2:5:1", "2:6:2", "3:7:0", "3:8:1", "3:9:2"}));
}

TEST(Engine, ExceptionRethrownWithoutHandlerAndReportedWithOne) {
  Engine e([](Engine &en, med::Data &) -> Output {
    if (en.state.iteration == 2)
      throw med::Error("test", "boom");
    return {};
  });
  EXPECT_THROW(e.run(make_batches(3), 1), med::Error);

  Engine e2([](Engine &en, med::Data &) -> Output {
    if (en.state.iteration == 2)
      throw med::Error("test", "boom");
    return {};
  });
  std::string message;
  bool completed = false;
  e2.add_event_handler(Events::EXCEPTION_RAISED, [&](Engine &en) {
    try {
      std::rethrow_exception(en.state.exception);
    } catch (const med::Error &err) {
      message = err.what();
    }
  });
  e2.add_event_handler(Events::COMPLETED, [&](Engine &) { completed = true; });
  EXPECT_NO_THROW(e2.run(make_batches(3), 1));
  EXPECT_EQ(message, "test: boom");
  EXPECT_FALSE(completed);
}

TEST(Engine, SetEpochIsCalledPerEpoch) {
  struct Loader {
    std::vector<med::Data> items = make_batches(2);
    std::vector<int64_t> *epochs;
    int64_t size() const { return 2; }
    void set_epoch(int64_t e) { epochs->push_back(e); }
    auto begin() const { return items.begin(); }
    auto end() const { return items.end(); }
  };
  std::vector<int64_t> epochs;
  Engine e(echo());
  e.run(Loader{make_batches(2), &epochs}, 3);
  EXPECT_EQ(epochs, (std::vector<int64_t>{1, 2, 3}));
}

TEST(Engine, BadInputThrows) {
  Engine e(echo());
  EXPECT_THROW(e.run(), med::Error); // no data
  EXPECT_THROW(e.run(make_batches(2), 0), med::Error);
  EXPECT_THROW(e.run(std::vector<med::Data>{}, 1), med::Error);
  EXPECT_THROW(e.attach(nullptr), med::Error);
}
