// C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op(X) = X^T when the flag is set.
// CPU: OpenBLAS (or a blocked loop without it); CUDA: cuBLAS.
#pragma once
#include "engine/backend.h"

#define GEMM_ARGS bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C
namespace cpu { void gemm(GEMM_ARGS); }
namespace cuda { void gemm(GEMM_ARGS); }
#undef GEMM_ARGS

inline void gemm(const Backend& be, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                 const float* A, const float* B, float beta, float* C) {
  AMNESIA_DISPATCH(be, gemm, trans_a, trans_b, M, N, K, alpha, A, B, beta, C);
}
