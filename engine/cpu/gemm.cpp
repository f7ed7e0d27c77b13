// CPU GEMM: OpenBLAS (one thread) on blocks of the output, the blocks spread over the engine's thread pool.
#include "engine/ops/gemm.h"

#include <algorithm>
#include <mutex>

#include "engine/cpu/gemm_trace.h"

#include "engine/cpu/thread_pool.h"

#ifdef AMNESIA_CBLAS
#include <cblas.h>
#endif

namespace cpu {

namespace {

// One block: C[M,N] (leading dimension ldc) = alpha op(A) op(B) + beta C, with explicit leading dimensions.
void gemm_block(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
                float beta, float* C, int ldc) {
  if (K == 0) {  // BLAS rejects a zero leading dimension; an empty product leaves beta * C
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j)
        C[static_cast<long>(i) * ldc + j] = beta == 0.0f ? 0.0f : beta * C[static_cast<long>(i) * ldc + j];
    return;
  }
#ifdef AMNESIA_CBLAS
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
              ldb, beta, C, ldc);
#else
  // Fallback for machines without OpenBLAS (the GPU box): correct, cache-friendly enough for tests.
  for (int i = 0; i < M; ++i) {
    float* c = C + static_cast<long>(i) * ldc;
    for (int j = 0; j < N; ++j) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    for (int k = 0; k < K; ++k) {
      const float a = alpha * (ta ? A[static_cast<long>(k) * lda + i] : A[static_cast<long>(i) * lda + k]);
      if (a == 0.0f) continue;
      if (tb) {
        for (int j = 0; j < N; ++j) c[j] += a * B[static_cast<long>(j) * ldb + k];
      } else {
        const float* b = B + static_cast<long>(k) * ldb;
        for (int j = 0; j < N; ++j) c[j] += a * b[j];
      }
    }
  }
#endif
}

// Below this many multiply-adds a GEMM stays one block: waking the pool costs more than it saves.
constexpr double kSplitMacs = 1 << 20;
// Blocks are cut at multiples of this, so every block but the last keeps BLAS's full register tiles.
constexpr int kAlign = 16;

std::vector<GemmCall>* trace = nullptr;
std::mutex trace_mutex;

void record(bool ta, bool tb, int M, int N, int K, float beta) {
  const std::lock_guard<std::mutex> lock(trace_mutex);
  trace->push_back(GemmCall{ta, tb, M, N, K, beta, in_parallel()});
}

}  // namespace

void set_gemm_trace(std::vector<GemmCall>* calls) { trace = calls; }

// A large GEMM outside a parallel region is cut into kSlices blocks of C's longer side, whatever the
// thread count: OpenBLAS picks its kernel by size, so only a fixed cut keeps the result thread-independent.
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C) {
  if (trace) record(ta, tb, M, N, K, beta);
  const int lda = ta ? M : K, ldb = tb ? K : N;
  const bool split_cols = N >= M;
  const int len = split_cols ? N : M;
  if (in_parallel() || static_cast<double>(M) * N * K < kSplitMacs || len < kSlices * kAlign) {
    gemm_block(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
    return;
  }
  const int units = len / kAlign;
  parallel_for(kSlices, [&](int part) {
    const int lo = static_cast<int>(part_begin(units, part, kSlices)) * kAlign;
    const int hi = part + 1 == kSlices ? len : static_cast<int>(part_begin(units, part + 1, kSlices)) * kAlign;
    if (split_cols) {
      const float* b = tb ? B + static_cast<long>(lo) * ldb : B + lo;
      gemm_block(ta, tb, M, hi - lo, K, alpha, A, lda, b, ldb, beta, C + lo, N);
    } else {
      const float* a = ta ? A + lo : A + static_cast<long>(lo) * lda;
      gemm_block(ta, tb, hi - lo, N, K, alpha, a, lda, B, ldb, beta, C + static_cast<long>(lo) * N, N);
    }
  });
}

}  // namespace cpu
