// sa_latent: latent analysis of CVAEs. For each checkpoint, the encoder means of MNIST test digits are
// projected to 2-D with t-SNE (a PNG map per model) and scored by how well a nearest-neighbour vote
// reads the digit off them (summary.md): the study's comparison of encoders that see the label with
// encoders that do not, before and after forgetting.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/cli.h"
#include "engine/timer.h"
#include "engine/tsne.h"
#include "experiments/latent/latent_map.h"

namespace {

struct Options {
  std::string models, data = "data/mnist", device = "auto", out = "runs/sa_latent";
  int points = 2000, iterations = 1000, knn = 5;
  float perplexity = 30.0f;
  int64_t seed = 0;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// A short unique name per checkpoint for file names and the table: its folder's name, plus the file's
// stem when two checkpoints share a folder name.
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

struct ModelRow {
  std::string name, forgotten;
  bool encoder_label = true;
  double knn_z = 0, knn_z_forgotten = 0, knn_map = 0, kl = 0, seconds = 0;
};

ModelRow analyse(Backend& be, const Options& o, const std::string& path, const std::string& name, const Dataset& test) {
  Cvae model(be, cvae_config_of(path), 0);
  model.load(be, path);
  const std::vector<int> forgotten = recorded_forgotten_digits(path);
  ModelRow row;
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
  cfg.seed = static_cast<uint64_t>(o.seed);
  const TsneResult map = tsne(mu.data(), test.count, model.config().z_dim, cfg);
  row.kl = map.kl;
  knn_digit_accuracy(map.layout.data(), test.count, 2, test.labels, o.knn, row.knn_map);
  row.seconds = t.seconds();

  const std::string title = name + (row.encoder_label ? " (encoder sees label)" : " (encoder without label)");
  write_latent_map(o.out + "/tsne_" + name + ".png", title, map.layout, test.labels, forgotten);
  std::ofstream csv(o.out + "/tsne_" + name + ".csv");
  csv << "x,y,digit\n";
  for (int i = 0; i < test.count; ++i) csv << map.layout[2 * i] << ',' << map.layout[2 * i + 1] << ',' << test.labels[i] << '\n';
  std::printf("%-24s knn(z) %.3f  knn(map) %.3f  forgotten [%s] knn(z) %.3f  KL %.3f  (%.1f s)\n", name.c_str(), row.knn_z,
              row.knn_map, row.forgotten.c_str(), row.knn_z_forgotten, row.kl, row.seconds);
  return row;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100 * fraction);
  return buf;
}

void write_summary(const Options& o, const std::vector<ModelRow>& rows) {
  std::ofstream md(o.out + "/summary.md");
  md << "Latent maps of " << o.points << " MNIST test digits (encoder means; t-SNE perplexity " << o.perplexity << ", "
     << o.iterations << " iterations, seed " << o.seed << "). knn: leave-one-out " << o.knn
     << "-nearest-neighbour vote for the digit, in the latent space z and on the 2-D map.\n\n"
     << "| model | encoder sees label | forgotten | knn accuracy (z) | knn accuracy (z), forgotten digits | knn accuracy (map) | t-SNE KL |\n"
     << "|---|---|---|---|---|---|---|\n";
  for (const ModelRow& r : rows)
    md << "| " << r.name << " | " << (r.encoder_label ? "yes" : "no") << " | " << r.forgotten << " | " << percent(r.knn_z)
       << " | " << (r.forgotten == "none" ? "-" : percent(r.knn_z_forgotten)) << " | " << percent(r.knn_map) << " | "
       << r.kl << " |\n";
}

int run(const Options& o) {
  const std::vector<std::string> paths = split_commas(o.models);
  if (paths.empty()) throw std::runtime_error("--models needs at least one CVAE checkpoint (a comma list)");
  for (const std::string& p : paths)
    if (!std::filesystem::exists(p)) throw std::runtime_error(p + ": no such checkpoint");
  if (o.perplexity >= o.points - 1)
    throw std::runtime_error("--perplexity must be below --points - 1 (t-SNE needs more neighbours than that)");
  Backend be = make_backend(o.device, static_cast<uint64_t>(o.seed));
  const Dataset test = subset(load_mnist_split(o.data, false), o.points);
  std::filesystem::create_directories(o.out);
  const std::vector<std::string> names = model_names(paths);
  std::vector<ModelRow> rows;
  for (size_t i = 0; i < paths.size() && !interrupted(); ++i) rows.push_back(analyse(be, o, paths[i], names[i], test));
  write_summary(o, rows);
  std::printf("wrote %s/summary.md and one tsne_<model>.png/.csv per model\n", o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("sa_latent", [&] {
    Options o;
    Cli cli("sa_latent",
            "Latent analysis of CVAE checkpoints: t-SNE maps of the encoder means of MNIST test digits and "
            "nearest-neighbour digit accuracy in z (exact t-SNE; 2000 points take ~10 s on one core).");
    cli.add("models", &o.models, "comma list of CVAE checkpoints (sa_train, sa_forget, sa_grayout)");
    cli.add("points", &o.points, "MNIST test digits to embed (the first N)", 10, 10000);
    cli.add("perplexity", &o.perplexity, "t-SNE perplexity", 1.0, 1000.0);
    cli.add("iterations", &o.iterations, "t-SNE iterations (the first 250 with early exaggeration)", 1, 100000);
    cli.add("knn", &o.knn, "neighbours in the digit vote", 1, 100);
    cli.add("seed", &o.seed, "seed of the t-SNE start layout", 0, INT64_MAX);
    cli.add("data", &o.data, "folder with the MNIST IDX files (bash data/fetch.sh)");
    cli.add("device", &o.device, "where to run the encoders", {"auto", "cpu", "cuda"});
    cli.add("out", &o.out, "output folder: summary.md, tsne_<model>.png and .csv");
    if (!cli.parse(argc, argv)) return 0;
    return run(o);
  });
}
