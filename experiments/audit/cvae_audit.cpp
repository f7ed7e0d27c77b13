#include "experiments/audit/cvae_audit.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "engine/cli.h"
#include "engine/write_file.h"
#include "models/cvae_sampling.h"

std::unique_ptr<Judge> load_judge(const Backend& be, const std::string& path, bool required, int classes) {
  if (!std::filesystem::exists(path)) {
    if (required) throw std::runtime_error(path + ": no such judge checkpoint (train one with sa_judge)");
    std::printf("note: no judge at %s (train one with sa_judge%s); its part of the audit is skipped\n", path.c_str(),
                classes == Judge::kDigits + 1 ? " --no-digit-class" : "");
    return nullptr;
  }
  const int recorded = Judge::classes_in(path);
  if (classes && recorded != classes)
    throw std::runtime_error(path + ": a " + std::to_string(recorded) + "-class judge where a " +
                             std::to_string(classes) + "-class one is needed");
  auto judge = std::make_unique<Judge>(be, 0, recorded);
  judge->load(be, path);
  return judge;
}

AuditJudges load_audit_judges(const Backend& be, const std::string& judge, const std::string& judge11) {
  AuditJudges j;
  j.digits = load_judge(be, judge.empty() ? kDefaultJudgePath : judge, !judge.empty(), Judge::kDigits);
  j.no_digit = load_judge(be, judge11.empty() ? kDefaultJudge11Path : judge11, !judge11.empty(), Judge::kDigits + 1);
  return j;
}

void add_audit_flags(Cli& cli, AuditFlags& f, const std::string& samples_flag) {
  cli.add("judge", &f.judge, std::string("10-class judge (sa_judge); default ") + kDefaultJudgePath +
          ", its readings (and what needs them) skipped if that is absent");
  cli.add("judge11", &f.judge11, std::string("11-way judge with \"no digit\" (sa_judge --no-digit-class), for the "
          "verdict; default ") + kDefaultJudge11Path + ", skipped if that is absent");
  cli.add(samples_flag, &f.samples, "samples per digit in the audit", 1, 1000000);
}

AuditJudges load_audit_judges(const Backend& be, const AuditFlags& f) { return load_audit_judges(be, f.judge, f.judge11); }

std::vector<ClassAudit> audit_cvae(const Backend& be, Cvae& model, AuditJudges& judges, int per_digit,
                                   const std::vector<int>& forgotten, uint64_t seed) {
  Backend draw = be;  // its own seed, so every model is audited on the same z draws
  draw.seed = seed;
  draw.rng_counter = 0;
  const int n_class = model.config().n_class;
  std::vector<int> labels = digit_major_labels(n_class, per_digit);
  std::vector<float> images = sample_images_host(draw, model, labels);
  quantize_8bit(images);
  Buffer<float> dev(be, images.size());
  dev.upload(be, images);
  const int n = static_cast<int>(labels.size());
  std::vector<ClassAudit> out = blank_audit(n_class, forgotten);
  if (judges.digits) out = summarize_judgement(judge_probabilities(draw, *judges.digits, dev.data(), n), labels, n_class, forgotten);
  if (judges.no_digit) add_reading(out, judge_probabilities(draw, *judges.no_digit, dev.data(), n), labels);
  return out;
}

std::vector<ClassAudit> judge_on_gray(Backend& be, Judge& judge, int n_class, const std::vector<int>& forgotten) {
  std::vector<float> images(static_cast<size_t>(n_class) * Judge::kPixels, 0.5f);
  quantize_8bit(images);
  Buffer<float> dev(be, images.size());
  dev.upload(be, images);
  std::vector<float> probs = judge_probabilities(be, judge, dev.data(), n_class);
  return summarize_judgement(probs, digit_major_labels(n_class, 1), n_class, forgotten);
}

