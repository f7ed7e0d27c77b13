#include "experiments/audit/cvae_audit.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "models/cvae_sampling.h"

std::unique_ptr<Judge> load_judge(const Backend& be, const std::string& path, bool required) {
  if (!std::filesystem::exists(path)) {
    if (required) throw std::runtime_error(path + ": no such judge checkpoint (train one with sa_judge)");
    std::printf("note: no judge at %s (train one with sa_judge); the audit is skipped\n", path.c_str());
    return nullptr;
  }
  auto judge = std::make_unique<Judge>(be, 0);
  judge->load(be, path);
  return judge;
}

AuditResult audit_cvae(const Backend& be, Cvae& model, Judge& judge, int per_digit, const std::vector<int>& forgotten,
                       uint64_t seed) {
  Backend draw = be;  // its own seed, so every model is audited on the same z draws
  draw.seed = seed;
  draw.rng_counter = 0;
  std::vector<int> labels = digit_major_labels(model.config().n_class, per_digit);
  std::vector<float> images = sample_images_host(draw, model, labels);
  quantize_8bit(images);
  Buffer<float> dev(be, images.size());
  dev.upload(be, images);
  std::vector<float> probs = judge_probabilities(draw, judge, dev.data(), static_cast<int>(labels.size()));
  return {summarize_judgement(probs, labels, model.config().n_class, forgotten)};
}

std::vector<ClassAudit> judge_on_gray(Backend& be, Judge& judge, int n_class, const std::vector<int>& forgotten) {
  std::vector<float> images(static_cast<size_t>(n_class) * Judge::kPixels, 0.5f);
  quantize_8bit(images);
  Buffer<float> dev(be, images.size());
  dev.upload(be, images);
  std::vector<float> probs = judge_probabilities(be, judge, dev.data(), n_class);
  return summarize_judgement(probs, digit_major_labels(n_class, 1), n_class, forgotten);
}

void report_audit(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after,
                  const std::vector<ClassAudit>& gray, const std::string& out_dir) {
  const bool pair = !after.empty();
  const bool any_forgotten = std::any_of(before.begin(), before.end(), [](const ClassAudit& c) { return c.forgotten; });
  std::string md = audit_markdown(before, after);
  char line[256];
  if (any_forgotten) {
    // gray holds one row per digit, each with the judge's p(that digit) on the same gray image.
    const ClassAudit& read_as = *std::max_element(gray.begin(), gray.end(), [](const ClassAudit& a, const ClassAudit& b) {
      return a.mean_prob < b.mean_prob;
    });
    std::snprintf(line, sizeof line,
                  "\nYardstick: the judge on a flat gray image (the surrogate's mean) gives entropy %.2f nats and "
                  "p(digit) %.3f averaged over the forgotten digits, and reads it as a %d (p %.3f).\n",
                  mean_over(gray, true, &ClassAudit::mean_entropy), mean_over(gray, true, &ClassAudit::mean_prob),
                  read_as.digit, read_as.mean_prob);
    md += line;
  }
  std::printf("\nJudge audit%s:\n%s", pair ? " (before -> after forgetting)" : "", md.c_str());
  // "a -> b" for a before/after pair, just "a" for one model.
  auto span = [&](float ClassAudit::*field, bool forgotten, float scale, const char* fmt,
                  float (*over)(const std::vector<ClassAudit>&, bool, float ClassAudit::*)) {
    char a[32], b[32];
    std::snprintf(a, sizeof a, fmt, scale * over(before, forgotten, field));
    if (!pair) return std::string(a);
    std::snprintf(b, sizeof b, fmt, scale * over(after, forgotten, field));
    return std::string(a) + " -> " + b;
  };
  if (any_forgotten)
    std::printf("forgotten digits: accuracy %s %%, entropy %s nats, p(digit) %s\n",
                span(&ClassAudit::accuracy, true, 100, "%.2f", mean_over).c_str(),
                span(&ClassAudit::mean_entropy, true, 1, "%.2f", mean_over).c_str(),
                span(&ClassAudit::mean_prob, true, 1, "%.3f", mean_over).c_str());
  std::printf("remembered digits: lowest accuracy %s %%\n", span(&ClassAudit::accuracy, false, 100, "%.2f", min_over).c_str());
  std::ofstream(out_dir + "/audit.md") << md;
  write_audit_csv(out_dir + "/audit.csv", before, after);
}

void audit_and_report(Backend& be, Judge& judge, Cvae* original, Cvae& model, int per_digit,
                      const std::vector<int>& forgotten, uint64_t seed, const std::string& out_dir) {
  std::vector<ClassAudit> audited = audit_cvae(be, model, judge, per_digit, forgotten, seed).classes;
  std::vector<ClassAudit> gray = judge_on_gray(be, judge, model.config().n_class, forgotten);
  if (!original) return report_audit(audited, {}, gray, out_dir);
  report_audit(audit_cvae(be, *original, judge, per_digit, forgotten, seed).classes, audited, gray, out_dir);
}
