// sa_latent: latent analysis of CVAEs. For each checkpoint, the encoder means of MNIST test digits are
// projected to 2-D with t-SNE (a PNG map per model) and scored by how well a nearest-neighbour vote
// reads the digit off them (summary.md): the study's comparison of encoders that see the label with
// encoders that do not, before and after forgetting.
#include <cstdio>
#include <filesystem>

#include "engine/run/driver.h"
#include "experiments/latent/latent_study.h"

namespace {

struct Options {
  std::string models;
  LatentSettings latent;
};

int run(const Options& o, Driver& d) {
  const std::vector<std::string> paths = split_commas(o.models);
  if (paths.empty()) throw std::runtime_error("--models needs at least one CVAE checkpoint (a comma list)");
  for (const std::string& p : paths)
    if (!std::filesystem::exists(p)) throw std::runtime_error(p + ": no such checkpoint");
  if (o.latent.perplexity >= o.latent.points - 1)
    throw std::runtime_error("--perplexity must be below --points - 1 (t-SNE needs more neighbours than that)");
  Backend be = d.backend();
  LatentSettings s = o.latent;
  s.seed = d.seed();
  const Dataset test = subset(load_mnist_split(d.flags().data, false), s.points);
  const std::vector<std::string> names = model_names(paths);
  std::vector<LatentRow> rows;
  for (size_t i = 0; i < paths.size() && !interrupted(); ++i)
    rows.push_back(analyse_latent(be, s, paths[i], names[i], test, d.out()));
  write_latent_summary(d.out_path("summary.md"), s, rows);
  std::printf("wrote %s/summary.md and one tsne_<model>.png/.csv per model\n", d.out().c_str());
  return interrupted() ? interrupted_exit_code() : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  LatentSettings& s = o.latent;
  Driver d("sa_latent",
           "Latent analysis of CVAE checkpoints: t-SNE maps of the encoder means of MNIST test digits and "
           "nearest-neighbour digit accuracy in z (exact t-SNE; 2000 points take ~10 s on one core).",
           {"data/mnist", "runs/sa_latent"});
  Cli& cli = d.cli();
  cli.add("models", &o.models, "comma list of CVAE checkpoints (sa_train, sa_forget, sa_grayout)");
  cli.add("points", &s.points, "MNIST test digits to embed (the first N)", 10, 10000);
  cli.add("perplexity", &s.perplexity, "t-SNE perplexity", 1.0, 1000.0);
  cli.add("iterations", &s.iterations, "t-SNE iterations (the first 250 with early exaggeration)", 1, 100000);
  cli.add("knn", &s.knn, "neighbours in the digit vote", 1, 100);
  return d.main(argc, argv, [&](Driver& d) { return run(o, d); });
}
