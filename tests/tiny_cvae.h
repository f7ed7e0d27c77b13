// A tiny CVAE and a toy data set it learns in a fraction of a second, for tests of the forgetting
// objectives: three classes, each lighting up its own third of 12 pixels.
#pragma once
#include "engine/adam.h"
#include "engine/batcher.h"
#include "engine/idx.h"
#include "models/cvae.h"
#include "models/cvae_sampling.h"

inline CvaeConfig tiny_cvae_config() {
  CvaeConfig c;
  c.x_dim = 12; c.n_class = 3; c.h1 = 10; c.h2 = 8; c.z_dim = 2;
  return c;
}

// `count` examples cycling through the classes; class k's pixels are bright in its own third.
inline Dataset striped_dataset(const CvaeConfig& cfg, int count) {
  Dataset d;
  d.count = count; d.height = 1; d.width = cfg.x_dim;
  for (int i = 0; i < count; ++i) {
    const int cls = i % cfg.n_class;
    d.labels.push_back(cls);
    for (int j = 0; j < cfg.x_dim; ++j) d.images.push_back(j * cfg.n_class / cfg.x_dim == cls ? 0.95f : 0.05f);
  }
  return d;
}

// Plain ELBO training with Adam, batch 16.
inline void train_tiny_cvae(Backend& be, Cvae& model, const Dataset& d, int steps, float lr) {
  AdamHyper h;
  h.lr = lr;
  Adam adam(be, model.params(), h);
  Batcher batcher(be, d, model.config().n_class, 16, 8);
  for (int s = 0; s < steps; ++s) {
    batcher.next(be);
    model.params().zero_grad(be);
    model.elbo(be, batcher.x(), batcher.c(), 16, 1.0f, {}, true);
    adam.step(be, model.params());
  }
}

// Mean brightness of a class's own third minus that of the other pixels, over decoder means of 50 draws:
// about 0.9 for a class the model draws well, about 0 for a flat image.
inline double own_third_contrast(Backend& be, Cvae& model, int cls) {
  const CvaeConfig& cfg = model.config();
  std::vector<float> img = sample_images_host(be, model, std::vector<int>(50, cls));
  double own = 0, other = 0;
  for (size_t i = 0; i < img.size(); ++i)
    ((i % cfg.x_dim) * cfg.n_class / cfg.x_dim == static_cast<size_t>(cls) ? own : other) += img[i];
  const double per_class = img.size() / static_cast<double>(cfg.n_class);
  return own / per_class - other / (img.size() - per_class);
}
