// The Colored MNIST generator on synthetic gray digits: seeded reproducibility, black background,
// colour tied to the label in the training set and independent of it in the test set, the jitter's
// variance, the 14x14 colour-bin labels and gather_batch's channel-major layout.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "models/colored_mnist.h"

namespace {
// count 28x28 "digits": a random third of the pixels lit at a random intensity in (0.2, 1], the centre
// pixel (14, 14) always at full intensity so each image's colour can be read off it exactly.
Dataset gray_digits(int count, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Dataset d;
  d.count = count; d.height = 28; d.width = 28;
  d.images.resize(static_cast<size_t>(count) * 784);
  for (int i = 0; i < count; ++i) {
    d.labels.push_back(i % 10);
    float* img = d.images.data() + static_cast<size_t>(i) * 784;
    for (int p = 0; p < 784; ++p) img[p] = u(rng) < 0.33f ? 0.2f + 0.8f * u(rng) : 0.0f;
    img[14 * 28 + 14] = 1.0f;
  }
  return d;
}

// The colour image i was painted with, read at its full-intensity centre pixel.
float centre(const ColoredMnist& d, int i, int channel) {
  return d.images[static_cast<size_t>(i) * ColoredMnist::kDim + channel * 784 + 14 * 28 + 14];
}
}  // namespace

TEST_CASE("colored mnist: the same seed gives the same images, another seed other colours") {
  const Dataset gray = gray_digits(50, 1);
  const ColoredMnist a = make_colored_mnist(gray, true, 0.03f, 7), b = make_colored_mnist(gray, true, 0.03f, 7);
  const ColoredMnist c = make_colored_mnist(gray, true, 0.03f, 8);
  CHECK(a.images == b.images);
  CHECK(a.bins == b.bins);
  CHECK(a.images != c.images);
  CHECK(a.labels == gray.labels);
}

// Checks every pixel of d (painted from gray) against want(gray value, the image's colour channel).
template <typename Want>
void check_painting(const Dataset& gray, const ColoredMnist& d, Want want) {
  int lit = 0;
  for (int i = 0; i < d.count; ++i)
    for (int p = 0; p < 784; ++p) {
      const float g = gray.images[static_cast<size_t>(i) * 784 + p];
      for (int c = 0; c < 3; ++c) {
        const float v = d.images[static_cast<size_t>(i) * ColoredMnist::kDim + c * 784 + p];
        REQUIRE(v >= 0.0f);
        REQUIRE(v <= 1.0f);
        REQUIRE(v == doctest::Approx(want(g, centre(d, i, c))).epsilon(1e-5));
      }
      lit += d.images[static_cast<size_t>(i) * ColoredMnist::kDim + p] > 0.0f;
    }
  CHECK(lit > 40 * 784 / 10);  // the check above really saw strokes
}

TEST_CASE("colored mnist: binary strokes (the official data) and gray strokes on a black background") {
  const Dataset gray = gray_digits(40, 2);
  const ColoredMnist binary = make_colored_mnist(gray, false, 0.05f, 3);
  REQUIRE(binary.images.size() == static_cast<size_t>(40) * 3 * 784);
  // Official: a pixel takes the image's whole colour when its 8-bit gray value is above 128, else black.
  check_painting(gray, binary, [](float g, float colour) { return std::lround(g * 255.0f) > 128 ? colour : 0.0f; });
  const ColoredMnist soft = make_colored_mnist(gray, false, 0.05f, 3, {ColoredMnist::Stroke::kGray});
  check_painting(gray, soft, [](float g, float colour) { return g * colour; });
  CHECK(soft.colours == binary.colours);  // the stroke changes the painting, not the colours drawn
  // Every colour is an 8-bit value, as in the official uint8 images.
  for (int i = 0; i < binary.count; ++i)
    for (int c = 0; c < 3; ++c) {
      const float v8 = centre(binary, i, c) * 255.0f;
      CHECK(v8 == doctest::Approx(std::round(v8)).epsilon(1e-4));
    }
  CHECK_THROWS_WITH_AS(parse_stroke("soft"), doctest::Contains("--stroke"), std::runtime_error);
  CHECK(parse_stroke("gray") == ColoredMnist::Stroke::kGray);
}

TEST_CASE("colored mnist: training colours follow the label, with the asked variance") {
  const Dataset gray = gray_digits(3000, 4);
  const float var = 0.02f;
  const ColoredMnist d = make_colored_mnist(gray, true, var, 5);
  // Digit 2's mean colour is (0, 130, 200)/255: its green channel sits far from the clamps, so its
  // jitter is an unclamped Gaussian whose mean and variance must match.
  double sum = 0, sq = 0;
  int n = 0, nearest_own = 0;
  for (int i = 0; i < d.count; ++i) {
    CHECK(d.colours[i] == d.labels[i]);
    // The nearest palette colour is the label's for most images (colours overlap at this variance).
    int best = 0;
    double best_dist = 1e9;
    for (int k = 0; k < 10; ++k) {
      double dist = 0;
      for (int c = 0; c < 3; ++c) dist += std::pow(centre(d, i, c) - palette_colour(k)[c], 2);
      if (dist < best_dist) best_dist = dist, best = k;
    }
    nearest_own += best == d.labels[i];
    if (d.labels[i] != 2) continue;
    const double g = centre(d, i, 1) - palette_colour(2)[1];
    sum += g; sq += g * g; ++n;
  }
  const double mean = sum / n, variance = sq / n - mean * mean;
  CHECK(std::fabs(mean) < 0.03);
  CHECK(variance == doctest::Approx(var).epsilon(0.25));
  CHECK(nearest_own > d.count / 2);
}

