// Synthetic 28x28 "digits" for tests of anything that reads MNIST-shaped images (the judge, attacks).
#pragma once
#include <cstdint>
#include <random>

#include "engine/idx.h"

// Synthetic 28x28 "digits": class k is a bright 6x6 square at its own spot of a 4x3 grid, jittered by
// up to 2 pixels, over uniform background noise. Linearly separable, but only through spatial features.
inline Dataset blob_dataset(int count, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::uniform_real_distribution<float> noise(0.0f, 0.3f);
  std::uniform_int_distribution<int> jitter(-2, 2);
  Dataset d;
  d.count = count; d.height = 28; d.width = 28;
  d.images.resize(static_cast<size_t>(count) * 784);
  for (int i = 0; i < count; ++i) {
    const int label = i % 10;
    d.labels.push_back(label);
    float* img = d.images.data() + static_cast<size_t>(i) * 784;
    for (int p = 0; p < 784; ++p) img[p] = noise(rng);
    const int y0 = 2 + (label / 3) * 6 + jitter(rng), x0 = 4 + (label % 3) * 7 + jitter(rng);
    for (int y = y0; y < y0 + 6; ++y)
      for (int x = x0; x < x0 + 6; ++x) img[y * 28 + x] = 1.0f;
  }
  return d;
}
