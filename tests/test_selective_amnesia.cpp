// The batched Fisher against a per-sample loop, the audit summary, and the forgetting loop on a tiny model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/adam.h"
#include "engine/batcher.h"
#include "experiments/audit/audit.h"
#include "models/cvae_fisher.h"
#include "models/cvae_sampling.h"
#include "experiments/selective_amnesia/fisher_cache.h"
#include "experiments/selective_amnesia/selective_amnesia.h"
#include "tests/gradcheck.h"
#include "tests/temp_dir.h"
#include "tests/tiny_cvae.h"

TEST_CASE("batched CVAE Fisher equals the per-sample squared-gradient loop") {
  Backend be = make_backend("cpu", 21);
  Cvae model(be, tiny_cvae_config(), 4);
  std::mt19937 rng(5);
  const int rows = 6, zdim = 2, nc = 3, xd = 12;
  std::vector<float> x = random_vector(rows * xd, rng, 0.0f, 1.0f), c(rows * nc, 0.0f);
  for (int r = 0; r < rows; ++r) c[r * nc + r % nc] = 1.0f;
  const size_t n = model.params().size();
  std::vector<float> batched(n, 0.0f), looped(n, 0.0f);

  be.rng_counter = 0;
  model.elbo(be, x.data(), c.data(), rows, 1.0f, {}, true, batched.data(), 0.5f);
  for (int r = 0; r < rows; ++r) {
    be.rng_counter = static_cast<uint64_t>(r) * zdim;  // the same eps the batch gave row r
    model.params().zero_grad(be);
    model.elbo(be, x.data() + r * xd, c.data() + r * nc, 1, 1.0f, {}, true);
    for (size_t i = 0; i < n; ++i) looped[i] += 0.5f * model.params().grads()[i] * model.params().grads()[i];
  }
  for (size_t i = 0; i < n; ++i) {
    INFO("parameter " << i);
    CHECK(batched[i] == doctest::Approx(looped[i]).epsilon(1e-4).scale(1e-6));
  }
}

TEST_CASE("audit summary: accuracy, probability and entropy per class") {
  // Two classes; class 0 judged confidently right, class 1 judged uniformly (entropy log 2).
  std::vector<float> probs = {1.0f, 0.0f, 0.9f, 0.1f, 0.5f, 0.5f, 0.5f, 0.5f};
  std::vector<int> labels = {0, 0, 1, 1};
  std::vector<ClassAudit> a = summarize_judgement(probs, labels, 2, {1});
  CHECK(a[0].accuracy == doctest::Approx(1.0));
  CHECK(a[0].mean_prob == doctest::Approx(0.95));
  CHECK(a[0].forgotten == false);
  CHECK(a[1].forgotten == true);
  CHECK(a[1].mean_prob == doctest::Approx(0.5));
  CHECK(a[1].mean_entropy == doctest::Approx(std::log(2.0)));
  CHECK(mean_over(a, true, &ClassAudit::mean_entropy) == doctest::Approx(std::log(2.0)));
  std::string md = audit_markdown(a, a);
  CHECK(md.find("forgotten") != std::string::npos);
  std::vector<float> img = {0.5f, 1.2f, -0.1f};
  quantize_8bit(img);
  CHECK(img[0] == doctest::Approx(128.0f / 255.0f));
  CHECK(img[1] == 1.0f);
  CHECK(img[2] == 0.0f);
}

