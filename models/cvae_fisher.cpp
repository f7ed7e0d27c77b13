#include "models/cvae_fisher.h"

#include <algorithm>
#include <random>

#include "engine/ops/concat.h"
#include "models/cvae_sampling.h"

Buffer<float> cvae_fisher(Backend& be, Cvae& model, const std::vector<int>& classes, int samples, int batch) {
  const CvaeConfig& k = model.config();
  Buffer<float> fisher(be, model.params().size());
  Buffer<float> x(be, static_cast<size_t>(batch) * k.x_dim), c(be, static_cast<size_t>(batch) * k.n_class);
  Buffer<int> lab(be, batch);
  std::mt19937_64 rng(be.seed ^ 0xF15E5ULL);
  std::uniform_int_distribution<size_t> pick(0, classes.size() - 1);
  std::vector<int> labels;
  for (int done = 0; done < samples; done += batch) {
    int rows = std::min(batch, samples - done);
    labels.resize(rows);
    for (int& l : labels) l = classes[pick(rng)];
    sample_images(be, model, labels, x.data());
    copy_in(be, lab.data(), labels.data(), sizeof(int) * rows);
    onehot(be, lab.data(), rows, k.n_class, c.data());
    model.elbo(be, x.data(), c.data(), rows, 1.0f, {}, true, fisher.data(), 1.0f / static_cast<float>(samples));
  }
  return fisher;
}

void save_fisher(const Backend& be, const Cvae& model, const Buffer<float>& fisher, const std::string& path, int samples) {
  save_safetensors(path, model.params().to_named(be, fisher.data()), {{"model", "cvae_fisher"}, {"samples", std::to_string(samples)}});
}

Buffer<float> load_fisher(const Backend& be, const Cvae& model, const std::string& path) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> ts = load_safetensors(path, &meta);
  if (meta["model"] != "cvae_fisher") throw std::runtime_error(path + ": not a CVAE Fisher file");
  Buffer<float> fisher(be, model.params().size());
  model.params().load_named(be, ts, path, fisher.data());
  return fisher;
}