namespace {
// Under the table: the 10-class judge's reading of flat gray, and the paper's metrics summed up.
std::string paper_summary(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after,
                          const std::vector<ClassAudit>& gray, bool any_forgotten) {
  const bool pair = !after.empty();
  std::string s;
  char line[256];
  if (any_forgotten && !gray.empty()) {
    // gray holds one row per digit, each with the judge's p(that digit) on the same gray image.
    const ClassAudit& read_as = *std::max_element(gray.begin(), gray.end(), [](const ClassAudit& a, const ClassAudit& b) {
      return a.mean_prob < b.mean_prob;
    });
    std::snprintf(line, sizeof line,
                  "\nYardstick: the 10-class judge on a flat gray image (the surrogate's mean) gives entropy %.2f nats "
                  "and p(digit) %.3f averaged over the forgotten digits, and reads it as a %d (p %.3f).\n",
                  mean_over(gray, true, &ClassAudit::mean_entropy), mean_over(gray, true, &ClassAudit::mean_prob),
                  read_as.digit, read_as.mean_prob);
    s += line;
  }
  if (before.empty() || !before[0].scored) return s;
  // "a -> b" for a before/after pair, just "a" for one model.
  auto span = [&](float ClassAudit::*field, bool forgotten, float scale,
                  float (*over)(const std::vector<ClassAudit>&, bool, float ClassAudit::*)) {
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%.3g", scale * over(before, forgotten, field));
    if (!pair) return std::string(a);
    std::snprintf(b, sizeof b, "%.3g", scale * over(after, forgotten, field));
    return std::string(a) + " -> " + b;
  };
  if (any_forgotten)
    s += "10-class judge, forgotten digits: accuracy " + span(&ClassAudit::accuracy, true, 100, mean_over) +
         " %, entropy " + span(&ClassAudit::mean_entropy, true, 1, mean_over) + " nats, p(digit) " +
         span(&ClassAudit::mean_prob, true, 1, mean_over) + "\n";
  s += "10-class judge, remembered digits: lowest accuracy " + span(&ClassAudit::accuracy, false, 100, min_over) + " %\n";
  return s;
}
}  // namespace

Verdict report_audit(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after,
                     const std::vector<ClassAudit>& gray, const std::string& out_dir) {
  const bool pair = !after.empty();
  const bool any_forgotten = std::any_of(before.begin(), before.end(), [](const ClassAudit& c) { return c.forgotten; });
  std::string md = audit_markdown(before, after) + paper_summary(before, after, gray, any_forgotten);
  const std::vector<ClassAudit>& audited = pair ? after : before;
  Verdict v;
  if (!audited.empty() && audited[0].read) {
    v = forgetting_verdict(audited, pair ? before : std::vector<ClassAudit>{});
    const std::string text = verdict_text(v);
    md += "\n" + text;
    write_file(out_dir + "/verdict.txt", text);
  } else {
    md += "\nVerdict: none (it needs the 11-way judge: sa_judge --no-digit-class)\n";
  }
  std::printf("\nAudit%s:\n%s", pair ? " (before -> after forgetting)" : "", md.c_str());
  write_file(out_dir + "/audit.md", md);
  write_audit_csv(out_dir + "/audit.csv", before, after);
  return v;
}

void audit_and_report(Backend& be, AuditJudges& judges, Cvae* original, Cvae& model, int per_digit,
                      const std::vector<int>& forgotten, uint64_t seed, const std::string& out_dir) {
  if (!judges) return;
  std::vector<ClassAudit> audited = audit_cvae(be, model, judges, per_digit, forgotten, seed);
  std::vector<ClassAudit> gray;
  if (judges.digits) gray = judge_on_gray(be, *judges.digits, model.config().n_class, forgotten);
  if (!original) {
    report_audit(audited, {}, gray, out_dir);
    return;
  }
  report_audit(audit_cvae(be, *original, judges, per_digit, forgotten, seed), audited, gray, out_dir);
}
