#include "engine/cpu/avx512_kernels.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace cpu {

namespace {
bool cpu_has_avx512() { return __builtin_cpu_supports("avx512f"); }
bool wanted_by_environment() {
  const char* v = std::getenv("AMNESIA_AVX512");
  return v == nullptr || std::strcmp(v, "off") != 0;
}
std::atomic<bool>& switch_state() {
  static std::atomic<bool> on{cpu_has_avx512() && wanted_by_environment()};
  return on;
}
}  // namespace

bool avx512_kernels() { return switch_state().load(std::memory_order_relaxed); }

void set_avx512_kernels(bool on) { switch_state().store(on && cpu_has_avx512(), std::memory_order_relaxed); }

}  // namespace cpu
