// doctest main for the GPU tests: without a CUDA device (no driver installed, or none present) the whole
// binary reports "skipped" (exit code 77, CTest's SKIP_RETURN_CODE) instead of failing. A device that is
// there but cannot be used (an old driver, no kernel image for its architecture) is a failure, with the
// runtime's reason: that is exactly what this suite is for.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "engine/backend.h"
#include "tests/gpu_check.h"

int main(int argc, char** argv) {
  const CudaProbe probe = probe_cuda();
  if (probe.state == CudaProbe::Absent && !gpu_check::rehearsing_on_cpu()) {
    std::printf("no CUDA device: gpu tests skipped\n");
    return 77;
  }
  if (probe.state == CudaProbe::NoKernels || probe.state == CudaProbe::Broken) {
    std::fprintf(stderr, "gpu tests: %s\n", probe.why.c_str());
    return 1;
  }
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
