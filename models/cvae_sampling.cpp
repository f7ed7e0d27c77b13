#include "models/cvae_sampling.h"

#include <algorithm>

#include "engine/ops/concat.h"
#include "engine/ops/rng.h"

namespace {
// Label uploads go through pinned staging (a pageable copy would wait for all queued device work),
// one uploader per device for every caller here.
StagedUpload& label_upload(const Backend& be) {
  static StagedUpload per_device[2];
  return per_device[be.is_cuda()];
}

// sample_images' device scratch, kept from call to call: a forgetting step samples once or twice, and
// allocating and freeing it each time drained the GPU (cudaFree synchronises).
struct SamplingScratch {
  static constexpr int kChunk = 1024;
  int z_dim = -1, n_class = -1;
  Tensor z, c;
  Buffer<int> labels;
};
SamplingScratch& sampling_scratch(const Backend& be, const CvaeConfig& k) {
  static SamplingScratch per_device[2];
  SamplingScratch& s = per_device[be.is_cuda()];
  if (s.z_dim != k.z_dim || s.n_class != k.n_class) {
    s.z = Tensor(be, {SamplingScratch::kChunk, k.z_dim});
    s.c = Tensor(be, {SamplingScratch::kChunk, k.n_class});
    s.labels = Buffer<int>(be, SamplingScratch::kChunk);
    s.z_dim = k.z_dim, s.n_class = k.n_class;
  }
  return s;
}
}  // namespace

void sample_images(Backend& be, Cvae& model, const std::vector<int>& labels, float* images) {
  const CvaeConfig& k = model.config();
  SamplingScratch& s = sampling_scratch(be, k);
  for (size_t start = 0; start < labels.size(); start += SamplingScratch::kChunk) {
    int rows = static_cast<int>(std::min<size_t>(SamplingScratch::kChunk, labels.size() - start));
    if (k.n_class) {  // an unconditional model takes no label
      label_upload(be).copy(be, s.labels.data(), labels.data() + start, sizeof(int) * rows);
      onehot(be, s.labels.data(), rows, k.n_class, s.c.data());
    }
    fill_normal(be, s.z.data(), static_cast<int64_t>(rows) * k.z_dim);
    model.decode(be, s.z.data(), s.c.data(), rows, images + start * k.x_dim);
  }
}

void draw_onehot_labels(const Backend& be, std::mt19937_64& rng, const std::vector<int>& classes, int n, int n_class,
                        std::vector<int>& labels, int* labels_dev, float* c) {
  std::uniform_int_distribution<size_t> pick(0, classes.size() - 1);
  labels.resize(static_cast<size_t>(n));
  for (int& l : labels) l = classes[pick(rng)];
  label_upload(be).copy(be, labels_dev, labels.data(), sizeof(int) * n);
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
