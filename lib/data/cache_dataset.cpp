// CacheDataset, and the progress line / thread loop the caching datasets share.
#include "med/data/cache_dataset.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include "data_internal.h"
#include "med/core/error.h"

namespace med::data {

namespace detail {

void progress(const std::string &label, int64_t done, int64_t total) {
  if (!isatty(STDERR_FILENO))
    return;
  std::fprintf(stderr, "\r%s: %lld/%lld%s", label.c_str(), static_cast<long long>(done),
               static_cast<long long>(total), done == total ? "\n" : "");
  std::fflush(stderr);
}

void parallelFor(int64_t n, int workers, const std::function<void(int64_t)> &fn) {
  if (workers <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex m;
  std::vector<std::thread> threads;
  for (int w = 0; w < std::min<int64_t>(workers, n); ++w)
    threads.emplace_back([&] {
      for (int64_t i; !failed && (i = next++) < n;) {
        try {
          fn(i);
        } catch (...) {
          std::lock_guard<std::mutex> lk(m);
          if (!error)
            error = std::current_exception();
          failed = true;
        }
      }
    });
  for (std::thread &t : threads)
    t.join();
  if (error)
    std::rethrow_exception(error);
}

int64_t cacheSize(int64_t n, int64_t cache_num, double cache_rate, const std::string &who) {
  if (cache_num < 0)
    throw Error(who + ".cache_num", "expected >= 0, got " + std::to_string(cache_num));
  if (!(cache_rate >= 0.0 && cache_rate <= 1.0))
    throw Error(who + ".cache_rate",
                "expected a fraction in [0, 1], got " + std::to_string(cache_rate));
  auto byRate = static_cast<int64_t>(static_cast<double>(n) * cache_rate);
  return std::min({cache_num, byRate, n});
}

} // namespace detail

CacheDataset::CacheDataset(std::vector<Item> data, Pipeline transform, Loader loader)
    : Dataset(std::move(data), std::move(transform), std::move(loader)),
      cache_(std::make_shared<std::vector<Data>>()), prefix_(transform_.prefix()),
      suffix_(transform_.suffix()) {}

CacheDataset::CacheDataset(std::vector<Item> data, Pipeline transform, CacheDatasetOptions o,
                           Loader loader)
    : CacheDataset(std::move(data), std::move(transform), std::move(loader)) {
  if (o.num_workers() < 1)
    throw Error("CacheDataset.num_workers",
                "expected >= 1, got " + std::to_string(o.num_workers()));
  int64_t n = detail::cacheSize(size(), o.cache_num(), o.cache_rate(), "CacheDataset");
  cache_->resize(static_cast<size_t>(n));
  std::atomic<int64_t> done{0};
  std::mutex m;
  detail::parallelFor(n, static_cast<int>(o.num_workers()), [&](int64_t i) {
    (*cache_)[i] = deterministic(i);
    int64_t k = ++done;
    if (o.progress()) {
      std::lock_guard<std::mutex> lk(m);
      detail::progress("Loading dataset", k, n);
    }
  });
}

Data CacheDataset::deterministic(int64_t index) const {
  // The prefix has no random step, so the key does not matter.
  return prefix_(loader_((*data_)[static_cast<size_t>(index)]),
                 rt::RandomKey{0, 0, uint64_t(index), 0});
}

Data CacheDataset::get(int64_t index, const rt::RandomKey &key) const {
  checkIndex(index, "CacheDataset");
  if (index < cache_num())
    return suffix_((*cache_)[static_cast<size_t>(index)], key);
  return suffix_(deterministic(index), key);
}

} // namespace med::data
