// The judge's audit of a generative model: per class, how often the judge recognises the samples
// as the class they were drawn for, its mean probability for that class, and the mean entropy of
// its prediction (a forgotten class should give unrecognisable, high-entropy samples).
#pragma once
#include <string>
#include <vector>

struct ClassAudit {
  int digit = 0;
  bool forgotten = false;
  int samples = 0;
  float accuracy = 0, mean_prob = 0, mean_entropy = 0;  // entropy in nats
};

// probs: labels.size() x n_class judge probabilities for samples drawn with `labels`.
std::vector<ClassAudit> summarize_judgement(const std::vector<float>& probs, const std::vector<int>& labels, int n_class,
                                            const std::vector<int>& forgotten);
// Rounds images to 8-bit levels, as the official audit does by saving PNGs and reloading them.
void quantize_8bit(std::vector<float>& images);
// Markdown table of one audit, or of two side by side (before | after) when `after` is not empty.
std::string audit_markdown(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after = {});
void write_audit_csv(const std::string& path, const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after);
// Mean of a column over the forgotten (or remembered) classes.
float mean_over(const std::vector<ClassAudit>& a, bool forgotten, float ClassAudit::*field);
float min_over(const std::vector<ClassAudit>& a, bool forgotten, float ClassAudit::*field);
