#include "engine/cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#ifdef AMNESIA_CBLAS
#include <cblas.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AMNESIA_PAUSE() _mm_pause()
#else
#define AMNESIA_PAUSE() std::this_thread::yield()
#endif

namespace cpu {
namespace {

thread_local bool tl_in_pool = false;
thread_local int tl_index = 0;

// Tasks are handed out one at a time from a shared ticket counter, so a thread that the OS has not
// scheduled (the machine is shared) holds up nothing: the others take its tasks. Which thread runs a
// task never matters, since every task writes only its own outputs. Workers wait for a new generation
// number: first spinning briefly (a step's parallel regions follow each other within microseconds), then
// asleep on the condition variable (so an idle pool costs nothing).
class Pool {
 public:
  explicit Pool(int n) : n_(n) {
    for (int t = 1; t < n_; ++t) workers_.emplace_back([this, t] {
      tl_index = t;
      work();
    });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (std::thread& w : workers_) w.join();
  }
  int size() const { return n_; }

  void run(int tasks, const std::function<void(int)>& body) {
    const uint64_t epoch = ++epoch_;
    body_.store(&body, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    epoch_tasks_.store(epoch << 32 | static_cast<uint32_t>(tasks), std::memory_order_relaxed);
    ticket_.store(epoch << 32, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(m_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    take_tasks();
    for (int spins = 0; done_.load(std::memory_order_acquire) != tasks; ++spins)
      if (spins < 4096)
        AMNESIA_PAUSE();
      else
        std::this_thread::yield();
  }

 private:
  static constexpr int kSpins = 1 << 11;

  // A ticket is (epoch << 32 | task). A worker that wakes late may draw a ticket of a region that has
  // ended; the epoch stamped on the task count tells it so, and it runs nothing.
  void take_tasks() {
    tl_in_pool = true;
    for (;;) {
      const uint64_t t = ticket_.fetch_add(1, std::memory_order_acq_rel);
      const uint64_t et = epoch_tasks_.load(std::memory_order_acquire);
      if ((t >> 32) != (et >> 32) || (t & 0xffffffffu) >= (et & 0xffffffffu)) break;
      (*body_.load(std::memory_order_acquire))(static_cast<int>(t & 0xffffffffu));
      done_.fetch_add(1, std::memory_order_release);
    }
    tl_in_pool = false;
  }

  void work() {
    uint64_t seen = 0;
    for (;;) {
      for (int i = 0; i < kSpins && generation_.load(std::memory_order_acquire) == seen; ++i) AMNESIA_PAUSE();
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      }
      seen = generation_.load(std::memory_order_acquire);
      if (stop_) return;
      take_tasks();
    }
  }

  const int n_;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  uint32_t epoch_ = 0;  // the caller's region count (only the calling thread touches it)
  std::atomic<uint64_t> ticket_{0}, epoch_tasks_{0};
  std::atomic<int> done_{0};
  std::atomic<const std::function<void(int)>*> body_{nullptr};
  bool stop_ = false;
};

int default_threads() {
  for (const char* var : {"AMNESIA_THREADS", "OPENBLAS_NUM_THREADS"})
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      if (n >= 1) return n;
    }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::unique_ptr<Pool>& pool() {
  static std::unique_ptr<Pool> p;
  return p;
}

Pool& the_pool() {
  if (!pool()) set_threads(default_threads());
  return *pool();
}

}  // namespace

void set_threads(int n) {
  n = std::max(1, n);
#ifdef AMNESIA_CBLAS
  openblas_set_num_threads(1);
#endif
  if (pool() && pool()->size() == n) return;
  pool().reset();
  pool() = std::make_unique<Pool>(n);
}

int threads() { return the_pool().size(); }

bool in_parallel() {
  the_pool();  // the first CPU op creates the pool, which pins OpenBLAS to one thread before any GEMM
  return tl_in_pool;
}

void parallel_for(int tasks, const std::function<void(int)>& body) {
  Pool& p = the_pool();
  if (tl_in_pool || p.size() == 1 || tasks <= 1) {
    // Marked as inside the pool even when serial, so nested code takes the same path at any thread count.
    const bool outer = tl_in_pool;
    tl_in_pool = true;
    for (int i = 0; i < tasks; ++i) body(i);
    tl_in_pool = outer;
    return;
  }
  p.run(tasks, body);
}

int thread_index() { return tl_index; }

void add_partials(float* dst, int rows, int64_t cols, const float* first, int64_t r_step, int64_t j_step,
                  int64_t part_stride, int parts) {
  // Up to 64 rows of one column at a time, the partials added into them one after another: the same
  // order for every element as a plain loop over the partials, and with r_step = 1 (dW held transposed)
  // the inner loop runs along memory and vectorises.
  constexpr int64_t kRows = 64;
  const int64_t min_rows = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, cols * parts));
  parallel_range(rows, min_rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r += kRows) {
      const int64_t rn = std::min(kRows, r1 - r);
      for (int64_t j = 0; j < cols; ++j) {
        float acc[kRows] = {};
        for (int p = 0; p < parts; ++p) {
          const float* src = first + p * part_stride + r * r_step + j * j_step;
          if (r_step == 1)
            for (int64_t i = 0; i < rn; ++i) acc[i] += src[i];
          else
            for (int64_t i = 0; i < rn; ++i) acc[i] += src[i * r_step];
        }
        for (int64_t i = 0; i < rn; ++i) dst[(r + i) * cols + j] += acc[i];
      }
    }
  });
}

void parallel_range(int64_t n, int64_t min_part, const std::function<void(int64_t, int64_t)>& body) {
  if (n < 2 * min_part) {
    if (n > 0) body(0, n);
    return;
  }
  parallel_for(kSlices, [&](int s) { body(part_begin(n, s, kSlices), part_begin(n, s + 1, kSlices)); });
}

}  // namespace cpu