TEST_CASE("colored mnist: --palette chooses the classes' mean colours") {
  const Palette& substitute = parse_palette("substitute");
  const Palette& estimated = parse_palette("estimated");
  CHECK(substitute != estimated);
  CHECK(palette_colour(7)[2] == doctest::Approx(128.0f / 255.0f));  // the default is the substitute (navy 7)
  CHECK_THROWS_WITH_AS(parse_palette("official"), doctest::Contains("--palette"), std::runtime_error);
  // At var 0 every training image carries exactly its class's colour of the chosen palette.
  const Dataset gray = gray_digits(200, 3);
  const ColoredMnist d = make_colored_mnist(gray, true, 0.0f, 7, {ColoredMnist::Stroke::kBinary, estimated});
  for (int i = 0; i < d.count; ++i)
    for (int c = 0; c < 3; ++c) CHECK(centre(d, i, c) * 255.0f == doctest::Approx(estimated[d.labels[i]][c]));
}

TEST_CASE("colored mnist: --jitter resample keeps channels off the clamps, a truncated Gaussian") {
  const Dataset gray = gray_digits(3000, 8);
  const float var = 0.02f;
  const ColoredMnist clamped = make_colored_mnist(gray, true, var, 4);
  const ColoredMnist resampled = make_colored_mnist(gray, true, var, 4, {ColoredMnist::Stroke::kBinary,
                                                                          parse_palette("substitute"), Jitter::kResample});
  // The substitute's class 7 is navy [0, 0, 128]: clamped, its red channel is 0 about half the time;
  // resampled it is |N(0, var)|, a half-normal of mean sqrt(2 var / pi), and 0 only when it rounds there.
  int sevens = 0, zero_clamped = 0, zero_resampled = 0;
  double red = 0.0;
  for (int i = 0; i < gray.count; ++i) {
    if (gray.labels[i] != 7) continue;
    ++sevens;
    zero_clamped += centre(clamped, i, 0) == 0.0f;
    zero_resampled += centre(resampled, i, 0) == 0.0f;
    red += centre(resampled, i, 0);
  }
  CHECK(zero_clamped > sevens * 2 / 5);
  CHECK(zero_resampled < sevens / 50);
  CHECK(red / sevens == doctest::Approx(std::sqrt(2.0 * var / 3.14159265)).epsilon(0.1));
  CHECK_THROWS_WITH_AS(parse_jitter("clip"), doctest::Contains("--jitter"), std::runtime_error);
  // A variance outside [0, 1] is refused rather than painted (resampling an unbounded one could spin).
  for (float bad : {-0.01f, 1.5f, std::numeric_limits<float>::infinity(), std::nanf("")})
    CHECK_THROWS_AS(make_colored_mnist(gray, true, bad, 4, {ColoredMnist::Stroke::kBinary, parse_palette("substitute"),
                                                          Jitter::kResample}),
                    std::runtime_error);
}

TEST_CASE("colored mnist: test colours are independent of the label") {
  const Dataset gray = gray_digits(4000, 6);
  const ColoredMnist d = make_colored_mnist(gray, false, 0.0f, 7);
  std::vector<int> per_colour(10, 0);
  int same = 0;
  for (int i = 0; i < d.count; ++i) {
    ++per_colour[d.colours[i]];
    same += d.colours[i] == d.labels[i];
    // var 0: exactly the palette colour of the drawn class.
    for (int c = 0; c < 3; ++c) CHECK(centre(d, i, c) == doctest::Approx(palette_colour(d.colours[i])[c]));
  }
  // Independent and uniform: about a tenth match the label, and every colour is used about equally.
  CHECK(same > 300);
  CHECK(same < 500);
  for (int k = 0; k < 10; ++k) {
    CHECK(per_colour[k] > 300);
    CHECK(per_colour[k] < 500);
  }
}

