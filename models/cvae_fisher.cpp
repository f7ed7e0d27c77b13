#include "models/cvae_fisher.h"

#include <algorithm>
#include <functional>
#include <random>
#include <stdexcept>

#include "engine/checkpoint_kind.h"
#include "engine/ops/concat.h"
#include "models/cvae_sampling.h"

namespace {

// Writes one chunk of inputs: `rows` images onto the device at x, and their labels into the host vector
// (already sized `rows`; ignored by a model without labels). `done` counts the inputs already used.
using FisherChunk = std::function<void(int done, int rows, float* x, std::vector<int>& labels)>;

// The loop both Fishers share: `samples` inputs in chunks of `batch`, each chunk's per-sample squared
// gradients added with weight 1 / samples, so the result is their mean.
Buffer<float> fisher_over_chunks(Backend& be, Cvae& model, int samples, int batch, const FisherChunk& next_chunk) {
  if (samples < 1 || batch < 1) throw std::invalid_argument("Fisher: samples and batch must be >= 1");
  const CvaeConfig& k = model.config();
  Buffer<float> fisher(be, model.params().size());
  Buffer<float> x(be, static_cast<size_t>(batch) * k.x_dim), c(be, static_cast<size_t>(batch) * k.n_class);
  Buffer<int> lab(be, batch);
  std::vector<int> labels;
  for (int done = 0; done < samples; done += batch) {
    int rows = std::min(batch, samples - done);
    labels.resize(rows);
    next_chunk(done, rows, x.data(), labels);
    if (k.n_class) {
      copy_in(be, lab.data(), labels.data(), sizeof(int) * rows);
      onehot(be, lab.data(), rows, k.n_class, c.data());
    }
    model.elbo(be, x.data(), c.data(), rows, 1.0f, {}, true, fisher.data(), 1.0f / static_cast<float>(samples));
  }
  return fisher;
}

}  // namespace

Buffer<float> cvae_fisher(Backend& be, Cvae& model, const std::vector<int>& classes, int samples, int batch) {
  const int n_class = model.config().n_class;
  if (n_class > 0 && classes.empty()) throw std::invalid_argument("Fisher: no classes to draw the model's samples of");
  for (int c : classes)
    if (c < 0 || c >= n_class)
      throw std::invalid_argument("Fisher: class " + std::to_string(c) + " is not one of the model's " +
                                  std::to_string(n_class));
  std::mt19937_64 rng(be.seed ^ 0xF15E5ULL);
  // An unconditional model takes no label: its samples are drawn with a placeholder label, never read.
  std::uniform_int_distribution<size_t> pick(0, classes.empty() ? 0 : classes.size() - 1);
  return fisher_over_chunks(be, model, samples, batch, [&](int, int, float* x, std::vector<int>& labels) {
    for (int& l : labels) l = classes.empty() ? 0 : classes[pick(rng)];
    sample_images(be, model, labels, x);
  });
}

Buffer<float> cvae_fisher_on_data(Backend& be, Cvae& model, const Dataset& d, int samples, int batch) {
  if (d.dim() != model.config().x_dim) throw std::invalid_argument("Fisher: the data does not match the model's x_dim");
  if (samples > d.count)
    throw std::invalid_argument("Fisher: " + std::to_string(samples) + " samples asked of a dataset of " +
                                std::to_string(d.count));
  const size_t dim = static_cast<size_t>(d.dim());
  return fisher_over_chunks(be, model, samples, batch, [&](int done, int rows, float* x, std::vector<int>& labels) {
    copy_in(be, x, d.images.data() + done * dim, sizeof(float) * rows * dim);
    std::copy(d.labels.begin() + done, d.labels.begin() + done + rows, labels.begin());
  });
}

void save_fisher(const Backend& be, const Cvae& model, const Buffer<float>& fisher, const std::string& path, int samples) {
  save_safetensors(path, model.params().to_named(be, fisher.data()),
                   {{"model", "cvae_fisher"}, {"samples", std::to_string(samples)},
                    {"model_fingerprint", model.params().fingerprint(be)}});
}

Buffer<float> load_fisher(const Backend& be, const Cvae& model, const std::string& path, int samples) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> ts = load_safetensors(path, &meta);
  check_checkpoint_kind(meta, "cvae_fisher", "a CVAE Fisher file", path);
  if (meta["model_fingerprint"] != model.params().fingerprint(be))
    throw StaleFisher(path + ": this Fisher was computed from other weights than the model's (retrained?)");
  if (meta["samples"] != std::to_string(samples))
    throw StaleFisher(path + ": this Fisher averages " + (meta["samples"].empty() ? "an unrecorded number of" : meta["samples"]) +
                      " samples, not the " + std::to_string(samples) + " asked for");
  Buffer<float> fisher(be, model.params().size());
  model.params().load_named(be, ts, path, fisher.data());
  return fisher;
}
