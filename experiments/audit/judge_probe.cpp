// judge_probe: what a judge says about images that hold no digit at all (blank, flat gray, white,
// uniform noise). A forgetting run whose forgotten rows become featureless is scored by exactly this,
// so it bounds what any audit with this judge can show (e.g. a judge that reads gray as "1" can never
// see a forgotten 1 as forgotten).
#include <cmath>
#include <cstdio>
#include <random>

#include "engine/run/driver.h"
#include "experiments/audit/cvae_audit.h"

namespace {

struct Options {
  std::string judge = kDefaultJudgePath;
  int images = 1000;
};

void report(Backend& be, Judge& judge, const char* name, const std::vector<float>& x, int n) {
  Buffer<float> dev(be, x.size());
  dev.upload(be, x);
  const std::vector<float> p = judge_probabilities(be, judge, dev.data(), n);
  const int k = judge.classes();
  std::vector<double> mean_p(k, 0.0);
  std::vector<int> argmax_count(k, 0);
  double entropy = 0;
  for (int i = 0; i < n; ++i) {
    const float* row = p.data() + static_cast<size_t>(i) * k;
    int best = 0;
    for (int c = 0; c < k; ++c) {
      mean_p[c] += row[c] / n;
      if (row[c] > row[best]) best = c;
      if (row[c] > 0) entropy -= row[c] * std::log(row[c]) / n;
    }
    ++argmax_count[best];
  }
  std::printf("| %s | %.2f |", name, entropy);
  for (int c = 0; c < k; ++c) std::printf(" %.3f |", mean_p[c]);
  for (int c = 0; c < k; ++c) std::printf(" %d", argmax_count[c]);
  std::printf(" |\n");
}

int probe(const Options& o, Driver& d) {
  Backend be = d.backend();
  std::unique_ptr<Judge> judge = load_judge(be, o.judge, true);
  const int n = o.images;
  std::vector<float> x(static_cast<size_t>(n) * Judge::kPixels);
  std::printf("judge %s on %d images of each kind (8-bit levels, as the audit sees samples)\n\n", o.judge.c_str(), n);
  const bool no_digit = judge->classes() > Judge::kNoDigit;
  std::printf("| image | mean entropy (nats) | p(0) | p(1) | p(2) | p(3) | p(4) | p(5) | p(6) | p(7) | p(8) | p(9) |%s "
              "argmax counts %s |\n|---|---|---|---|---|---|---|---|---|---|---|---|%s---|\n",
              no_digit ? " p(no digit) |" : "", no_digit ? "0-9, no digit" : "0-9", no_digit ? "---|" : "");
  for (float level : {0.0f, 0.5f, 1.0f}) {
    std::fill(x.begin(), x.end(), level);
    quantize_8bit(x);
    char name[32];
    std::snprintf(name, sizeof name, "flat %.1f", level);
    report(be, *judge, name, x, n);
  }
  std::mt19937_64 rng(d.seed());
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& v : x) v = uniform(rng);
  quantize_8bit(x);
  report(be, *judge, "uniform noise", x, n);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  Driver d("judge_probe", "The judge's verdict on featureless images (blank, flat gray, white, uniform noise): "
                          "what a fully forgotten row can score under this judge (the table goes to stdout).",
           {"", "runs/judge_probe"});
  Cli& cli = d.cli();
  cli.add("judge", &o.judge, "judge checkpoint (sa_judge)");
  cli.add("images", &o.images, "images of each kind (noise differs per image)", 1, 1000000);
  return d.main(argc, argv, [&](Driver& d) { return probe(o, d); });
}
