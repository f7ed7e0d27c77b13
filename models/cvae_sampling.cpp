#include "models/cvae_sampling.h"

#include <algorithm>

#include "engine/ops/concat.h"
#include "engine/ops/rng.h"

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
