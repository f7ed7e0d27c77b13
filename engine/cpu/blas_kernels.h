// OpenBLAS's kernels for this CPU. Debian's OpenBLAS (0.3.21, built for every x86 core) picks its kernels
// by the CPU's model number, and on a model it does not know (seen here: Xeon family 6 model 207) it
// falls back to its generic SSE3 "Prescott" kernels: an LNTL baseline step then took 412 ms instead of
// 116 ms with the AVX-512 "SkylakeX" kernels (bench_steps, 1 thread). OpenBLAS reads OPENBLAS_CORETYPE
// only when it loads, so a program of this engine that finds OpenBLAS on its generic kernels on a CPU
// with AVX2 or AVX-512 restarts itself once, before main, with OPENBLAS_CORETYPE naming the best kernels
// the CPU runs, and says so on stderr. Setting OPENBLAS_CORETYPE yourself (any value) keeps your choice.
#pragma once

namespace cpu {

// The kernels OpenBLAS runs ("SkylakeX", "Haswell", "Prescott", ...), or "none" without OpenBLAS.
const char* blas_core();

// The best of OpenBLAS's kernel sets this CPU can run, as OPENBLAS_CORETYPE names them ("SkylakeX" with
// AVX-512, "Haswell" with AVX2 and FMA), or nullptr when the generic ones are all it runs.
const char* best_blas_core_for_this_cpu();

}  // namespace cpu