TEST_CASE("forgetting loop turns the forgotten class to noise and keeps the others") {
  Backend be = make_backend("cpu", 8);
  CvaeConfig cfg = tiny_cvae_config();
  Dataset d = striped_dataset(cfg, 96);
  Cvae model(be, cfg, 8), frozen(be, cfg, 8);
  AdamHyper h;
  h.lr = 3e-3f;
  train_tiny_cvae(be, model, d, 600, h.lr);
  frozen.params().copy_from(be, model.params());
  Buffer<float> fisher = cvae_fisher(be, model, {0, 1, 2}, 256, 64);
  ForgetConfig fc;
  fc.forget = {2};
  fc.remember = {0, 1};
  fc.batch = 16;
  fc.lambda = 1.0f;
  SelectiveAmnesia sa(be, model, frozen, fisher, fc, h);
  for (int s = 0; s < 400; ++s) sa.step(be);
  ForgetLosses l = sa.read_and_reset(be);
  CHECK(l.ewc > 0.0f);

  // Class 2's own pixels should no longer stand out; classes 0 and 1 should still light up their third.
  CHECK(own_third_contrast(be, model, 0) > 0.5);
  CHECK(own_third_contrast(be, model, 1) > 0.5);
  CHECK(std::fabs(own_third_contrast(be, model, 2)) < 0.2);
}

TEST_CASE("a saved Fisher loads for its own weights and sample count only") {
  Backend be = make_backend("cpu", 3);
  TempDir dir("fisher_fingerprint");
  Cvae model(be, tiny_cvae_config(), 1), other(be, tiny_cvae_config(), 2);
  Buffer<float> f = cvae_fisher(be, model, {0, 1, 2}, 20, 8);
  save_fisher(be, model, f, dir / "fisher.safetensors", 20);
  std::vector<float> back = load_fisher(be, model, dir / "fisher.safetensors", 20).download(be);
  CHECK(back == f.download(be));
  CHECK_THROWS_AS(load_fisher(be, other, dir / "fisher.safetensors", 20), StaleFisher);
  CHECK_THROWS_WITH_AS(load_fisher(be, model, dir / "fisher.safetensors", 50),
                       contains("averages 20 samples, not the 50 asked for"), StaleFisher);
}

TEST_CASE("the cached Fisher is recomputed when another sample count is asked for") {
  Backend be = make_backend("cpu", 3);
  TempDir dir("fisher_cache_samples");
  Cvae model(be, tiny_cvae_config(), 1);
  const std::string model_path = dir / "cvae.safetensors", cached = dir / "fisher.safetensors";
  model.save(be, model_path, {});
  cached_model_fisher(be, model, model_path, "", 20);
  std::map<std::string, std::string> meta;
  load_safetensors(cached, &meta);
  CHECK(meta["samples"] == "20");
  cached_model_fisher(be, model, model_path, "", 30);  // used to load the 20-sample file
  load_safetensors(cached, &meta);
  CHECK(meta["samples"] == "30");
  // A Fisher named explicitly is never replaced: a mismatch is an error.
  CHECK_THROWS_AS(cached_model_fisher(be, model, model_path, cached, 40), StaleFisher);
}

TEST_CASE("VAE checkpoints: the programs that forget or audit digits refuse them; the Fisher needs classes") {
  Backend be = make_backend("cpu", 3);
  TempDir dir("vae_refused");
  CvaeConfig vae = tiny_cvae_config();
  vae.n_class = 0;
  Cvae model(be, vae, 1);
  model.save(be, dir / "vae.safetensors", {});
  CHECK(cvae_config_of(dir / "vae.safetensors").n_class == 0);
  CHECK_THROWS_WITH_AS(conditional_cvae_config_of(dir / "vae.safetensors"),
                       contains(dir / "vae.safetensors" + ": is an unconditional VAE"), std::runtime_error);
  // The Fisher of a VAE's own samples needs no class; a CVAE's needs at least one, each in range.
  std::vector<float> f = cvae_fisher(be, model, {}, 10, 4).download(be);
  CHECK(std::all_of(f.begin(), f.end(), [](float v) { return std::isfinite(v) && v >= 0; }));
  Cvae cvae(be, tiny_cvae_config(), 1);
  CHECK_THROWS_WITH_AS(cvae_fisher(be, cvae, {}, 10, 4), contains("no classes"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cvae_fisher(be, cvae, {0, 3}, 10, 4), contains("class 3"), std::invalid_argument);
}
