// The SA judge classifier end to end on the CPU: whole-network gradient, a short training run on a
// synthetic separable dataset, checkpoint round trip, and refusal of other models' checkpoints.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "engine/batcher.h"
#include "engine/ops/softmax_xent.h"
#include "models/cvae.h"
#include "experiments/audit/cvae_audit.h"
#include "experiments/audit/no_digit.h"
#include "models/judge.h"
#include "tests/blob_digits.h"
#include "tests/gradcheck.h"
#include "tests/temp_dir.h"

namespace {
std::vector<float> host_logits(Backend& be, Judge& judge, const Dataset& d) {
  std::vector<float> out(static_cast<size_t>(d.count) * 10);
  judge.logits(be, d.images.data(), d.count, out.data());  // CPU backend: host pointers are device pointers
  return out;
}
}  // namespace

// Max-pool and ReLU make the loss piecewise smooth, and through batch norm one weight moves every
// activation of the batch, so with several images a finite-difference step crosses a kink for a good
// share of the conv weights (measured: ~20 % of conv1's with 6 images, none with 1). Hence two checks:
// one image, where every sampled entry of every tensor must match, and four images, where batch norm
// couples the rows and most (not all) sampled entries must match.
TEST_CASE("judge: whole-network gradient matches finite differences (training mode, fixed masks)") {
  for (int rows : {1, 4}) {
    CAPTURE(rows);
    Backend be = make_backend("cpu", 3);
    Judge judge(be, 4);
    // Uniform noise images: the blob dataset's flat squares would tie inside max-pool windows, and a
    // tie is a kink right at the point being differentiated.
    std::mt19937 rng(5);
    std::vector<float> images = random_vector(static_cast<size_t>(rows) * 784, rng, 0.0f, 1.0f);
    std::vector<int> labels = {3, 7, 0, 9};
    ParamStore& p = judge.params();
    // Move batch-norm gammas away from exactly 1 so their gradient is not special.
    for (const ParamEntry& e : p.entries())
      if (e.name == "bn1.weight" || e.name == "bn2.weight")
        for (size_t i = 0; i < e.size; ++i) p.values()[e.offset + i] = 0.8f + 0.05f * static_cast<float>(i);

    auto loss = [&] {
      be.rng_counter = 0;  // the same dropout masks every evaluation
      float value = 0.0f;
      judge.forward_backward(be, images.data(), labels.data(), rows, 1.0f, &value);
      return static_cast<double>(value);
    };
    p.zero_grad(be);
    loss();
    std::vector<float> analytic(p.grads(), p.grads() + p.size());
    // Every tensor gets checked: indices are sampled inside each parameter, not over the flat buffer.
    for (const ParamEntry& e : p.entries()) {
      CAPTURE(e.name);
      if (rows == 1) {
        check_gradient(loss, p.values() + e.offset, analytic.data() + e.offset, e.size, 12, 2e-4f, 2e-2);
        continue;
      }
      std::uniform_int_distribution<size_t> pick(0, e.size - 1);
      const int samples = 16;
      int agree = 0;
      for (int s = 0; s < samples; ++s) {
        const size_t i = e.offset + pick(rng);
        const float keep = p.values()[i];
        p.values()[i] = keep + 1e-3f;
        const double up = loss();
        p.values()[i] = keep - 1e-3f;
        const double down = loss();
        p.values()[i] = keep;
        const double numeric = (up - down) / 2e-3;
        agree += std::fabs(numeric - analytic[i]) <= 2e-2 * (1.0 + std::fabs(numeric));
      }
      CHECK(agree >= samples - 3);
    }
  }
}

TEST_CASE("judge: a short training run separates a synthetic 10-class dataset") {
  Backend be = make_backend("cpu", 8);
  Dataset train = blob_dataset(600, 1), test = blob_dataset(300, 2);
  Judge judge(be, 9);
  const double before = judge_accuracy(be, judge, test);
  Batcher batcher(be, train, 10, 32, 10);
  Buffer<float> loss(be, 1);
  float first = 0.0f, last = 0.0f;
  for (int step = 1; step <= 150; ++step) {
    batcher.next(be);
    zero_on(be, loss.data(), sizeof(float));
    judge.train_step(be, batcher.x(), batcher.labels(), batcher.batch(), 2e-3f, loss.data());
    if (step == 1) first = loss.data()[0];
    last = loss.data()[0];
  }
  const double after = judge_accuracy(be, judge, test);
  INFO("accuracy before " << before << ", after " << after << "; loss " << first << " -> " << last);
  CHECK(judge.adam_steps() == 150);
  CHECK(last < first);
  CHECK(after >= 0.95);

  SUBCASE("probabilities are the softmax of the logits and sum to one") {
    std::vector<float> l = host_logits(be, judge, test);
    std::vector<float> p = judge_probabilities(be, judge, test.images.data(), test.count), want(l.size());
    cpu::softmax(l.data(), test.count, 10, want.data());
    for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == doctest::Approx(want[i]).epsilon(1e-6));
  }

  SUBCASE("checkpoint round trip gives bit-identical logits (running statistics included)") {
    TempDir dir("judge");
    judge.save(be, dir / "judge.safetensors", {{"epochs", "1"}});
    Judge loaded(be, 1234);  // different initial weights
    CHECK(host_logits(be, loaded, test) != host_logits(be, judge, test));
    loaded.load(be, dir / "judge.safetensors");
    CHECK(host_logits(be, loaded, test) == host_logits(be, judge, test));

    std::map<std::string, std::string> meta;
    std::vector<NamedTensor> ts = load_safetensors(dir / "judge.safetensors", &meta);
    CHECK(meta["model"] == "judge");
    CHECK(meta["epochs"] == "1");
    auto has = [&](const std::string& name) {
      return std::any_of(ts.begin(), ts.end(), [&](const NamedTensor& t) { return t.name == name; });
    };
    for (const char* name : {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean",
                             "bn1.running_var", "conv2.weight", "bn2.running_var", "fc1.weight", "fc2.bias"})
      CHECK_MESSAGE(has(name), name);
  }
}

