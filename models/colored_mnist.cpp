#include "models/colored_mnist.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <stdexcept>

namespace {

constexpr Palette kSubstitute = {{{60, 180, 75},  {255, 255, 25}, {0, 130, 200},  {245, 130, 48},
                                   {70, 240, 240}, {240, 50, 230}, {230, 25, 75},  {0, 0, 128},
                                   {220, 190, 255}, {255, 250, 200}}};
// The official data's palette, estimated: the mean stroke colour of the first five training images of each
// class of the official mnist_10color_jitter_var_0.030.npy, read exactly off the per-class sample figures of
// a public reimplementation's notebook (dizzydroid/learning-not-to-learn, notebooks/01_data_exploration_and_
// visualization.ipynb; each figure's PNG checksum verified). Within-class sd 33.5 per channel (120 df), so
// each entry is good to about +-15. Unlike the substitute it is not ten distinct colours: 1 and 3 are one
// blue (14 apart), 2, 4 and 8 three yellows (32-65 apart).
constexpr Palette kEstimated = {{{216, 24, 55},   {27, 135, 167}, {235, 191, 67},  {34, 124, 171},
                                  {224, 169, 47},  {148, 59, 162}, {69, 212, 208},  {225, 187, 180},
                                  {197, 223, 69},  {116, 15, 34}}};

// The colour bin of a channel value in [0, 1]: its 8-bit value // 32 (255 -> 7, so 8 bins); kIgnore
// where the 8-bit value is 0, as the official loader masks it.
int colour_bin(float v) {
  const long v8 = std::lround(v * 255.0f);
  return v8 == 0 ? ColoredMnist::kIgnore : std::min(ColoredMnist::kBins - 1, static_cast<int>(v8 / 32));
}

// The official data threshold: a pixel belongs to the stroke when its 8-bit gray value is above 128.
bool in_binary_stroke(float gray) { return std::lround(gray * 255.0f) > 128; }

// Paints one gray image with `colour` and writes its bin labels.
void paint(const float* gray, const float* colour, ColoredMnist::Stroke stroke, float* rgb, int* bins) {
  constexpr int kP = ColoredMnist::kPixels;
  for (int p = 0; p < kP; ++p) {
    const float weight = stroke == ColoredMnist::Stroke::kBinary ? (in_binary_stroke(gray[p]) ? 1.0f : 0.0f) : gray[p];
    for (int c = 0; c < ColoredMnist::kChannels; ++c) rgb[c * kP + p] = weight * colour[c];
  }
  for (int i = 0; i < ColoredMnist::kBinSide; ++i)
    for (int j = 0; j < ColoredMnist::kBinSide; ++j) {
      const int src = (2 * i + 1) * ColoredMnist::kSide + 2 * j + 1, dst = i * ColoredMnist::kBinSide + j;
      for (int c = 0; c < ColoredMnist::kChannels; ++c) bins[c * ColoredMnist::kBinPixels + dst] = colour_bin(rgb[c * kP + src]);
    }
}

}  // namespace

const Palette& parse_palette(const std::string& name) {
  if (name == "substitute") return kSubstitute;
  if (name == "estimated") return kEstimated;
  throw std::runtime_error("--palette: expected substitute or estimated, got '" + name + "'");
}

std::array<float, 3> palette_colour(int digit, const Palette& palette) {
  if (digit < 0 || digit > 9) throw std::out_of_range("palette_colour: digit out of range");
  const std::array<int, 3>& c = palette[digit];
  return {c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f};
}

void label_zero_channels_on_strokes(ColoredMnist& d) {
  constexpr int kP = ColoredMnist::kBinPixels;
  for (int i = 0; i < d.count; ++i) {
    int* b = d.bins.data() + static_cast<size_t>(i) * ColoredMnist::kChannels * kP;
    for (int p = 0; p < kP; ++p) {
      const bool stroke = b[p] != ColoredMnist::kIgnore || b[kP + p] != ColoredMnist::kIgnore || b[2 * kP + p] != ColoredMnist::kIgnore;
      if (!stroke) continue;
      for (int c = 0; c < ColoredMnist::kChannels; ++c)
        if (b[c * kP + p] == ColoredMnist::kIgnore) b[c * kP + p] = 0;
    }
  }
}

