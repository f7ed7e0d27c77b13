// Convolutions on the CPU with no column matrix, for CPUs with AVX-512.
//
// Pad each input plane with zeros to width Wp = W + 2*pad and compute the output on a grid of the same
// width, OH x Wp positions, of which the first OW of each row are the real outputs (the rest are thrown
// away). On that grid the tap (ki, kj) of output position p reads padded input position p + ki*Wp + kj
// for EVERY p, so a run of consecutive outputs reads a run of consecutive inputs: the convolution is
//   T[m, p] = sum over channels c and taps t of A[m, c, t] * B[c, p + offset_t],
// a GEMM whose B operand is the padded planes themselves, read at k*k shifts. Our own AVX-512 kernel
// (engine/cpu/conv_shifted.cpp) holds a 12 x 32 or 8 x 32 block of T in registers and streams the
// shifted rows straight from the planes: no im2col, no packing of B, no CNHW permute. The im2col path wrote and read
// a k*k times larger copy of the input per pass (21 % of an LNTL step under perf).
//   forward:      A = w,              B = the padded input,          offsets  ki*Wp + kj
//   data grad:    A = w, channels swapped, B = dy on the grid (zero on the thrown-away positions and
//                 around it),          offsets -(ki*Wp + kj)  (the adjoint of the forward's reads)
//   weight grad:  dW[m, c, t] = sum over images and grid positions of dy[m, p] * B[c, p + offset_t]
// The wasted grid columns cost (k-1)/Wp of the work (2/16 for LNTL's 14 x 14 maps).
//
// Stride s > 1: output (oy, ox) reads padded pixel (s*oy + ki, s*ox + kj). Split each padded input
// channel into its s*s phase planes, P_ab[y][x] = xpad[s*y + a][s*x + b]; then tap (ki, kj) reads plane
// (ki % s, kj % s) at (oy + ki/s, ox + kj/s), a stride-1 shift. So the same kernels run with each tap's
// offset pointing into its phase's plane (no work on taps that do not exist, unlike a zero-padded
// s*s-channel kernel), and the data gradient is one GEMM per phase over that phase's taps.
//
// Determinism as the chunked path (engine/cpu/conv_chunks.h): the batch is cut into chunks fixed by the
// shapes; dW and db sum into one partial per chunk, added in chunk order; each output and input
// gradient is one sum in a fixed order. So results are bit-identical at any thread count.
#pragma once
#include <cstdint>

#include "engine/ops/conv2d.h"

namespace cpu {

// True when this path is on: where the engine's AVX-512 kernels run (engine/cpu/avx512_kernels.h:
// a CPU with AVX-512F, $AMNESIA_AVX512 not "off").
bool shifted_conv_enabled();
// True when g can run on this path: enabled, a stride of at most 3 and a kernel of at most 7 x 7.
bool shifted_conv_applies(const ConvGeom& g);
// Floats of scratch shifted_conv_forward / shifted_conv_backward need for g.
int64_t shifted_conv_workspace(const ConvGeom& g);
// y = conv(x, w) + b (b may be null), as conv2d_fwd. Only when shifted_conv_applies(g).
void shifted_conv_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws);
// As conv2d_bwd: dw, db accumulate, dx is overwritten; each may be null (x is read only for dw).
void shifted_conv_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw,
                           float* db, float* ws);

}  // namespace cpu
