// The judges' audit of a generative model, per class. Under the paper's 10-class judge: how often it
// recognises the samples as the class they were drawn for, its mean probability for that class and
// the mean entropy of its prediction. Under the 11-way judge (with "no digit"): the fraction of the
// samples read as their own class, as "no digit" and as another class, which tells a forgotten class
// (no digit drawn) from one drawn as something else.
#pragma once
#include <string>
#include <vector>

struct ClassAudit {
  int digit = 0;
  bool forgotten = false;
  int samples = 0;
  bool scored = false;                                   // the 10-class metrics below were measured
  float accuracy = 0, mean_prob = 0, mean_entropy = 0;  // entropy in nats (10-class judge)
  bool read = false;                                     // the 11-way reading below was measured
  float as_self = 0, as_none = 0, as_other = 0;          // fractions of the samples (11-way judge)
};

// One entry per class, nothing measured yet.
std::vector<ClassAudit> blank_audit(int n_class, const std::vector<int>& forgotten);
// probs: labels.size() x n_class judge probabilities for samples drawn with `labels`.
std::vector<ClassAudit> summarize_judgement(const std::vector<float>& probs, const std::vector<int>& labels, int n_class,
                                            const std::vector<int>& forgotten);
// Fills the 11-way reading of `audit` (one entry per class, as summarize_judgement returns) from an
// 11-way judge's probabilities (labels.size() x (n_class + 1), the last column "no digit").
void add_reading(std::vector<ClassAudit>& audit, const std::vector<float>& probs11, const std::vector<int>& labels);
// Rounds images to 8-bit levels, as the official audit does by saving PNGs and reloading them.
void quantize_8bit(std::vector<float>& images);
// Markdown table of one audit, or of two side by side (before | after) when `after` is not empty;
// the 11-way columns appear when the reading was measured.
std::string audit_markdown(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after = {});
void write_audit_csv(const std::string& path, const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after);
// Mean of a column over the forgotten (or remembered) classes.
float mean_over(const std::vector<ClassAudit>& a, bool forgotten, float ClassAudit::*field);
float min_over(const std::vector<ClassAudit>& a, bool forgotten, float ClassAudit::*field);
