#include "experiments/latent/latent_study.h"

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "engine/timer.h"
#include "engine/tsne.h"
#include "engine/write_file.h"
#include "experiments/latent/latent_map.h"

namespace {

std::string digits_text(const std::vector<int>& digits) {
  std::string s;
  for (int d : digits) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s.empty() ? "none" : s;
}

double mean_over_digits(const std::vector<double>& per_digit, const std::vector<int>& digits) {
  if (digits.empty()) return 0;
  double s = 0;
  for (int d : digits) s += per_digit[d];
  return s / digits.size();
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100 * fraction);
  return buf;
}

}  // namespace

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<std::string> model_names(const std::vector<std::string>& paths) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const std::string& p : paths) {
    const std::filesystem::path path(p);
    std::string name = path.parent_path().filename().string();
    if (name.empty() || seen.count(name)) name += (name.empty() ? "" : "_") + path.stem().string();
    seen.insert(name);
    names.push_back(name);
  }
  return names;
}



LatentRow analyse_latent(Backend& be, const LatentSettings& o, const std::string& path, const std::string& name,
                         const Dataset& test, const std::string& out) {
  Cvae model(be, cvae_config_of(path), 0);
  model.load(be, path);
  const std::vector<int> forgotten = recorded_forgotten_digits(path);
  LatentRow row;
  row.name = name;
  row.forgotten = digits_text(forgotten);
  row.encoder_label = model.config().encoder_label;
  Timer t;
  const std::vector<float> mu = encode_means(be, model, test);
  const std::vector<double> per_digit =
      knn_digit_accuracy(mu.data(), test.count, model.config().z_dim, test.labels, o.knn, row.knn_z);
  row.knn_z_forgotten = mean_over_digits(per_digit, forgotten);

  TsneConfig cfg;
  cfg.perplexity = o.perplexity;
  cfg.iterations = o.iterations;
  cfg.seed = o.seed;
  const TsneResult map = tsne(mu.data(), test.count, model.config().z_dim, cfg);
  row.kl = map.kl;
  knn_digit_accuracy(map.layout.data(), test.count, 2, test.labels, o.knn, row.knn_map);
  row.seconds = t.seconds();

  const std::string title = name + (row.encoder_label ? " (encoder sees label)" : " (encoder without label)");
  write_latent_map(out + "/tsne_" + name + ".png", title, map.layout, test.labels, forgotten);
  std::ostringstream csv;
  csv << "x,y,digit\n";
  for (int i = 0; i < test.count; ++i) csv << map.layout[2 * i] << ',' << map.layout[2 * i + 1] << ',' << test.labels[i] << '\n';
  write_file(out + "/tsne_" + name + ".csv", csv.str());
  std::printf("%-24s knn(z) %.3f  knn(map) %.3f  forgotten [%s] knn(z) %.3f  KL %.3f  (%.1f s)\n", name.c_str(), row.knn_z,
              row.knn_map, row.forgotten.c_str(), row.knn_z_forgotten, row.kl, row.seconds);
  return row;
}

void write_latent_summary(const std::string& path, const LatentSettings& o, const std::vector<LatentRow>& rows) {
  std::ostringstream md;
  md << "Latent maps of " << o.points << " MNIST test digits (encoder means; t-SNE perplexity " << o.perplexity << ", "
     << o.iterations << " iterations, seed " << o.seed << "). knn: leave-one-out " << o.knn
     << "-nearest-neighbour vote for the digit, in the latent space z and on the 2-D map.\n\n"
     << "| model | encoder sees label | forgotten | knn accuracy (z) | knn accuracy (z), forgotten digits | knn accuracy (map) | t-SNE KL |\n"
     << "|---|---|---|---|---|---|---|\n";
  for (const LatentRow& r : rows)
    md << "| " << r.name << " | " << (r.encoder_label ? "yes" : "no") << " | " << r.forgotten << " | " << percent(r.knn_z)
       << " | " << (r.forgotten == "none" ? "-" : percent(r.knn_z_forgotten)) << " | " << percent(r.knn_map) << " | "
       << r.kl << " |\n";
  write_file(path, md.str());
}
