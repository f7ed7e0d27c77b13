#include "experiments/audit/no_digit.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "engine/write_file.h"
#include "experiments/audit/audit.h"
#include "models/judge.h"

namespace {
constexpr int kSide = 28, kPixels = kSide * kSide;

float uniform(std::mt19937_64& rng, float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
bool chance(std::mt19937_64& rng, float p) { return uniform(rng, 0.0f, 1.0f) < p; }
void clamp01(float* img) {
  for (int i = 0; i < kPixels; ++i) img[i] = std::clamp(img[i], 0.0f, 1.0f);
}

// Zero-mean, unit-variance Gaussian noise blurred with `sigma`, rescaled to amplitude `amp` around `mean`:
// blotches whose size grows with sigma.
void smoothed_noise(std::mt19937_64& rng, float sigma, float mean, float amp, float* img) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int i = 0; i < kPixels; ++i) img[i] = normal(rng);
  gaussian_blur(img, sigma);
  double m = 0, v = 0;
  for (int i = 0; i < kPixels; ++i) m += img[i];
  m /= kPixels;
  for (int i = 0; i < kPixels; ++i) v += (img[i] - m) * (img[i] - m);
  const float scale = amp / static_cast<float>(std::sqrt(v / kPixels) + 1e-8);
  for (int i = 0; i < kPixels; ++i) img[i] = mean + scale * static_cast<float>(img[i] - m);
}
}  // namespace

const char* featureless_name(Featureless kind) {
  switch (kind) {
    case Featureless::Flat: return "flat fill";
    case Featureless::Uniform: return "uniform noise";
    case Featureless::Gaussian: return "Gaussian noise";
    case Featureless::Smoothed: return "smoothed noise";
    case Featureless::Mixture: return "mixture of two";
    default: return "?";
  }
}

void gaussian_blur(float* img, float sigma) {
  const int r = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> w(2 * r + 1), tmp(kPixels);
  float total = 0;
  for (int k = -r; k <= r; ++k) total += w[k + r] = std::exp(-0.5f * k * k / (sigma * sigma));
  for (float& v : w) v /= total;
  auto at = [](int i) { return std::clamp(i, 0, kSide - 1); };
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x) {
      float s = 0;
      for (int k = -r; k <= r; ++k) s += w[k + r] * img[y * kSide + at(x + k)];
      tmp[y * kSide + x] = s;
    }
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x) {
      float s = 0;
      for (int k = -r; k <= r; ++k) s += w[k + r] * tmp[at(y + k) * kSide + x];
      img[y * kSide + x] = s;
    }
}

void draw_featureless(std::mt19937_64& rng, Featureless kind, float* img) {
  switch (kind) {
    case Featureless::Flat:
      std::fill(img, img + kPixels, uniform(rng, 0.0f, 1.0f));
      break;
    case Featureless::Uniform: {
      // Over [0,1] (the Selective Amnesia surrogate itself) half the time, else over a random sub-range.
      float lo = 0, hi = 1;
      if (chance(rng, 0.5f)) {
        lo = uniform(rng, 0.0f, 0.9f);
        hi = uniform(rng, lo + 0.05f, 1.0f);
      }
      for (int i = 0; i < kPixels; ++i) img[i] = uniform(rng, lo, hi);
      break;
    }
    case Featureless::Gaussian: {
      static constexpr float kSigmas[] = {0.02f, 0.05f, 0.1f, 0.2f, 0.3f, 0.5f};
      std::normal_distribution<float> normal(uniform(rng, 0.0f, 1.0f), kSigmas[rng() % 6]);
      for (int i = 0; i < kPixels; ++i) img[i] = normal(rng);
      break;
    }
    case Featureless::Smoothed:
      smoothed_noise(rng, uniform(rng, 0.7f, 5.0f), uniform(rng, 0.1f, 0.9f), uniform(rng, 0.01f, 0.4f), img);
      break;
    case Featureless::Mixture: {
      std::vector<float> other(kPixels);
      const int kinds = static_cast<int>(Featureless::Mixture);  // the four plain kinds
      draw_featureless(rng, static_cast<Featureless>(rng() % kinds), img);
      draw_featureless(rng, static_cast<Featureless>(rng() % kinds), other.data());
      const float a = uniform(rng, 0.0f, 1.0f);
      for (int i = 0; i < kPixels; ++i) img[i] = a * img[i] + (1 - a) * other[i];
      break;
    }
    default:
      throw std::runtime_error("draw_featureless: unknown kind");
  }
  clamp01(img);
}

void weaken_digit(std::mt19937_64& rng, float* img) {
  const float contrast = uniform(rng, 0.1f, 1.0f);
  // The digit stays lighter than its background, as a half-forgotten CVAE digit on gray is.
  const float background = chance(rng, 0.6f) ? uniform(rng, 0.0f, 1.0f - contrast) : 0.0f;
  for (int i = 0; i < kPixels; ++i) img[i] = background + contrast * img[i];
  if (chance(rng, 0.3f)) gaussian_blur(img, uniform(rng, 0.5f, 1.2f));
  if (chance(rng, 0.3f)) {
    std::normal_distribution<float> normal(0.0f, uniform(rng, 0.0f, 0.08f));
    for (int i = 0; i < kPixels; ++i) img[i] += normal(rng);
  }
  clamp01(img);
}

