// Counter-based random numbers (Philox4x32-10): element i of a call depends only on
// (seed, offset + i), so a run replays exactly from its seed. CPU: own Philox; CUDA: cuRAND's Philox.
#pragma once
#include <cstdint>
#include "engine/backend.h"

AMNESIA_TWINS(normal, float* x, int64_t n, uint64_t seed, uint64_t offset)
AMNESIA_TWINS(uniform, float* x, int64_t n, uint64_t seed, uint64_t offset)

// Standard normal samples.
inline void fill_normal(Backend& be, float* x, int64_t n) {
  uint64_t off = be.next_rng_offset(static_cast<uint64_t>(n));
  AMNESIA_DISPATCH(be, normal, x, n, be.seed, off);
}
// Uniform samples in [0, 1).
inline void fill_uniform(Backend& be, float* x, int64_t n) {
  uint64_t off = be.next_rng_offset(static_cast<uint64_t>(n));
  AMNESIA_DISPATCH(be, uniform, x, n, be.seed, off);
}
