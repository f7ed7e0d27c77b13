// Colored MNIST, the biased data set of "Learning Not to Learn" (Kim et al., CVPR 2019; DESIGN.md s. 8).
// Every training digit's stroke is painted with its class's mean colour plus Gaussian jitter, so colour
// predicts the label; every test digit gets the mean colour of a random class, independent of its label,
// so only a model that reads the shape scores well. The background stays black.
// The official data (feidfoe/learning-not-to-learn's mnist_10color_jitter_var_*.npy, inspected from the
// sample images published with a public reimplementation) paint a BINARY stroke: every pixel whose gray
// value is above 128 (of 255) takes the image's one 8-bit colour, every other pixel is black. Stroke::kGray
// keeps this project's first generator (pixel = gray intensity x colour) for comparison.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/idx.h"

struct ColoredMnist {
  static constexpr int kChannels = 3, kSide = 28, kPixels = kSide * kSide, kDim = kChannels * kPixels;
  // The colour-bin labels of the colour heads live on the image resized to 14 x 14 as the official loader
  // does it (PIL nearest: pixel (2i+1, 2j+1)): bin = channel value * 255 // 32, one of 8; a channel whose
  // value there is 0 is ignored (the official mask is per channel).
  static constexpr int kBinSide = 14, kBinPixels = kBinSide * kBinSide, kBins = 8;
  static constexpr int kIgnore = -1;  // the bin label of a zero channel value (no colour to predict)
  enum class Stroke { kBinary, kGray };

  int count = 0;
  std::vector<float> images;   // count x 3 x 28 x 28 (NCHW), values in [0, 1]
  std::vector<int> labels;     // count digits
  std::vector<int> colours;    // count: the class whose mean colour painted the image
  std::vector<int> bins;       // count x 3 x 14 x 14 colour bins, kIgnore on zero channel values
};

// The number of bin labels that are not kIgnore, one count per colour channel.
using ColourBinCounts = std::array<int, ColoredMnist::kChannels>;

// The 10 mean colours, one per class, 8-bit RGB.
using Palette = std::array<std::array<int, 3>, 10>;
// "substitute": DESIGN.md s. 8's (the official palette is unpublished; this is the common substitute), the
// default; "estimated": the official data's palette as measured from its published sample images (how:
// beside the table in colored_mnist.cpp). Throws a one-line --palette error for any other name.
const Palette& parse_palette(const std::string& name);
// Digit's mean colour in [0, 1].
std::array<float, 3> palette_colour(int digit, const Palette& palette = parse_palette("substitute"));

// How a jittered channel is kept in [0, 1]: kClamp clips it (this project's first generator: a channel
// whose mean is near 0 or 1 then often comes out exactly 0 or 255); kResample draws it again until it falls
// inside (a truncated Gaussian). The official data's fifty published colours have no channel at 0 or 255,
// where clipping would have given about 13 of them (docs/notes/lntl.md).
enum class Jitter { kClamp, kResample };
// "clamp" or "resample" -> the jitter; throws a one-line --jitter error for anything else.
Jitter parse_jitter(const std::string& s);

// How make_colored_mnist paints: the stroke, the classes' mean colours and the jitter's bounds.
struct Painting {
  ColoredMnist::Stroke stroke = ColoredMnist::Stroke::kBinary;
  Palette palette = parse_palette("substitute");
  Jitter jitter = Jitter::kClamp;
};

// Paints the gray digits of `gray` (28 x 28 each). biased = true: image i takes its label's colour
// (the training set); false: a uniformly random class's colour (the test set). The colour is the mean
// plus N(0, var) per channel (var is the variance, the paper's knob), kept in [0, 1] as painting.jitter
// says and rounded to 8 bits. kBinary: pixel = colour where gray > 128/255, else black; kGray: pixel =
// gray x colour. Deterministic in seed.
ColoredMnist make_colored_mnist(const Dataset& gray, bool biased, float var, uint64_t seed, const Painting& painting = {});
// Paints every digit of `gray` with the one 8-bit colour `rgb` (no jitter; colours[i] = -1: no class's
// colour), the same way make_colored_mnist paints: a probe of what a model reads into a stroke's colour
// alone, e.g. achromatic strokes from dark to white.
ColoredMnist paint_one_colour(const Dataset& gray, const std::array<float, 3>& rgb,
                              ColoredMnist::Stroke stroke = ColoredMnist::Stroke::kBinary);
// Relabels, on every stroke pixel of d's 14x14 bin maps (one with any channel labelled), each channel the
// official mask ignored for being 0 as bin 0, so h is trained on it too; black pixels stay ignored.
// Without it h never sees that a navy [0,0,128] stroke has R = G = 0, nor makes f forget it.
void label_zero_channels_on_strokes(ColoredMnist& d);
// "binary" or "gray" -> the stroke; throws a one-line --stroke error for anything else.
ColoredMnist::Stroke parse_stroke(const std::string& s);

// Gathers images idx[0..n) into a batch: x (n x 3 x 28 x 28), labels (n) and bins laid out channel-major
// as 3 x n x 196, so channel c's labels are one contiguous block of n*196 rows for its head. Returns the
// number of labelled (not kIgnore) bin pixels per channel.
ColourBinCounts gather_batch(const ColoredMnist& d, const int* idx, int n, float* x, int* labels, int* bins);
