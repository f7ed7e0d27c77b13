#include "engine/ops/rng.h"

#include <cmath>
#include <cstdint>

#include "engine/cpu/thread_pool.h"

namespace cpu {

namespace {
struct Words {
  uint32_t x[4];
};

// Philox4x32-10 (Salmon et al., SC'11): a keyed bijection of the counter, so any element can be
// generated independently of the others and runs replay exactly.
Words philox(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}
}  // namespace

// Element i depends on its counter alone, so the pool splits the elements with every value unchanged.
constexpr int64_t kMinPart = 4096;

void uniform(float* x, int64_t n, uint64_t seed, uint64_t offset) {
  parallel_range(n, kMinPart, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) x[i] = static_cast<float>(philox(offset + i, seed).x[0] >> 8) * 0x1.0p-24f;
  });
}

void normal(float* x, int64_t n, uint64_t seed, uint64_t offset) {
  parallel_range(n, kMinPart, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      Words w = philox(offset + i, seed);
      double u1 = (static_cast<double>(w.x[0]) + 1.0) * 0x1.0p-32;  // (0, 1]: log is finite
      double u2 = static_cast<double>(w.x[1]) * 0x1.0p-32;
      x[i] = static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
    }
  });
}

}  // namespace cpu
