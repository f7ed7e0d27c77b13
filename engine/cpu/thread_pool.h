// The CPU backend's threads: one persistent pool that every threaded CPU op shares, so a training step
// starts no thread and allocates nothing. Why a pool of our own rather than OpenMP: OpenBLAS (the pthread
// build) would bring a second set of spinning threads, and on a 2-core machine two runtimes that spin
// against each other lose more than they gain. So OpenBLAS is kept at one thread and every GEMM runs
// inside this pool: a large GEMM is split by rows or columns of its output, small ones (a chunk of a
// convolution) run one per thread.
//
// Determinism: work that REDUCES over the batch (weight gradients, statistics) is cut into parts fixed
// whatever the thread count (kSlices slices, or a convolution's chunks), each part sums into its own
// partial, and the partials are added in order. Splits that do not reduce (images of an im2col, blocks
// of a GEMM's output) are fixed by the shapes alone too, since BLAS picks its kernel, and so its
// summation order, by the block's size.
// Hence results are bit-identical at any thread count, not just reproducible.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>

namespace cpu {

// The pool's size, n >= 1 (the caller's thread counts as one). Without a call: $AMNESIA_THREADS, else
// $OPENBLAS_NUM_THREADS, else the machine's hardware threads. Also pins OpenBLAS to one thread.
void set_threads(int n);
int threads();

// Runs body(task) for every task in [0, tasks) on the pool's threads (the caller's included), each task
// on whichever thread takes it first; returns when all are done. A call from inside a body runs its
// tasks serially on that thread. body must not throw.
void parallel_for(int tasks, const std::function<void(int)>& body);
// True inside a parallel_for body (at any thread count, 1 included). Creates the pool on first use.
bool in_parallel();

// Runs body(begin, end) over [0, n) cut into kSlices parts, or in one part when n < 2 * min_part: for
// loops whose items are independent (elementwise passes, image planes).
void parallel_range(int64_t n, int64_t min_part, const std::function<void(int64_t, int64_t)>& body);

// Which of the pool's threads is running: 0 for the caller of parallel_for (and any thread outside the
// pool), 1 .. threads()-1 for the workers. For scratch kept per thread.
int thread_index();

// Fixed batch slices for reductions (see above); four keeps 1, 2 and 4 threads evenly loaded.
constexpr int kSlices = 4;
// [begin, end) of part `part` of `parts` equal parts of n items.
inline int64_t part_begin(int64_t n, int part, int parts) { return n * part / parts; }

// part(begin, end) -> double over each of the kSlices fixed slices of [0, n), the slices spread over the
// pool and their results added in slice order: a sum with the same bits at any thread count.
template <class Part>
double sum_over_slices(int64_t n, const Part& part) {
  std::array<double, kSlices> sums{};
  parallel_for(kSlices, [&](int s) { sums[s] = part(part_begin(n, s, kSlices), part_begin(n, s + 1, kSlices)); });
  double total = 0.0;
  for (double v : sums) total += v;
  return total;
}

// Chunks of at most per_chunk items that cover [0, n).
inline int chunk_count(int n, int per_chunk) { return (n + per_chunk - 1) / per_chunk; }
// Runs body(first item, items, chunk) for every chunk, each chunk a task of its own: on a machine whose
// cores run at different speeds (a shared VM) the faster thread takes more of them, where four fixed
// slices would leave it waiting. A reduction keeps one partial per chunk (the chunks are fixed by n and
// per_chunk, not by the thread count) and adds them in chunk order (add_partials); scratch that lives
// only within a chunk is kept per thread (thread_index()).
template <class Body>
void for_each_chunk(int n, int per_chunk, const Body& body) {
  parallel_for(chunk_count(n, per_chunk), [&](int c) {
    const int first = c * per_chunk;
    body(first, std::min(per_chunk, n - first), c);
  });
}

// dst[r * cols + j] += partial_0(r, j) + partial_1(r, j) + ... + partial_{parts-1}(r, j) in that order,
// where partial_p(r, j) = first[p * part_stride + r * r_step + j * j_step] (so a partial may hold its
// matrix transposed). Rows split over the pool; each element's sum keeps its order.
void add_partials(float* dst, int rows, int64_t cols, const float* first, int64_t r_step, int64_t j_step,
                  int64_t part_stride, int parts);

}  // namespace cpu
