#include "engine/ops/gemm.h"

#ifdef AMNESIA_CBLAS
#include <cblas.h>
#endif

namespace cpu {

#ifdef AMNESIA_CBLAS
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C) {
  if (K == 0) {  // BLAS rejects a zero leading dimension; an empty product leaves beta * C
    for (long i = 0; i < static_cast<long>(M) * N; ++i) C[i] = beta == 0.0f ? 0.0f : beta * C[i];
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
              ta ? M : K, B, tb ? K : N, beta, C, N);
}
#else
// Fallback for machines without OpenBLAS (the GPU box): correct, cache-friendly enough for tests.
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C) {
  for (int i = 0; i < M; ++i) {
    float* c = C + static_cast<long>(i) * N;
    for (int j = 0; j < N; ++j) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    for (int k = 0; k < K; ++k) {
      float a = alpha * (ta ? A[static_cast<long>(k) * M + i] : A[static_cast<long>(i) * K + k]);
      if (a == 0.0f) continue;
      if (tb) {
        for (int j = 0; j < N; ++j) c[j] += a * B[static_cast<long>(j) * K + k];
      } else {
        const float* b = B + static_cast<long>(k) * N;
        for (int j = 0; j < N; ++j) c[j] += a * b[j];
      }
    }
  }
}
#endif

}  // namespace cpu
