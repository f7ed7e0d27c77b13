#include "models/cvae_audit.h"

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
  char line[256];
  std::snprintf(line, sizeof line,
                "\nYardstick: the judge on a flat gray image (the surrogate's mean) gives entropy %.2f nats and "
                "p(digit) %.3f averaged over the forgotten digits.\n",
                mean_over(gray, true, &ClassAudit::mean_entropy), mean_over(gray, true, &ClassAudit::mean_prob));
  std::string md = audit_markdown(before, after) + line;
  std::printf("\nJudge audit (before -> after forgetting):\n%s", md.c_str());
  std::printf("forgotten digits: accuracy %.2f %% -> %.2f %%, entropy %.2f -> %.2f nats, p(digit) %.3f -> %.3f\n",
              100 * mean_over(before, true, &ClassAudit::accuracy), 100 * mean_over(after, true, &ClassAudit::accuracy),
              mean_over(before, true, &ClassAudit::mean_entropy), mean_over(after, true, &ClassAudit::mean_entropy),
              mean_over(before, true, &ClassAudit::mean_prob), mean_over(after, true, &ClassAudit::mean_prob));
  std::printf("remembered digits: lowest accuracy %.2f %% -> %.2f %%\n", 100 * min_over(before, false, &ClassAudit::accuracy),
              100 * min_over(after, false, &ClassAudit::accuracy));
  std::ofstream(out_dir + "/audit.md") << md;
  write_audit_csv(out_dir + "/audit.csv", before, after);
}
