// Colored MNIST, the biased data set of "Learning Not to Learn" (Kim et al., CVPR 2019; DESIGN.md s. 8).
// Every training digit's stroke is painted with its class's mean colour plus Gaussian jitter, so colour
// predicts the label; every test digit gets the mean colour of a random class, independent of its label,
// so only a model that reads the shape scores well. The background stays black.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "engine/idx.h"

struct ColoredMnist {
  static constexpr int kChannels = 3, kSide = 28, kPixels = kSide * kSide, kDim = kChannels * kPixels;
  // The colour-bin labels of the colour heads live on the image resized to 14 x 14 (nearest: pixel
  // (2i, 2j), PyTorch's F.interpolate default): bin = channel value * 255 // 32, one of 8.
  static constexpr int kBinSide = 14, kBinPixels = kBinSide * kBinSide, kBins = 8;
  static constexpr int kIgnore = -1;  // the bin label of a black pixel (no colour to predict)

  int count = 0;
  std::vector<float> images;   // count x 3 x 28 x 28 (NCHW), values in [0, 1]
  std::vector<int> labels;     // count digits
  std::vector<int> colours;    // count: the class whose mean colour painted the image
  std::vector<int> bins;       // count x 3 x 14 x 14 colour bins, kIgnore on black pixels
};

// The 10 mean colours (RGB in [0, 1]) of DESIGN.md s. 8: the official palette is unpublished; this is
// the common substitute.
std::array<float, 3> palette_colour(int digit);

// Paints the gray digits of `gray` (28 x 28 each). biased = true: image i takes its label's colour
// (the training set); false: a uniformly random class's colour (the test set). The colour is the mean
// plus N(0, var) per channel (var is the variance, the paper's knob), clamped to [0, 1]; pixel =
// gray intensity * colour. Deterministic in seed.
ColoredMnist make_colored_mnist(const Dataset& gray, bool biased, float var, uint64_t seed);

// Gathers images idx[0..n) into a batch: x (n x 3 x 28 x 28), labels (n) and bins laid out channel-major
// as 3 x n x 196, so channel c's labels are one contiguous block of n*196 rows for its head. Returns the
// number of non-black bin pixels per channel (the same for every channel: black is decided on the gray).
int gather_batch(const ColoredMnist& d, const int* idx, int n, float* x, int* labels, int* bins);
