// The register-blocked AVX-512 GEMM of the shifted-plane convolution (engine/cpu/conv_shifted.h), shared
// with the Winograd convolution (engine/cpu/conv_winograd.h), the packing of its A operand, and the
// lane helpers both use.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace cpu {

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

constexpr int kLanes = 16;  // floats in an AVX-512 register
// The mask of the first n lanes, n clamped to [0, 16].
inline __mmask16 first_lanes(int n) { return static_cast<__mmask16>((1u << std::clamp(n, 0, kLanes)) - 1u); }

// Positions one kernel call computes per row: shifted_gemm's len is a multiple of this.
constexpr int kShiftedBlock = 32;

// The kernel's row blocks (of the rows rounded up to 4): 12 while at least 12 remain, except that 16
// go as 8 + 8 rather than 12 + 4 (a 4-row block keeps too few sums in flight); then 8, then 4.
inline int row_block(int remaining) { return remaining >= 12 && remaining != 16 ? 12 : remaining >= 8 ? 8 : 4; }

// The packed A operands: rows in row_block()s, each block K x rows, row fastest.
inline int64_t packed_floats(int rows, int64_t k) { return round_up(rows, 4) * k; }
template <class Value>
void pack_rows(int rows, int64_t k, const Value& value, float* out) {
  const int rows4 = static_cast<int>(round_up(rows, 4));
  for (int r = 0; r < rows4;) {
    const int block = row_block(rows4 - r);
    float* b = out + static_cast<int64_t>(r) * k;
    for (int64_t kk = 0; kk < k; ++kk)
      for (int i = 0; i < block; ++i) b[kk * block + i] = r + i < rows ? value(r + i, kk) : 0.0f;
    r += block;
  }
}

// c [rows4 x len] (row stride ldc) = the packed a (pack_rows, K = channels * taps) against b, where row
// (ch, t) of B at position p is b[ch * plane + off[t] + p]: for the convolutions, a channel's planes read
// at each tap's shift. len a multiple of kShiftedBlock. AVX-512 only (see engine/cpu/avx512_kernels.h).
void shifted_gemm(const float* a, int rows, int channels, int taps, const int* off, const float* b, int64_t plane,
                  int64_t len, float* c, int64_t ldc);

}  // namespace cpu