TEST_CASE("colored mnist: colour bins on the 14x14 image, zero channels ignored, gathered channel-major") {
  const Dataset gray = gray_digits(12, 8);
  const ColoredMnist d = make_colored_mnist(gray, true, 0.04f, 9);
  const int per_image = 3 * ColoredMnist::kBinPixels;
  int ignored = 0, labelled = 0;
  for (int i = 0; i < d.count; ++i)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 14; ++y)
        for (int x = 0; x < 14; ++x) {
          const int src = (2 * y + 1) * 28 + 2 * x + 1;  // PIL's nearest-neighbour halving
          const long v8 = std::lround(d.images[static_cast<size_t>(i) * ColoredMnist::kDim + c * 784 + src] * 255.0f);
          const int bin = d.bins[static_cast<size_t>(i) * per_image + c * 196 + y * 14 + x];
          if (v8 == 0) REQUIRE(bin == ColoredMnist::kIgnore);
          else REQUIRE(bin == std::min(7, static_cast<int>(v8 / 32)));
          ignored += v8 == 0;
          labelled += v8 != 0;
        }
  CHECK(ignored > 0);
  CHECK(labelled > 0);
  const int idx[3] = {5, 0, 11};
  std::vector<float> x(3 * ColoredMnist::kDim);
  std::vector<int> labels(3), bins(3 * per_image);
  const ColourBinCounts valid = gather_batch(d, idx, 3, x.data(), labels.data(), bins.data());
  ColourBinCounts want_valid{};
  for (int b = 0; b < 3; ++b) {
    CHECK(labels[b] == d.labels[idx[b]]);
    CHECK(x[b * ColoredMnist::kDim + 100] == d.images[static_cast<size_t>(idx[b]) * ColoredMnist::kDim + 100]);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 196; ++p) {
        const int bin = d.bins[static_cast<size_t>(idx[b]) * per_image + c * 196 + p];
        REQUIRE(bins[(c * 3 + b) * 196 + p] == bin);
        want_valid[c] += bin != ColoredMnist::kIgnore;
      }
  }
  CHECK(valid == want_valid);
  CHECK(valid[0] > 0);
}

TEST_CASE("colored mnist: label_zero_channels_on_strokes labels a stroke's zero channels as bin 0, keeps black ignored") {
  const Dataset gray = gray_digits(200, 7);
  const ColoredMnist official = make_colored_mnist(gray, true, 0.02f, 3);
  ColoredMnist relabelled = official;
  label_zero_channels_on_strokes(relabelled);
  constexpr int kP = ColoredMnist::kBinPixels;
  int unmasked = 0, black = 0;
  for (int i = 0; i < official.count; ++i)
    for (int p = 0; p < kP; ++p) {
      const int* o = official.bins.data() + static_cast<size_t>(i) * 3 * kP + p;
      const int* r = relabelled.bins.data() + static_cast<size_t>(i) * 3 * kP + p;
      const bool stroke = o[0] != ColoredMnist::kIgnore || o[kP] != ColoredMnist::kIgnore || o[2 * kP] != ColoredMnist::kIgnore;
      black += !stroke;
      for (int c = 0; c < 3; ++c) {
        if (!stroke) {
          REQUIRE(r[c * kP] == ColoredMnist::kIgnore);
        } else if (o[c * kP] == ColoredMnist::kIgnore) {
          REQUIRE(r[c * kP] == 0);
          ++unmasked;
        } else {
          REQUIRE(r[c * kP] == o[c * kP]);
        }
      }
    }
  // The digits painted navy (class 7: R = G = 0 on average) must have given it stroke channels to label.
  CHECK(unmasked > 0);
  CHECK(black > 0);
  CHECK(relabelled.images == official.images);
}

TEST_CASE("colored mnist: paint_one_colour paints every stroke one 8-bit colour, background black, no class") {
  const Dataset gray = gray_digits(20, 5);
  const ColoredMnist d = paint_one_colour(gray, {0.5f, 0.25f, 1.0f});
  REQUIRE(d.count == 20);
  const float want[3] = {128.0f / 255.0f, 64.0f / 255.0f, 1.0f};  // rounded to 8 bits, as the generator does
  for (int i = 0; i < d.count; ++i) {
    CHECK(d.labels[i] == gray.labels[i]);
    CHECK(d.colours[i] == -1);
    for (int p = 0; p < 784; ++p) {
      const bool stroke = std::lround(gray.images[static_cast<size_t>(i) * 784 + p] * 255.0f) > 128;
      for (int c = 0; c < 3; ++c)
        REQUIRE(d.images[static_cast<size_t>(i) * ColoredMnist::kDim + c * 784 + p] == (stroke ? want[c] : 0.0f));
    }
  }
  // The bins follow the colour where the 14x14 map samples a stroke (pixel (2i+1, 2j+1)): 128 // 32 = 4,
  // 64 // 32 = 2, 255 -> 7; elsewhere ignored.
  const int want_bins[3] = {4, 2, 7};
  for (int i = 0; i < d.count; ++i)
    for (int q = 0; q < ColoredMnist::kBinPixels; ++q) {
      const int src = (2 * (q / 14) + 1) * 28 + 2 * (q % 14) + 1;
      const bool stroke = std::lround(gray.images[static_cast<size_t>(i) * 784 + src] * 255.0f) > 128;
      for (int c = 0; c < 3; ++c)
        REQUIRE(d.bins[(static_cast<size_t>(i) * 3 + c) * ColoredMnist::kBinPixels + q] ==
                (stroke ? want_bins[c] : ColoredMnist::kIgnore));
    }
  CHECK_THROWS(paint_one_colour(Dataset{}, {0.0f, 0.0f, 0.0f}));
}
