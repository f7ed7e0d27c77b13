// C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op(X) = X^T when the flag is set.
// CPU: OpenBLAS (or a blocked loop without it); CUDA: cuBLAS.
#pragma once
#include "engine/backend.h"

AMNESIA_OP(gemm, bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B,
           float beta, float* C)
