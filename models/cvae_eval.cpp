#include "models/cvae_eval.h"

#include <algorithm>

#include "engine/ops/concat.h"

float mean_negative_elbo(Backend& be, Cvae& model, const Dataset& d) {
  const CvaeConfig& k = model.config();
  const int chunk = 1000;
  Buffer<float> x(be, static_cast<size_t>(chunk) * k.x_dim), c(be, static_cast<size_t>(chunk) * k.n_class), sums(be, 2);
  Buffer<int> lab(be, chunk);
  for (int start = 0; start < d.count; start += chunk) {
    int rows = std::min(chunk, d.count - start);
    copy_in(be, x.data(), d.images.data() + static_cast<size_t>(start) * k.x_dim, sizeof(float) * rows * k.x_dim);
    copy_in(be, lab.data(), d.labels.data() + start, sizeof(int) * rows);
    onehot(be, lab.data(), rows, k.n_class, c.data());
    model.elbo(be, x.data(), c.data(), rows, 1.0f, {sums.data(), sums.data() + 1}, false);
  }
  std::vector<float> s = sums.download(be);
  return (s[0] + s[1]) / static_cast<float>(d.count);
}