NoDigitBatcher::NoDigitBatcher(const Backend& be, const Dataset& digits, int batch, uint64_t seed,
                               float featureless_prob, float weaken_prob)
    : digits_(digits), batch_(batch), featureless_prob_(featureless_prob), weaken_prob_(weaken_prob), rng_(seed),
      host_x_(static_cast<size_t>(batch) * kPixels), host_labels_(batch), x_(be, host_x_.size()), labels_(be, batch) {
  if (digits.dim() != kPixels || digits.count == 0) throw std::runtime_error("NoDigitBatcher: needs 28x28 digits");
}

void NoDigitBatcher::next(const Backend& be) {
  const int kinds = static_cast<int>(Featureless::kCount);
  for (int i = 0; i < batch_; ++i) {
    float* img = host_x_.data() + static_cast<size_t>(i) * kPixels;
    if (chance(rng_, featureless_prob_)) {
      draw_featureless(rng_, static_cast<Featureless>(rng_() % kinds), img);
      host_labels_[i] = 10;
      continue;
    }
    const int n = static_cast<int>(rng_() % static_cast<uint64_t>(digits_.count));
    std::copy_n(digits_.images.data() + static_cast<size_t>(n) * kPixels, kPixels, img);
    if (chance(rng_, weaken_prob_)) weaken_digit(rng_, img);
    host_labels_[i] = digits_.labels[n];
  }
  x_.upload(be, host_x_);
  labels_.upload(be, host_labels_);
}

namespace {
// Fraction of images (host, n x 784) the judge reads as `expected[i]`, scored 8-bit as the audit scores samples.
double read_rate(Backend& be, Judge& judge, std::vector<float> images, const std::vector<int>& expected) {
  quantize_8bit(images);
  Buffer<float> dev(be, images.size());
  dev.upload(be, images);
  const int n = static_cast<int>(expected.size()), k = judge.classes();
  std::vector<float> p = judge_probabilities(be, judge, dev.data(), n);
  int hits = 0;
  for (int i = 0; i < n; ++i) {
    const float* row = p.data() + static_cast<size_t>(i) * k;
    hits += std::max_element(row, row + k) - row == expected[i];
  }
  return n ? static_cast<double>(hits) / n : 0.0;
}
}  // namespace

std::vector<HeldOutRow> judge_held_out(Backend& be, Judge& judge, const Dataset& test, uint64_t seed,
                                       int featureless_per_kind) {
  struct Variant {
    const char* name;
    float contrast, background, blur;
  };
  static constexpr Variant kVariants[] = {{"MNIST test digits", 1.0f, 0.0f, 0.0f},
                                          {"contrast x0.5", 0.5f, 0.0f, 0.0f},
                                          {"contrast x0.3", 0.3f, 0.0f, 0.0f},
                                          {"blurred (sigma 1)", 1.0f, 0.0f, 1.0f},
                                          {"on mid-gray: 0.5 + 0.5 x", 0.5f, 0.5f, 0.0f},
                                          {"faint on mid-gray: 0.5 + 0.25 x", 0.25f, 0.5f, 0.0f}};
  std::vector<HeldOutRow> rows;
  for (const Variant& v : kVariants) {
    std::vector<float> x = test.images;
    for (int i = 0; i < test.count; ++i) {
      float* img = x.data() + static_cast<size_t>(i) * kPixels;
      for (int j = 0; j < kPixels; ++j) img[j] = v.background + v.contrast * img[j];
      if (v.blur > 0) gaussian_blur(img, v.blur);
    }
    rows.push_back({v.name, read_rate(be, judge, std::move(x), test.labels), test.count});
  }
  if (judge.classes() <= Judge::kNoDigit) return rows;
  std::mt19937_64 rng(seed);
  const int kinds = static_cast<int>(Featureless::kCount), n = featureless_per_kind;
  double all = 0;
  for (int k = 0; k < kinds; ++k) {
    std::vector<float> x(static_cast<size_t>(n) * kPixels);
    for (int i = 0; i < n; ++i) draw_featureless(rng, static_cast<Featureless>(k), x.data() + static_cast<size_t>(i) * kPixels);
    const double rate = read_rate(be, judge, std::move(x), std::vector<int>(n, Judge::kNoDigit));
    rows.push_back({std::string("featureless: ") + featureless_name(static_cast<Featureless>(k)) + " -> no digit", rate, n});
    all += rate / kinds;
  }
  rows.push_back({"featureless, all kinds -> no digit", all, n * kinds});
  return rows;
}

std::string write_held_out(const std::vector<HeldOutRow>& rows, const std::string& dir) {
  std::ostringstream csv;
  csv << "set,images,read_as_expected\n";
  std::string md = "| held-out set | images | read as expected |\n|---|---|---|\n";
  for (const HeldOutRow& r : rows) {
    csv << '"' << r.name << "\"," << r.images << ',' << r.rate << '\n';
    char line[160];
    std::snprintf(line, sizeof line, "| %s | %d | %.2f %% |\n", r.name.c_str(), r.images, 100 * r.rate);
    md += line;
  }
  write_file(dir + "/held_out.csv", csv.str());
  write_file(dir + "/held_out.md", md);
  return md;
}
