#include "engine/cpu/blas_kernels.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <strings.h>

// Weak, so that other BLAS builds link too.
extern "C" char* openblas_get_corename(void) __attribute__((weak));

namespace cpu {

const char* blas_core() { return openblas_get_corename ? openblas_get_corename() : "none"; }

const char* best_blas_core_for_this_cpu() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

}  // namespace cpu

namespace {

// Runs before main, after OpenBLAS has loaded and chosen its kernels (glibc hands a constructor the
// program's argv). It lives in the engine's static library, so it runs in every program that links this
// file: every driver does, through run.json's record of blas_core() (engine/run/run_record.cpp). The restart keeps the process id, so a parent waiting on it or signalling it does
// not notice; the environment it leaves set makes child processes start on the right kernels at once.
__attribute__((constructor)) void restart_on_generic_blas_kernels(int, char** argv, char**) {
  if (!openblas_get_corename || !argv || !argv[0] || std::getenv("OPENBLAS_CORETYPE")) return;
  if (strcasecmp(openblas_get_corename(), "Prescott") != 0) return;
  const char* core = cpu::best_blas_core_for_this_cpu();
  if (!core) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  std::fprintf(stderr,
               "amnesia: OpenBLAS does not know this CPU and fell back to its generic kernels; restarting "
               "with OPENBLAS_CORETYPE=%s (set OPENBLAS_CORETYPE to choose yourself)\n",
               core);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // run.json must not claim kernels this process does not run
  std::fprintf(stderr, "amnesia: restart failed (%s); going on with OpenBLAS's generic kernels\n",
               std::strerror(errno));
}

}  // namespace
