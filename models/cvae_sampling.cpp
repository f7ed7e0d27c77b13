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
    copy_in(be, lab.data(), labels.data() + start, sizeof(int) * rows);
    onehot(be, lab.data(), rows, k.n_class, c.data());
    fill_normal(be, z.data(), static_cast<int64_t>(rows) * k.z_dim);
    model.decode(be, z.data(), c.data(), rows, images + start * k.x_dim);
  }
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
  write_image_grid(path, host.data(), static_cast<int>(host.size() / 784), 1, 28, 28, per_digit, 2, 2);
}