Jitter parse_jitter(const std::string& s) {
  if (s == "clamp") return Jitter::kClamp;
  if (s == "resample") return Jitter::kResample;
  throw std::runtime_error("--jitter: expected clamp or resample, got '" + s + "'");
}

ColoredMnist::Stroke parse_stroke(const std::string& s) {
  if (s == "binary") return ColoredMnist::Stroke::kBinary;
  if (s == "gray") return ColoredMnist::Stroke::kGray;
  throw std::runtime_error("--stroke: expected binary or gray, got '" + s + "'");
}

namespace {
// d's labels and room for its images, colours and bins, one per digit of gray.
ColoredMnist empty_like(const Dataset& gray) {
  if (gray.dim() != ColoredMnist::kPixels) throw std::runtime_error("Colored MNIST: needs 28x28 digits");
  ColoredMnist d;
  d.count = gray.count;
  d.labels = gray.labels;
  d.images.resize(static_cast<size_t>(d.count) * ColoredMnist::kDim);
  d.colours.resize(d.count);
  d.bins.resize(static_cast<size_t>(d.count) * ColoredMnist::kChannels * ColoredMnist::kBinPixels);
  return d;
}
void paint_image(const Dataset& gray, int i, const float* colour, ColoredMnist::Stroke stroke, ColoredMnist& d) {
  paint(gray.images.data() + static_cast<size_t>(i) * ColoredMnist::kPixels, colour, stroke,
        d.images.data() + static_cast<size_t>(i) * ColoredMnist::kDim,
        d.bins.data() + static_cast<size_t>(i) * ColoredMnist::kChannels * ColoredMnist::kBinPixels);
}
// The 8-bit value nearest to v clamped to [0, 1], back in [0, 1].
float to_8_bits(float v) { return static_cast<float>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)) / 255.0f; }
}  // namespace

ColoredMnist make_colored_mnist(const Dataset& gray, bool biased, float var, uint64_t seed, const Painting& painting) {
  if (!(var >= 0.0f && var <= 1.0f)) throw std::runtime_error("make_colored_mnist: the colour variance must be in [0, 1]");
  ColoredMnist d = empty_like(gray);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> any_class(0, 9);
  std::normal_distribution<float> jitter(0.0f, std::sqrt(var));
  for (int i = 0; i < d.count; ++i) {
    d.colours[i] = biased ? d.labels[i] : any_class(rng);
    std::array<float, 3> colour = palette_colour(d.colours[i], painting.palette);
    for (float& c : colour) {
      float v = c + jitter(rng);
      if (painting.jitter == Jitter::kResample)
        while (v < 0.0f || v > 1.0f) v = c + jitter(rng);  // a mean in [0, 1] keeps the odds of a redraw <= 1/2
      c = to_8_bits(v);
    }
    paint_image(gray, i, colour.data(), painting.stroke, d);
  }
  return d;
}

ColoredMnist paint_one_colour(const Dataset& gray, const std::array<float, 3>& rgb, ColoredMnist::Stroke stroke) {
  ColoredMnist d = empty_like(gray);
  std::array<float, 3> colour = rgb;
  for (float& c : colour) c = to_8_bits(c);
  for (int i = 0; i < d.count; ++i) {
    d.colours[i] = -1;
    paint_image(gray, i, colour.data(), stroke, d);
  }
  return d;
}

ColourBinCounts gather_batch(const ColoredMnist& d, const int* idx, int n, float* x, int* labels, int* bins) {
  ColourBinCounts valid{};
  for (int b = 0; b < n; ++b) {
    const size_t i = static_cast<size_t>(idx[b]);
    std::copy_n(d.images.data() + i * ColoredMnist::kDim, ColoredMnist::kDim, x + b * ColoredMnist::kDim);
    labels[b] = d.labels[i];
    const int* src = d.bins.data() + i * ColoredMnist::kChannels * ColoredMnist::kBinPixels;
    for (int c = 0; c < ColoredMnist::kChannels; ++c) {
      const int* channel = src + c * ColoredMnist::kBinPixels;
      std::copy_n(channel, ColoredMnist::kBinPixels, bins + (static_cast<size_t>(c) * n + b) * ColoredMnist::kBinPixels);
      valid[c] += static_cast<int>(std::count_if(channel, channel + ColoredMnist::kBinPixels,
                                                 [](int v) { return v != ColoredMnist::kIgnore; }));
    }
  }
  return valid;
}
