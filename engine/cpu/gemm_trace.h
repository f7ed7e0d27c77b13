// A record of the GEMMs the CPU backend runs, for bench_steps' "GEMMs alone" floor: replaying a training
// step's GEMMs by themselves tells how fast the step could be if everything around them (im2col, pooling,
// batch norm, the optimiser) cost nothing, i.e. how much of the gap to the SGEMM peak is BLAS's own.
#pragma once
#include <vector>

namespace cpu {

struct GemmCall {
  bool trans_a = false, trans_b = false;
  int M = 0, N = 0, K = 0;
  float beta = 0.0f;
  bool nested = false;  // called inside a parallel_for body (a convolution chunk): never split further
};

// While `calls` is set, cpu::gemm appends one entry per call (from any pool thread); nullptr stops it.
// Set and clear it between steps, not while one is running.
void set_gemm_trace(std::vector<GemmCall>* calls);

}  // namespace cpu