TEST_CASE("judge: loading another model's checkpoint fails with a clear error") {
  Backend be = make_backend("cpu", 1);
  TempDir dir("judge_reject");
  CvaeConfig small;
  small.h1 = 16; small.h2 = 8;
  Cvae cvae(be, small, 2);
  cvae.save(be, dir / "cvae.safetensors", {});
  Judge judge(be, 3);
  CHECK_THROWS_WITH(judge.load(be, dir / "cvae.safetensors"), contains("is a 'cvae' checkpoint, not a judge"));

  // No metadata at all: not taken for a judge.
  save_safetensors(dir / "bare.safetensors", {{"something", {2}, {1.0f, 2.0f}}});
  CHECK_THROWS_WITH(judge.load(be, dir / "bare.safetensors"), contains("has no 'model' metadata"));
}

// The audit wiring on real-sized models (untrained, so no accuracy is expected): every digit gets its
// samples, the forgotten flags follow the list, the summaries are probabilities and entropies, the
// 11-way reading splits every digit's samples into itself / no digit / another digit, the same seed
// gives the same audit (before/after tables compare like with like), the report files appear with the
// verdict last, and a named judge that does not exist is an error while the default one may be absent.
TEST_CASE("audit of a CVAE by the judges: shape, ranges, reproducibility, report files") {
  Backend be = make_backend("cpu", 4);
  Cvae model(be, CvaeConfig{}, 5);
  AuditJudges judges;
  judges.digits = std::make_unique<Judge>(be, 6);
  judges.no_digit = std::make_unique<Judge>(be, 8, 11);
  Judge& judge = *judges.digits;
  const std::vector<ClassAudit> a = audit_cvae(be, model, judges, 7, {0, 3}, 99);
  const std::vector<ClassAudit> b = audit_cvae(be, model, judges, 7, {0, 3}, 99);
  REQUIRE(a.size() == 10);
  for (int d = 0; d < 10; ++d) {
    const ClassAudit& c = a[d];
    CHECK(c.scored);
    CHECK(c.read);
    CHECK(c.as_self + c.as_none + c.as_other == doctest::Approx(1.0f));
    CHECK(c.as_self == b[d].as_self);
    CHECK(c.digit == d);
    CHECK(c.samples == 7);
    CHECK(c.forgotten == (d == 0 || d == 3));
    CHECK(c.mean_prob >= 0.0f);
    CHECK(c.mean_prob <= 1.0f);
    CHECK(c.mean_entropy >= 0.0f);
    CHECK(c.mean_entropy <= std::log(10.0f) + 1e-5f);
    CHECK(c.accuracy == b[d].accuracy);
    CHECK(c.mean_entropy == b[d].mean_entropy);
  }
  std::vector<ClassAudit> gray = judge_on_gray(be, judge, 10, {0, 3});
  REQUIRE(gray.size() == 10);
  float total = 0;
  int read_as = 0;
  for (const ClassAudit& g : gray) {  // one image judged for every digit: the same entropy in each row
    CHECK(g.samples == 1);
    CHECK(g.mean_entropy == doctest::Approx(gray[0].mean_entropy));
    total += g.mean_prob;  // and row d holds p(d) of that image, so the rows make up its distribution
    if (g.mean_prob > gray[read_as].mean_prob) read_as = g.digit;
  }
  CHECK(total == doctest::Approx(1.0f).epsilon(1e-4));
  TempDir dir("audit_report");
  const Verdict v = report_audit(a, b, gray, dir.path.string());
  CHECK(v.judged);
  CHECK(std::filesystem::exists(dir / "audit.md"));
  CHECK(std::filesystem::exists(dir / "verdict.txt"));
  {
    std::ifstream in(dir / "audit.md");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("reads it as a " + std::to_string(read_as) + " ") != std::string::npos);
    CHECK(text.find("before: as itself | no digit | other digit |") != std::string::npos);
    CHECK(text.rfind("Verdict") > text.rfind("Yardstick"));  // the verdict comes last
  }
  CHECK(std::filesystem::exists(dir / "audit.csv"));
  // One model alone (sa_eval without --before): a single table, no "after" rows in the CSV.
  TempDir single("audit_single");
  report_audit(a, {}, gray, single.path.string());
  std::ifstream md(single / "audit.md");
  std::string header;
  std::getline(md, header);
  CHECK(header.find("| acc | p(digit) | entropy | as itself |") != std::string::npos);
  std::ifstream csv(single / "audit.csv");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) rows += line.find(",after,") != std::string::npos ? 100 : 1;
  CHECK(rows == 11);  // header + 10 digits

  CHECK(load_judge(be, dir / "absent.safetensors", false) == nullptr);
  CHECK_THROWS_WITH(load_judge(be, dir / "absent.safetensors", true), contains("no such judge checkpoint"));
  // The class count travels in the checkpoint; a judge of the wrong kind for its flag is refused.
  judges.no_digit->save(be, dir / "j11.safetensors");
  CHECK(Judge::classes_in(dir / "j11.safetensors") == 11);
  CHECK(load_judge(be, dir / "j11.safetensors", true)->classes() == 11);
  CHECK_THROWS_WITH(load_audit_judges(be, dir / "j11.safetensors", ""), contains("11-class judge where a 10"));
  CHECK_THROWS_WITH(judge.load(be, dir / "j11.safetensors"), contains("11-class judge, not 10"));
}

