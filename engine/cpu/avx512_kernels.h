// The switch for this engine's own AVX-512 kernels (the shifted-plane convolution, conv_shifted.h, and
// the max-pool, pool.cpp). They run where the CPU has AVX-512F unless $AMNESIA_AVX512 is "off", which
// keeps every op on its portable path (im2col + BLAS, the scalar pool): for comparisons, and what a CPU
// without AVX-512 runs anyway. Results differ between the two in the last bits (another summation
// order), so a run is bit-reproducible for a given seed, thread count and setting of this switch.
#pragma once

namespace cpu {

// True when the AVX-512 kernels run.
bool avx512_kernels();
// Tests only: false forces the portable paths; true turns the kernels back on where the CPU has them.
void set_avx512_kernels(bool on);

}  // namespace cpu
