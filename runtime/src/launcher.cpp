#include "med/runtime/launcher.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace med::rt {
namespace {

// A fixed set of workers that grows on demand and lives for the process. One job at a time:
// parallelFor holds `submitMutex` for its whole duration, so nested or concurrent callers queue.
class Pool {
public:
  static Pool &get() {
    static Pool pool;
    return pool;
  }

  void run(int tasks, const std::function<void(int)> &task) {
    std::lock_guard<std::mutex> submit(submitMutex_);
    ensureWorkers(tasks - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      next_ = 1; // task 0 runs on the caller
      total_ = tasks;
      pending_ = tasks - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    runOne(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    task_ = nullptr;
    if (error_)
      std::rethrow_exception(error_);
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : workers_)
      t.join();
  }

private:
  void ensureWorkers(int n) {
    while (static_cast<int>(workers_.size()) < n)
      workers_.emplace_back([this] { loop(); });
  }

  void runOne(int index) {
    try {
      (*task_)(index);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_)
        error_ = std::current_exception();
    }
  }

  void loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || (generation_ != seen && next_ < total_); });
      if (stop_)
        return;
      int index = next_++;
      if (next_ >= total_)
        seen = generation_;
      lock.unlock();
      runOne(index);
      lock.lock();
      if (--pending_ == 0)
        done_.notify_all();
    }
  }

  std::mutex submitMutex_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)> *task_ = nullptr;
  int next_ = 0, total_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

} // namespace

void parallelFor(int64_t n, int threads, int64_t align,
                 const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  align = std::max<int64_t>(align, 1);
  int64_t blocks = (n + align - 1) / align;
  int chunks = static_cast<int>(std::min<int64_t>(std::max(threads, 1), blocks));
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  int64_t perChunk = (blocks + chunks - 1) / chunks * align;
  Pool::get().run(chunks, [&](int c) {
    int64_t begin = c * perChunk;
    int64_t end = std::min(n, begin + perChunk);
    if (begin < end)
      fn(begin, end);
  });
}

namespace {
constexpr int kMaxBuffers = 8;

void callKernel(med_packed_kernel kernel, const BufferRef *buffers, int count, int64_t begin,
                int64_t end) {
  if (count > kMaxBuffers)
    throw std::invalid_argument("med::rt: a kernel takes at most 8 buffers");
  med_memref1d descs[kMaxBuffers];
  med_memref2d rows[kMaxBuffers];
  void *ptrs[kMaxBuffers];
  void *args[kMaxBuffers];
  for (int i = 0; i < count; ++i) {
    void *base = buffers[i].data;
    const int64_t lo = buffers[i].split ? begin : 0;
    const int64_t hi = buffers[i].split ? end : buffers[i].size;
    if (const int64_t row = buffers[i].rowLength; row > 0) {
      rows[i] = med_memref2d{base, base, lo, {(hi - lo) / row, row}, {row, 1}};
      ptrs[i] = &rows[i];
    } else {
      descs[i] = med_memref1d{base, base, lo, hi - lo, 1};
      ptrs[i] = &descs[i];
    }
    args[i] = &ptrs[i];
  }
  kernel(args);
}

// Chunk boundaries: whole rows of a row-split buffer, else multiples of 64 elements.
int64_t chunkAlign(const BufferRef *buffers, int count) {
  for (int i = 0; i < count; ++i)
    if (buffers[i].split && buffers[i].rowLength > 0)
      return buffers[i].rowLength;
  return 64;
}

// Slice-blocked walk (BufferRef::sliceRows): slices per block and rows per window.
constexpr int64_t kBlockSlices = 64, kWindowRows = 16;

// Computes elements [begin, end) (whole rows), in slice-blocked windows when a split buffer asks
// for them.
void runChunk(med_packed_kernel kernel, const BufferRef *buffers, int count, int64_t begin,
              int64_t end) {
  int64_t width = 0, height = 0;
  for (int i = 0; i < count; ++i)
    if (buffers[i].split && buffers[i].rowLength > 0 && buffers[i].sliceRows > 0) {
      width = buffers[i].rowLength;
      height = buffers[i].sliceRows;
    }
  if (height == 0) {
    callKernel(kernel, buffers, count, begin, end);
    return;
  }
  const int64_t r0 = begin / width, r1 = end / width;
  const int64_t s1 = (r1 + height - 1) / height;
  for (int64_t block = r0 / height; block < s1; block += kBlockSlices)
    for (int64_t y = 0; y < height; y += kWindowRows)
      for (int64_t s = block; s < std::min(s1, block + kBlockSlices); ++s) {
        const int64_t lo = std::max(r0, s * height + y);
        const int64_t hi = std::min(r1, s * height + std::min(height, y + kWindowRows));
        if (lo < hi)
          callKernel(kernel, buffers, count, lo * width, hi * width);
      }
}
} // namespace

void launchElementwise(med_packed_kernel kernel, const BufferRef *buffers, int count, int threads) {
  int64_t n = 0;
  for (int i = 0; i < count; ++i)
    if (buffers[i].split)
      n = buffers[i].size;
  parallelFor(n, threads, chunkAlign(buffers, count),
              [&](int64_t begin, int64_t end) { runChunk(kernel, buffers, count, begin, end); });
}

void launchBatch(med_packed_kernel kernel, const BufferRef *buffers, int count, int samples,
                 int threads, bool elementwise) {
  struct Item {
    int sample;
    int64_t begin, end;
  };
  std::vector<Item> items;
  for (int s = 0; s < samples; ++s) {
    const BufferRef *bufs = buffers + static_cast<size_t>(s) * count;
    int64_t n = 0;
    for (int i = 0; i < count; ++i)
      if (bufs[i].split)
        n = bufs[i].size;
    if (!elementwise || n == 0) {
      items.push_back({s, -1, -1}); // whole buffers
      continue;
    }
    // About one chunk per thread per sample, aligned like launchElementwise's.
    const int64_t align = chunkAlign(bufs, count);
    int64_t chunk =
        std::max<int64_t>(align, (n / std::max(threads, 1) + align - 1) / align * align);
    for (int64_t b = 0; b < n; b += chunk)
      items.push_back({s, b, std::min(n, b + chunk)});
  }
  parallelFor(static_cast<int64_t>(items.size()), threads, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const Item &it = items[k];
      const BufferRef *bufs = buffers + static_cast<size_t>(it.sample) * count;
      if (it.begin < 0)
        launchWhole(kernel, bufs, count);
      else
        runChunk(kernel, bufs, count, it.begin, it.end);
    }
  });
}

void launchWhole(med_packed_kernel kernel, const BufferRef *buffers, int count) {
  // Every buffer whole, each with its own size (a resample's output differs from its input).
  std::vector<BufferRef> whole(buffers, buffers + count);
  for (BufferRef &b : whole)
    b.split = false;
  callKernel(kernel, whole.data(), count, 0, 0);
}

} // namespace med::rt