// The 11-way judge on tiny synthetic data: blob "digits" plus the featureless generator's images as
// class 10. After a short run it must read held-out featureless images (another seed) as "no digit" and
// the blobs as their own class, also when they are weakened onto gray, which a judge that lumped every
// faint image into "no digit" would not.
TEST_CASE("11-way judge: learns \"no digit\" for featureless images and keeps weak digits") {
  Backend be = make_backend("cpu", 21);
  Dataset train = blob_dataset(600, 3), test = blob_dataset(200, 4);
  Judge judge(be, 22, 11);
  NoDigitBatcher batcher(be, train, 32, 23);
  for (int step = 0; step < 250; ++step) {
    batcher.next(be);
    judge.train_step(be, batcher.x(), batcher.labels(), 32, 2e-3f, nullptr);
  }
  const std::vector<HeldOutRow> rows = judge_held_out(be, judge, test, 24, 40);
  REQUIRE(rows.size() == 6 + static_cast<size_t>(Featureless::kCount) + 1);
  for (const HeldOutRow& r : rows) INFO(r.name << ": " << r.rate);
  CHECK(rows[0].rate >= 0.9);       // clean blobs
  CHECK(rows[4].rate >= 0.9);       // blobs at x0.5 on mid-gray
  CHECK(rows.back().rate >= 0.9);   // featureless, all kinds -> no digit
  TempDir dir("held_out");
  const std::string md = write_held_out(rows, dir.path.string());
  CHECK(md.find("featureless, all kinds -> no digit") != std::string::npos);
  CHECK(std::filesystem::exists(dir / "held_out.csv"));

  // A 10-class judge has no "no digit" rows to report.
  Judge ten(be, 25);
  CHECK(judge_held_out(be, ten, test, 24, 40).size() == 6);
}

TEST_CASE("featureless images and weakened digits stay in [0,1]; flat is flat, weakened keeps its shape") {
  std::mt19937_64 rng(31);
  std::vector<float> img(784);
  for (int k = 0; k < static_cast<int>(Featureless::kCount); ++k)
    for (int rep = 0; rep < 20; ++rep) {
      draw_featureless(rng, static_cast<Featureless>(k), img.data());
      CHECK(*std::min_element(img.begin(), img.end()) >= 0.0f);
      CHECK(*std::max_element(img.begin(), img.end()) <= 1.0f);
      if (static_cast<Featureless>(k) == Featureless::Flat)
        CHECK(*std::min_element(img.begin(), img.end()) == *std::max_element(img.begin(), img.end()));
    }
  Dataset blobs = blob_dataset(1, 5);
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<float> w = blobs.images;
    weaken_digit(rng, w.data());
    CHECK(*std::min_element(w.begin(), w.end()) >= 0.0f);
    CHECK(*std::max_element(w.begin(), w.end()) <= 1.0f);
    // The square (value 1 in the original) stays brighter than the mean of the rest.
    double in = 0, out = 0;
    int n_in = 0;
    for (int i = 0; i < 784; ++i) (blobs.images[i] == 1.0f ? (++n_in, in) : out) += w[i];
    CHECK(in / n_in > out / (784 - n_in));
  }
}
