// DataLoader / ThreadDataLoader: an epoch's batches produced by worker threads, in order.
#include "med/data/dataloader.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include "med/core/error.h"

namespace med::data {

namespace detail {

// One pass over the data: which items form each batch, and the threads that build them. Workers
// take batches in order but may finish out of order; the consumer waits for the next one.
struct Epoch {
  std::shared_ptr<const Dataset> dataset;
  DataLoaderOptions o;
  uint64_t epoch;
  std::vector<std::vector<int64_t>> batches;
  int64_t repeats = 1;
  int64_t window = 1;

  std::mutex m;
  std::condition_variable ready, space;
  std::map<int64_t, std::pair<Batch, std::exception_ptr>> done;
  int64_t next = 0;     // next batch a worker takes
  int64_t consumed = 0; // batches handed to the consumer
  bool stop = false;
  std::vector<std::thread> workers;

  ~Epoch() {
    {
      std::lock_guard<std::mutex> lk(m);
      stop = true;
    }
    space.notify_all();
    for (std::thread &t : workers)
      t.join();
  }

  Batch make(int64_t b) const {
    std::vector<Data> items;
    items.reserve(batches[b].size());
    for (int64_t idx : batches[b])
      items.push_back(dataset->get(idx, rt::RandomKey{o.seed(), epoch, uint64_t(idx), 0}));
    Batch out = list_data_collate(items);
    if (o.pin_memory() && at::globalContext().hasCUDA())
      for (auto &[k, v] : out)
        v.data = v.data.pin_memory();
    return out;
  }

  void work() {
    const int64_t nb = static_cast<int64_t>(batches.size());
    while (true) {
      std::unique_lock<std::mutex> lk(m);
      space.wait(lk, [&] { return stop || next >= nb || next < consumed + window; });
      if (stop || next >= nb)
        return;
      int64_t b = next++;
      lk.unlock();
      std::pair<Batch, std::exception_ptr> result;
      try {
        result.first = make(b);
      } catch (...) {
        result.second = std::current_exception();
      }
      lk.lock();
      done[b] = std::move(result);
      ready.notify_all();
    }
  }

  Batch take(int64_t b) {
    if (workers.empty())
      return make(b);
    std::unique_lock<std::mutex> lk(m);
    ready.wait(lk, [&] { return done.count(b) > 0; });
    auto result = std::move(done[b]);
    done.erase(b);
    consumed = b + 1;
    lk.unlock();
    space.notify_all();
    if (result.second)
      std::rethrow_exception(result.second);
    return std::move(result.first);
  }
};

} // namespace detail

BatchIterator::BatchIterator(std::shared_ptr<detail::Epoch> e) : epoch_(std::move(e)) {
  if (epoch_->batches.empty())
    epoch_.reset();
  else
    fetch();
}

void BatchIterator::fetch() {
  if (pos_ % epoch_->repeats == 0)
    current_ = epoch_->take(pos_ / epoch_->repeats);
}

BatchIterator &BatchIterator::operator++() {
  if (!epoch_)
    throw Error("DataLoader", "incremented an iterator past the end of the epoch");
  ++pos_;
  if (pos_ >= static_cast<int64_t>(epoch_->batches.size()) * epoch_->repeats) {
    epoch_.reset(); // joins the workers
    current_ = Batch();
  } else {
    fetch();
  }
  return *this;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), o_(std::move(options)) {
  if (!dataset_)
    throw Error("DataLoader.dataset", "expected a dataset, got nullptr");
  if (o_.batch_size() < 1)
    throw Error("DataLoader.batch_size", "expected >= 1, got " + std::to_string(o_.batch_size()));
  if (o_.num_workers() < 0)
    throw Error("DataLoader.num_workers", "expected >= 0, got " + std::to_string(o_.num_workers()));
  if (o_.prefetch_factor() < 1)
    throw Error("DataLoader.prefetch_factor",
                "expected >= 1, got " + std::to_string(o_.prefetch_factor()));
  if (o_.sampler() && o_.shuffle())
    throw Error("DataLoader.shuffle", "a sampler sets the order; expected shuffle false with a "
                                      "sampler (as torch)");
  threads_ = o_.num_workers();
  window_ = o_.prefetch_factor() * std::max<int64_t>(threads_, 1);
}

int64_t DataLoader::size() const {
  int64_t n = o_.sampler() ? o_.sampler()->size() : dataset_->size();
  int64_t b = o_.drop_last() ? n / o_.batch_size() : (n + o_.batch_size() - 1) / o_.batch_size();
  return b * repeats_;
}

void DataLoader::set_epoch(int64_t epoch) {
  if (epoch < 0)
    throw Error("DataLoader.set_epoch", "expected an epoch >= 0, got " + std::to_string(epoch));
  epoch_ = epoch;
  if (o_.sampler())
    o_.sampler()->set_epoch(epoch);
}

BatchIterator DataLoader::begin() const {
  auto e = std::make_shared<detail::Epoch>();
  e->dataset = dataset_;
  e->o = o_;
  e->epoch = static_cast<uint64_t>(epoch_);
  e->repeats = repeats_;
  e->window = window_;
  std::vector<int64_t> order;
  if (o_.sampler()) {
    order = o_.sampler()->indices();
  } else if (o_.shuffle()) {
    order = randperm(dataset_->size(), o_.seed() + static_cast<uint64_t>(epoch_));
  } else {
    order.resize(dataset_->size());
    for (int64_t i = 0; i < dataset_->size(); ++i)
      order[i] = i;
  }
  const int64_t bs = o_.batch_size();
  for (size_t s = 0; s < order.size(); s += bs) {
    size_t end = std::min(order.size(), s + bs);
    if (o_.drop_last() && static_cast<int64_t>(end - s) < bs)
      break;
    e->batches.emplace_back(order.begin() + s, order.begin() + end);
  }
  int64_t threads = std::min<int64_t>(threads_, static_cast<int64_t>(e->batches.size()));
  for (int64_t t = 0; t < threads; ++t)
    e->workers.emplace_back([raw = e.get()] { raw->work(); });
  return BatchIterator(std::move(e));
}

ThreadDataLoader::ThreadDataLoader(std::shared_ptr<const Dataset> dataset,
                                   DataLoaderOptions options, ThreadDataLoaderOptions thread)
    : DataLoader(std::move(dataset), std::move(options)) {
  if (thread.buffer_size() < 1)
    throw Error("ThreadDataLoader.buffer_size",
                "expected >= 1, got " + std::to_string(thread.buffer_size()));
  if (thread.repeats() < 1)
    throw Error("ThreadDataLoader.repeats",
                "expected >= 1, got " + std::to_string(thread.repeats()));
  repeats_ = thread.repeats();
  if (threads_ == 0) {
    threads_ = 1;
    window_ = thread.buffer_size();
  }
}

} // namespace med::data
