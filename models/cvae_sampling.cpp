#include "models/cvae_sampling.h"

#include <algorithm>

#include "engine/ops/concat.h"
#include "engine/ops/rng.h"
#include "engine/png.h"

void sample_images(Backend& be, Cvae& model, const std::vector<int>& labels, float* images) {
  const CvaeConfig& k = model.config();
  const int chunk = 1024;
  Tensor z(be, {chunk, k.z_dim}), c(be, {chunk, k.n_class});
  Buffer<int> lab(be, chunk);
  for (size_t start = 0; start < labels.size(); start += chunk) {
    int rows = static_cast<int>(std::min<size_t>(chunk, labels.size() - start));
    if (k.n_class) {  // an unconditional model takes no label
      copy_in(be, lab.data(), labels.data() + start, sizeof(int) * rows);
      onehot(be, lab.data(), rows, k.n_class, c.data());
    }
    fill_normal(be, z.data(), static_cast<int64_t>(rows) * k.z_dim);
    model.decode(be, z.data(), c.data(), rows, images + start * k.x_dim);
  }
}

void draw_onehot_labels(const Backend& be, std::mt19937_64& rng, const std::vector<int>& classes, int n, int n_class,
                        std::vector<int>& labels, int* labels_dev, float* c) {
  std::uniform_int_distribution<size_t> pick(0, classes.size() - 1);
  labels.resize(static_cast<size_t>(n));
  for (int& l : labels) l = classes[pick(rng)];
  copy_in(be, labels_dev, labels.data(), sizeof(int) * n);
  onehot(be, labels_dev, n, n_class, c);
}

std::vector<float> sample_images_host(Backend& be, Cvae& model, const std::vector<int>& labels) {
  Buffer<float> dev(be, labels.size() * model.config().x_dim);
  sample_images(be, model, labels, dev.data());
  return dev.download(be);
}

std::vector<int> digit_major_labels(int n_class, int per_digit) {
  std::vector<int> labels;
  for (int d = 0; d < n_class; ++d) labels.insert(labels.end(), per_digit, d);
  return labels;
}

void write_sample_grid(const Backend& be, Cvae& model, int per_digit, uint64_t seed, const std::string& path) {
  Backend grid_be = be;
  grid_be.seed = seed;
  grid_be.rng_counter = 0;
  std::vector<float> host = sample_images_host(grid_be, model, digit_major_labels(model.config().n_class, per_digit));
  write_image_grid(path, host.data(), static_cast<int>(host.size() / model.config().x_dim), 1, 28, 28, per_digit, 2, 2);
}

void write_morph_grid(const Backend& be, Cvae& model, const std::vector<std::pair<int, int>>& pairs, int steps,
                      uint64_t seed, const std::string& path) {
  const CvaeConfig& k = model.config();
  const int rows = static_cast<int>(pairs.size()) * steps;
  std::vector<float> ends(2 * pairs.size() * k.z_dim), z(static_cast<size_t>(rows) * k.z_dim), c(static_cast<size_t>(rows) * k.n_class, 0.0f);
  cpu::normal(ends.data(), static_cast<int64_t>(ends.size()), seed, 0);
  for (size_t p = 0; p < pairs.size(); ++p) {
    const float* z1 = ends.data() + 2 * p * k.z_dim;
    const float* z2 = z1 + k.z_dim;
    for (int s = 0; s < steps; ++s) {
      float t = steps > 1 ? static_cast<float>(s) / (steps - 1) : 0.0f;
      size_t r = p * steps + s;
      for (int j = 0; j < k.z_dim; ++j) z[r * k.z_dim + j] = (1 - t) * z1[j] + t * z2[j];
      c[r * k.n_class + pairs[p].first] += 1 - t;
      c[r * k.n_class + pairs[p].second] += t;
    }
  }
  Buffer<float> zd(be, z.size()), cd(be, c.size()), images(be, static_cast<size_t>(rows) * k.x_dim);
  zd.upload(be, z);
  cd.upload(be, c);
  model.decode(be, zd.data(), cd.data(), rows, images.data());
  std::vector<float> host = images.download(be);
  write_image_grid(path, host.data(), rows, 1, 28, 28, steps, 2, 2);
}
