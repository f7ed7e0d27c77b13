// Row-major GEMM on cuBLAS (column-major). A row-major R x C matrix is, byte for byte, a column-major
// C x R matrix, i.e. its transpose. So instead of C = op(A) op(B) we ask cuBLAS for
//   C^T (N x M, col-major, ld N) = op(B)^T (N x K) * op(A)^T (K x M),
// passing B first and A second with the same transpose flags; the result lands in row-major C.
#include "engine/ops/elementwise.h"
#include "engine/ops/gemm.h"
#include "kernels/cuda_common.cuh"

namespace cuda {

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
          float* C) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    // Empty product: C = beta * C (beta == 0 overwrites, as BLAS does, even if C holds NaN).
    // Handled here so we never depend on how cuBLAS treats k == 0 or its leading-dimension checks.
    if (beta == 0.0f) fill(C, static_cast<int64_t>(M) * N, 0.0f);
    else if (beta != 1.0f) scale_copy(static_cast<int64_t>(M) * N, beta, C, C);
    return;
  }
  // Leading dimensions of the row-major operands as stored: A is M x K (or K x M when transposed).
  const int lda = trans_a ? M : K;
  const int ldb = trans_b ? K : N;
  CUBLAS_CHECK(cublasSgemm(cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                           N, M, K, &alpha, B, ldb, A, lda, &beta, C, N));
}

}  // namespace cuda
