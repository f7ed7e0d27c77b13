// Sixteen floats at a time, written once with GCC's vector extensions: the same source compiles to
// whatever SIMD the function it is inlined into targets (SSE2 by default, AVX-512 in the clone that
// AMNESIA_SIMD_CLONES adds), with the same operations in the same order, hence the same bits on every
// x86-64 CPU. For the elementwise loops whose scalar libm calls (expf, log1pf) cost more than the
// GEMMs around them.
#pragma once
#include <cstdint>
#include <cstring>

// Compiles a function twice, for AVX-512F and for the baseline, and picks one when the program loads.
// Files using it are compiled with -ffp-contract=off (CMakeLists.txt), so neither clone fuses a
// multiply-add and both give the same results.
#define AMNESIA_SIMD_CLONES __attribute__((target_clones("avx512f", "default")))

// Every helper here is inlined (AMNESIA_VEC_INLINE) and takes its vectors by reference, so no 64-byte
// vector ever crosses a call by value and GCC's warning that such calls have another ABI without
// AVX-512 does not apply. The type's alignment
// differs the same way (16 bytes outside the AVX-512 clone, 64 inside, where moves assume it): memory
// that holds vectors across calls is aligned to 64 by hand (softmax_rows.h), never by an allocator.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace cpu {

typedef float f32x16 __attribute__((vector_size(64)));
typedef int32_t i32x16 __attribute__((vector_size(64)));

#define AMNESIA_VEC_INLINE __attribute__((always_inline)) inline
#define AMNESIA_VEC_INLINE_LAMBDA __attribute__((always_inline))  // after a lambda's parameter list

AMNESIA_VEC_INLINE f32x16 splat16(float a) { return f32x16{} + a; }

// Unaligned loads and stores of 16 floats, and of the first n < 16 (the rest read as zero).
AMNESIA_VEC_INLINE f32x16 load16(const float* p) {
  f32x16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
AMNESIA_VEC_INLINE void store16(float* p, const f32x16& v) { std::memcpy(p, &v, sizeof v); }
AMNESIA_VEC_INLINE f32x16 load_first(const float* p, int n) {
  f32x16 v = {};
  std::memcpy(&v, p, sizeof(float) * n);
  return v;
}
AMNESIA_VEC_INLINE void store_first(float* p, const f32x16& v, int n) { std::memcpy(p, &v, sizeof(float) * n); }

// The 16 lanes added from the first to the last: a fixed order, so the same float on every CPU.
AMNESIA_VEC_INLINE float lanes_total(const f32x16& v) {
  float t = 0.0f;
  for (int k = 0; k < 16; ++k) t += v[k];
  return t;
}

// e^x within 2 ulp for x in [-87, 88]; 0 below (where e^x is under the smallest normal float, as with
// denormals flushed), +inf above (a little early: e^88.72 is the largest finite float).
AMNESIA_VEC_INLINE f32x16 exp16(const f32x16& x_in) {
  const f32x16 lo = splat16(-87.0f), hi = splat16(88.0f);
  f32x16 x = x_in < lo ? lo : x_in;
  x = x > hi ? hi : x;
  // x = n ln2 + r with n = round(x / ln2): adding 1.5 * 2^23 rounds to an integer and leaves n in the
  // low mantissa bits of t. ln2 in two parts so n * ln2_hi is exact and r keeps its low bits.
  const float shifter = 12582912.0f;
  const f32x16 t = x * 1.44269504f + shifter;
  const f32x16 n = t - shifter;
  const f32x16 r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  // Taylor series of e^r to r^7: |r| <= ln2 / 2 leaves a remainder under 1e-8 relative.
  f32x16 p = splat16(1.0f / 5040.0f);
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n from its exponent bits (n in [-126, 127] after the clamp).
  const i32x16 n_int = (i32x16)t - 0x4B400000;  // a same-size vector cast keeps the bits
  const i32x16 scale_bits = (n_int + 127) << 23;
  const f32x16 y = p * (f32x16)scale_bits;
  const f32x16 inf = splat16(__builtin_inff());
  return x_in < lo ? f32x16{} : x_in > hi ? inf : y;
}

// log(1 + y) for y in [-0.29, 1], within 4 ulp (the roundings of 2 + y and of the division): 2 atanh(s)
// with s = y / (2 + y), |s| <= 1/3, so the odd series s + s^3/3 + ... needs seven terms past s and loses
// nothing to cancellation when y is tiny.
AMNESIA_VEC_INLINE f32x16 log1p16(const f32x16& y) {
  const f32x16 s = y / (2.0f + y), s2 = s * s;
  f32x16 c = splat16(1.0f / 15.0f);
  c = c * s2 + 1.0f / 13.0f;
  c = c * s2 + 1.0f / 11.0f;
  c = c * s2 + 1.0f / 9.0f;
  c = c * s2 + 1.0f / 7.0f;
  c = c * s2 + 1.0f / 5.0f;
  c = c * s2 + 1.0f / 3.0f;
  c = c * s2 + 1.0f;
  return 2.0f * s * c;
}

// log x for positive normal x, within 4 ulp: x = m 2^e with m in [sqrt(1/2), sqrt(2)), so log x is
// e ln2 + log1p(m - 1) with m - 1 in [-0.29, 0.42].
AMNESIA_VEC_INLINE f32x16 log16(const f32x16& x) {
  const i32x16 bits = (i32x16)x;
  i32x16 e = ((bits >> 23) & 0xFF) - 127;
  f32x16 m = (f32x16)((bits & 0x007FFFFF) | 0x3F800000);  // x's mantissa with exponent 0: [1, 2)
  const i32x16 big = m > 1.41421356f;
  m = big ? 0.5f * m : m;
  e -= big;  // big is -1 where true
  const f32x16 ef = __builtin_convertvector(e, f32x16);
  return ef * 0.693359375f + (log1p16(m - 1.0f) + ef * -2.12194440e-4f);
}

}  // namespace cpu
