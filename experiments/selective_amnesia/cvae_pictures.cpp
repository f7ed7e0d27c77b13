#include "experiments/selective_amnesia/cvae_pictures.h"

#include "engine/ops/rng.h"
#include "engine/png.h"
#include "models/cvae_sampling.h"

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
