// The CPU backend's threads: one persistent pool that every threaded CPU op shares, so a training step
// starts no thread and allocates nothing. Why a pool of our own rather than OpenMP: OpenBLAS (the pthread
// build) would bring a second set of spinning threads, and on a 2-core machine two runtimes that spin
// against each other lose more than they gain. So OpenBLAS is kept at one thread and every GEMM runs
// inside this pool: a large GEMM is split by rows or columns of its output, small ones (a chunk of a
// convolution) run one per thread.
//
// Determinism: work that REDUCES over the batch (weight gradients, statistics) is cut into kSlices fixed
// slices whatever the thread count, each slice sums into its own partial, and the partials are added in
// slice order. Splits that do not reduce (images of an im2col, blocks of a GEMM's output) are fixed by
// the shapes alone too, since BLAS picks its kernel, and so its summation order, by the block's size.
// Hence results are bit-identical at any thread count, not just reproducible.
#pragma once
#include <algorithm>
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

// Fixed batch slices for reductions (see above); four keeps 1, 2 and 4 threads evenly loaded.
constexpr int kSlices = 4;
// [begin, end) of part `part` of `parts` equal parts of n items.
inline int64_t part_begin(int64_t n, int part, int parts) { return n * part / parts; }

// Runs body(first item, items, slice) over [0, n) in chunks of at most per_chunk items within each of
// the kSlices fixed slices, the slices spread over the pool: a batch loop whose slices each sum into
// their own partial.
template <class Body>
void for_each_slice_chunk(int n, int per_chunk, const Body& body) {
  parallel_for(kSlices, [&](int s) {
    const int lo = static_cast<int>(part_begin(n, s, kSlices)), hi = static_cast<int>(part_begin(n, s + 1, kSlices));
    for (int i = lo; i < hi; i += per_chunk) body(i, std::min(per_chunk, hi - i), s);
  });
}

// dst[r * cols + j] += partial_0(r, j) + partial_1(r, j) + ... in slice order, where partial_s(r, j) =
// first[s * slice_stride + r * r_step + j * j_step] (so a partial may hold its matrix transposed).
void add_slice_partials(float* dst, int rows, int64_t cols, const float* first, int64_t r_step, int64_t j_step,
                        int64_t slice_stride);

}  // namespace cpu
