// SmartCacheDataset: a cache window sliding through the data, refilled on a background thread.
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "data_internal.h"
#include "med/core/error.h"
#include "med/data/cache_dataset.h"

namespace med::data {

struct SmartCacheDataset::State {
  std::mutex m;
  std::condition_variable cv;
  std::vector<Data> cache;
  std::vector<int64_t> slots; // dataset index of each cache slot
  std::vector<Data> replacements;
  int64_t total = 0, cacheNum = 0, replaceNum = 0, startPos = 0;
  int replaceWorkers = 1;
  bool started = false, wanted = false, ready = false, stop = false;
  std::exception_ptr error;
  std::thread thread;
  std::function<Data(int64_t)> compute;

  // Dataset indices of the next replacements: the items after the current window.
  std::vector<int64_t> nextIndices() const {
    std::vector<int64_t> out;
    for (int64_t i = 0; i < replaceNum; ++i)
      out.push_back((startPos + cacheNum + i) % total);
    return out;
  }

  void loop() {
    std::unique_lock<std::mutex> lk(m);
    while (true) {
      cv.wait(lk, [&] { return stop || wanted; });
      if (stop)
        return;
      std::vector<int64_t> idx = nextIndices();
      lk.unlock();
      std::vector<Data> out(idx.size());
      std::exception_ptr err;
      try {
        detail::parallelFor(static_cast<int64_t>(idx.size()), replaceWorkers,
                            [&](int64_t i) { out[i] = compute(idx[i]); });
      } catch (...) {
        err = std::current_exception();
      }
      lk.lock();
      replacements = std::move(out);
      error = err;
      wanted = false;
      ready = true;
      cv.notify_all();
    }
  }

  void halt() {
    {
      std::lock_guard<std::mutex> lk(m);
      stop = true;
    }
    cv.notify_all();
    if (thread.joinable())
      thread.join();
    std::lock_guard<std::mutex> lk(m);
    started = false;
    stop = false;
  }

  ~State() { halt(); }
};

namespace {
std::vector<Item> shuffled(std::vector<Item> data, const SmartCacheDatasetOptions &o) {
  if (!o.shuffle())
    return data;
  std::vector<int64_t> idx(data.size());
  for (size_t i = 0; i < idx.size(); ++i)
    idx[i] = static_cast<int64_t>(i);
  detail::numpyShuffle(idx, static_cast<uint32_t>(o.seed()));
  std::vector<Item> out;
  out.reserve(data.size());
  for (int64_t i : idx)
    out.push_back(std::move(data[i]));
  return out;
}
} // namespace

SmartCacheDataset::SmartCacheDataset(std::vector<Item> data, Pipeline transform,
                                     SmartCacheDatasetOptions o, Loader loader)
    : CacheDataset(shuffled(std::move(data), o), std::move(transform), std::move(loader)),
      state_(std::make_shared<State>()) {
  if (o.num_init_workers() < 1 || o.num_replace_workers() < 1)
    throw Error("SmartCacheDataset.num_workers", "expected num_init_workers and "
                                                 "num_replace_workers >= 1");
  if (!(o.replace_rate() > 0.0 && o.replace_rate() <= 1.0))
    throw Error("SmartCacheDataset.replace_rate",
                "expected a fraction in (0, 1], got " + std::to_string(o.replace_rate()));
  State &s = *state_;
  s.total = Dataset::size();
  s.cacheNum = detail::cacheSize(s.total, o.cache_num(), o.cache_rate(), "SmartCacheDataset");
  if (s.cacheNum < 1)
    throw Error("SmartCacheDataset.cache_num",
                "the cache would be empty (" + std::to_string(s.total) + " items)");
  s.replaceNum = std::min<int64_t>(
      static_cast<int64_t>(std::ceil(static_cast<double>(s.cacheNum) * o.replace_rate())),
      s.total - s.cacheNum);
  s.replaceWorkers = static_cast<int>(o.num_replace_workers());
  // Holds its own references, so the thread never touches a dataset object.
  auto items = data_;
  auto prefix = prefix_;
  auto load = loader_;
  s.compute = [items, prefix, load](int64_t i) {
    return prefix(load((*items)[static_cast<size_t>(i)]), rt::RandomKey{0, 0, uint64_t(i), 0});
  };
  s.cache.resize(static_cast<size_t>(s.cacheNum));
  for (int64_t i = 0; i < s.cacheNum; ++i)
    s.slots.push_back(i);
  std::mutex pm;
  std::atomic<int64_t> done{0};
  detail::parallelFor(s.cacheNum, static_cast<int>(o.num_init_workers()), [&](int64_t i) {
    s.cache[i] = s.compute(i);
    int64_t k = ++done;
    if (o.progress()) {
      std::lock_guard<std::mutex> lk(pm);
      detail::progress("Loading dataset", k, s.cacheNum);
    }
  });
}

int64_t SmartCacheDataset::size() const { return state_->cacheNum; }

int64_t SmartCacheDataset::replace_num() const { return state_->replaceNum; }

int64_t SmartCacheDataset::itemIndex(int64_t slot) const {
  checkIndex(slot, "SmartCacheDataset");
  std::lock_guard<std::mutex> lk(state_->m);
  return state_->slots[slot];
}

Data SmartCacheDataset::get(int64_t index, const rt::RandomKey &key) const {
  checkIndex(index, "SmartCacheDataset");
  Data d;
  {
    std::lock_guard<std::mutex> lk(state_->m);
    d = state_->cache[static_cast<size_t>(index)];
  }
  return suffix_(d, key);
}

void SmartCacheDataset::start() {
  State &s = *state_;
  std::lock_guard<std::mutex> lk(s.m);
  if (s.started)
    return;
  s.started = true;
  if (!s.ready)
    s.wanted = true;
  s.thread = std::thread([&s] { s.loop(); });
}

void SmartCacheDataset::update_cache() {
  State &s = *state_;
  std::unique_lock<std::mutex> lk(s.m);
  if (!s.started)
    throw Error("SmartCacheDataset.update_cache", "call start() first: it prepares the "
                                                  "replacements on a background thread");
  if (s.replaceNum == 0)
    return;
  s.cv.wait(lk, [&] { return s.ready; });
  s.ready = false;
  if (s.error) {
    auto err = s.error;
    s.error = nullptr;
    s.wanted = true;
    s.cv.notify_all();
    std::rethrow_exception(err);
  }
  std::vector<int64_t> idx = s.nextIndices();
  s.cache.erase(s.cache.begin(), s.cache.begin() + s.replaceNum);
  s.slots.erase(s.slots.begin(), s.slots.begin() + s.replaceNum);
  for (size_t i = 0; i < idx.size(); ++i) {
    s.cache.push_back(std::move(s.replacements[i]));
    s.slots.push_back(idx[i]);
  }
  s.replacements.clear();
  s.startPos = (s.startPos + s.replaceNum) % s.total;
  s.wanted = true;
  s.cv.notify_all();
}

void SmartCacheDataset::shutdown() { state_->halt(); }

} // namespace med::data
