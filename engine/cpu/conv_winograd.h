// 3x3, stride-1, pad-1 convolutions on the CPU by Winograd's minimal filtering F(2x2, 3x3), for CPUs
// with AVX-512: each 2x2 block of outputs costs 16 multiply-adds per (input, output) channel pair
// instead of 36 (2.25x fewer).
//
// With d a 4x4 input patch (the 2x2 outputs' receptive field, zero-padded) and g a 3x3 filter,
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1]                                  ((.): element by element).
// The 16 elements of the transformed domain are independent, so over all channels and tiles the
// middle step is 16 GEMMs: M_e [C_out x tiles] = V_e [C_out x C_in] . U_e [C_in x tiles]. They run on
// the shifted-plane kernel (engine/cpu/shifted_gemm.h) with one tap; the two transforms work on a tile
// row at a time, one register holding a row of tiles (so maps up to 30 wide).
//
// The data gradient of such a convolution is the same convolution of dy with each filter turned by 180
// degrees and the channel roles swapped, so it runs on the same code.
//
// Each output is one sum in a fixed order whatever the chunking or the thread count: bit-identical at
// any thread count. The weight gradient stays on the shifted-plane path.
#pragma once
#include <cstdint>

#include "engine/ops/conv2d.h"

namespace cpu {

// True when g runs on this path: the shifted-plane path is on (AVX-512), k = 3, stride 1, pad 1, maps at
// most 30 wide, at least 16 channels on each side (fewer leave the GEMMs too short), and
// $AMNESIA_WINOGRAD is not "off" (for comparisons).
bool winograd_conv_applies(const ConvGeom& g);
// Floats of scratch winograd_conv_forward / winograd_conv_input_grad need for g.
int64_t winograd_conv_workspace(const ConvGeom& g);
// y = conv(x, w) + b (b may be null).
void winograd_conv_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws);
// dx = the data gradient of conv(x, w) for dy (overwritten).
void winograd_conv_input_grad(const ConvGeom& g, const float* w, const float* dy, float* dx, float* ws);

}  // namespace cpu
