// doctest main for the GPU tests: without a CUDA device the whole binary reports "skipped"
// (exit code 77, CTest's SKIP_RETURN_CODE) instead of failing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "engine/backend.h"

int main(int argc, char** argv) {
  if (!cuda_device_available()) {
    std::printf("no CUDA device: gpu tests skipped\n");
    return 77;
  }
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
