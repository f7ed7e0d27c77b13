// sa_train: trains the one-hot CVAE of the Selective Amnesia MNIST study.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/adam.h"
#include "engine/batcher.h"
#include "engine/cli.h"
#include "engine/progress.h"
#include "models/cvae_eval.h"
#include "models/cvae_sampling.h"
#include "experiments/selective_amnesia/cvae_pictures.h"

namespace {

struct Options {
  int steps = 100000, batch = 256, log_every = 100, ckpt_every = 5000, lr_drop_at = 0;
  float lr = 1e-4f, lr_drop = 0.1f;
  int64_t seed = 0;
  bool no_encoder_label = false;
  std::string device = "auto", data = "data/mnist", out = "runs/sa_train";
};

int train(const Options& o) {
  Backend be = make_backend(o.device, static_cast<uint64_t>(o.seed));
  Dataset train_set = load_mnist_split(o.data, true);
  Dataset test_set = load_mnist_split(o.data, false);
  std::filesystem::create_directories(o.out);
  std::printf("sa_train: %d steps, batch %d, lr %g, seed %lld on %s; %d training images%s\n", o.steps, o.batch, o.lr,
              static_cast<long long>(o.seed), be.name(), train_set.count,
              o.no_encoder_label ? "; encoder without the label" : "");
  if (o.lr_drop_at > 0) std::printf("lr x%g after step %d\n", o.lr_drop, o.lr_drop_at);

  CvaeConfig cfg;
  cfg.encoder_label = !o.no_encoder_label;
  Cvae model(be, cfg, static_cast<uint64_t>(o.seed));
  AdamHyper hyper;
  hyper.lr = o.lr;
  Adam adam(be, model.params(), hyper);
  Batcher batcher(be, train_set, model.config().n_class, o.batch, static_cast<uint64_t>(o.seed));
  Buffer<float> sums(be, 2);  // BCE and KL summed since the last log line
  const std::string ckpt = o.out + "/cvae.safetensors";
  auto save = [&](int step) {
    model.save(be, ckpt, {{"steps", std::to_string(step)}, {"seed", std::to_string(o.seed)}, {"lr", std::to_string(o.lr)},
                          {"lr_drop_at", std::to_string(o.lr_drop_at)}});
  };

  std::ofstream csv(o.out + "/loss.csv");
  csv << "step,loss,bce,kl\n";
  Progress progress("sa_train", o.steps);
  float first_loss = -1.0f, last_loss = 0.0f;
  int since_log = 0, step = 0;
  while (step < o.steps && !interrupted()) {
    ++step;
    if (step == o.lr_drop_at + 1 && o.lr_drop_at > 0) adam.set_lr(o.lr * o.lr_drop);
    batcher.next(be);
    model.params().zero_grad(be);
    model.elbo(be, batcher.x(), batcher.c(), o.batch, 1.0f, {sums.data(), sums.data() + 1}, true);
    adam.step(be, model.params());
    ++since_log;
    if (step % o.log_every == 0 || step == o.steps) {
      std::vector<float> s = sums.download(be);
      zero_on(be, sums.data(), 2 * sizeof(float));
      float n = static_cast<float>(since_log) * o.batch;
      since_log = 0;
      last_loss = (s[0] + s[1]) / n;
      if (first_loss < 0) first_loss = last_loss;
      csv << step << ',' << last_loss << ',' << s[0] / n << ',' << s[1] / n << '\n';
      char line[96];
      std::snprintf(line, sizeof line, "loss %.2f (bce %.2f, kl %.2f)", last_loss, s[0] / n, s[1] / n);
      progress.update(step, line);
    }
    if (step % o.ckpt_every == 0) save(step);
  }
  progress.finish("");
  save(step);
  if (step < o.steps) std::printf("interrupted at step %d: checkpoint saved\n", step);
  write_sample_grid(be, model, 10, 1234, o.out + "/samples.png");
  float test_loss = mean_negative_elbo(be, model, test_set);
  std::printf("train loss per image: first logged %.2f, last %.2f; test negative ELBO %.2f\n", first_loss, last_loss,
              test_loss);
  std::printf("wrote %s, %s/samples.png, %s/loss.csv\n", ckpt.c_str(), o.out.c_str(), o.out.c_str());
  return step < o.steps ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("sa_train", [&] {
    Options o;
    Cli cli("sa_train", "Train the one-hot conditional VAE of the Selective Amnesia MNIST study.");
    cli.add("steps", &o.steps, "training steps", 1, 100000000);
    cli.add("batch", &o.batch, "batch size", 1, 65536);
    cli.add("lr", &o.lr, "Adam learning rate", 1e-8, 1.0);
    cli.add("lr-drop-at", &o.lr_drop_at, "step after which the learning rate is multiplied by --lr-drop (0: never)", 0,
            100000000);
    cli.add("lr-drop", &o.lr_drop, "learning-rate factor applied after --lr-drop-at", 1e-6, 1.0);
    cli.add("seed", &o.seed, "seed for initialisation, data order and sampling", 0, INT64_MAX);
    cli.add("device", &o.device, "where to run", {"auto", "cpu", "cuda"});
    cli.add("data", &o.data, "folder with the MNIST IDX files (bash data/fetch.sh)");
    cli.add("out", &o.out, "output folder: cvae.safetensors, samples.png, loss.csv");
    cli.add("log-every", &o.log_every, "steps between loss lines in loss.csv", 1, 100000000);
    cli.add("ckpt-every", &o.ckpt_every, "steps between checkpoints", 1, 100000000);
    cli.add_switch("no-encoder-label", &o.no_encoder_label,
                   "the encoder reads the image alone (only the decoder gets the label), for sa_latent's comparison");
    if (!cli.parse(argc, argv)) return 0;
    return train(o);
  });
}
