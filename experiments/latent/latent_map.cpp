#include "experiments/latent/latent_map.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "engine/ops/concat.h"
#include "engine/png.h"

std::vector<float> encode_means(Backend& be, Cvae& model, const Dataset& d) {
  const CvaeConfig& k = model.config();
  const int chunk = 1000;
  Buffer<float> x(be, static_cast<size_t>(chunk) * k.x_dim), c(be, static_cast<size_t>(chunk) * k.n_class),
      mu(be, static_cast<size_t>(chunk) * k.z_dim);
  Buffer<int> lab(be, chunk);
  std::vector<float> out(static_cast<size_t>(d.count) * k.z_dim);
  for (int start = 0; start < d.count; start += chunk) {
    const int rows = std::min(chunk, d.count - start);
    copy_in(be, x.data(), d.images.data() + static_cast<size_t>(start) * k.x_dim, sizeof(float) * rows * k.x_dim);
    copy_in(be, lab.data(), d.labels.data() + start, sizeof(int) * rows);
    if (k.n_class) onehot(be, lab.data(), rows, k.n_class, c.data());
    model.encode_mean(be, x.data(), k.n_class ? c.data() : nullptr, rows, mu.data());
    copy_out(be, out.data() + static_cast<size_t>(start) * k.z_dim, mu.data(), sizeof(float) * rows * k.z_dim);
  }
  return out;
}

namespace {

// The label voted by the k nearest other points of point i.
int knn_vote(const float* points, int n, int dim, const std::vector<int>& labels, int k, int i,
             std::vector<std::pair<float, int>>& scratch) {
  scratch.clear();
  for (int j = 0; j < n; ++j) {
    if (j == i) continue;
    float d2 = 0;
    for (int c = 0; c < dim; ++c) {
      const float diff = points[static_cast<size_t>(i) * dim + c] - points[static_cast<size_t>(j) * dim + c];
      d2 += diff * diff;
    }
    scratch.emplace_back(d2, labels[j]);
  }
  const int kk = std::min<int>(k, static_cast<int>(scratch.size()));
  std::partial_sort(scratch.begin(), scratch.begin() + kk, scratch.end());
  std::array<int, 10> votes{};
  for (int m = 0; m < kk; ++m) ++votes[scratch[m].second];
  return static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
}

}  // namespace

std::vector<double> knn_digit_accuracy(const float* points, int n, int dim, const std::vector<int>& labels, int k,
                                       double& overall) {
  std::array<int, 10> right{}, count{};
  std::vector<std::pair<float, int>> scratch;
  for (int i = 0; i < n; ++i) {
    ++count[labels[i]];
    right[labels[i]] += knn_vote(points, n, dim, labels, k, i, scratch) == labels[i];
  }
  std::vector<double> per_digit(10, 0.0);
  for (int c = 0; c < 10; ++c) per_digit[c] = count[c] ? double(right[c]) / count[c] : 0.0;
  overall = n ? double(std::accumulate(right.begin(), right.end(), 0)) / n : 0.0;
  return per_digit;
}

void write_latent_map(const std::string& path, const std::string& title, const std::vector<float>& layout,
                      const std::vector<int>& labels, const std::vector<int>& forgotten) {
  LinePlot plot;
  plot.title = title;
  plot.xlabel = "t-SNE 1";
  plot.ylabel = "t-SNE 2";
  plot.width = 920;  // 700 x 700 of map beside the legend's margin
  plot.height = 700;
  for (int digit = 0; digit < 10; ++digit) {
    const bool gone = std::find(forgotten.begin(), forgotten.end(), digit) != forgotten.end();
    Series s;
    s.label = std::to_string(digit) + (gone ? " (forgotten)" : "");
    s.points_only = true;
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == digit) {
        s.x.push_back(layout[2 * i]);
        s.y.push_back(layout[2 * i + 1]);
      }
    plot.series.push_back(std::move(s));
  }
  write_line_plot(path, plot);
}
