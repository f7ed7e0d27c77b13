#include "experiments/audit/audit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

std::vector<ClassAudit> summarize_judgement(const std::vector<float>& probs, const std::vector<int>& labels, int n_class,
                                            const std::vector<int>& forgotten) {
  if (probs.size() != labels.size() * n_class) throw std::runtime_error("summarize_judgement: size mismatch");
  std::vector<ClassAudit> out(n_class);
  for (int d = 0; d < n_class; ++d) {
    out[d].digit = d;
    out[d].forgotten = std::find(forgotten.begin(), forgotten.end(), d) != forgotten.end();
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* p = probs.data() + i * n_class;
    ClassAudit& a = out[labels[i]];
    double entropy = 0;
    for (int k = 0; k < n_class; ++k)
      if (p[k] > 0) entropy -= p[k] * std::log(static_cast<double>(p[k]));
    a.samples += 1;
    a.accuracy += (std::max_element(p, p + n_class) - p) == labels[i] ? 1.0f : 0.0f;
    a.mean_prob += p[labels[i]];
    a.mean_entropy += static_cast<float>(entropy);
  }
  for (ClassAudit& a : out) {
    float n = a.samples ? static_cast<float>(a.samples) : 1.0f;
    a.accuracy /= n;
    a.mean_prob /= n;
    a.mean_entropy /= n;
  }
  return out;
}

void quantize_8bit(std::vector<float>& images) {
  for (float& v : images) v = std::round(std::clamp(v, 0.0f, 1.0f) * 255.0f) / 255.0f;
}

namespace {
std::string cells(const ClassAudit& a) {
  char buf[96];
  std::snprintf(buf, sizeof buf, " %.2f %% | %.3f | %.2f |", 100.0f * a.accuracy, a.mean_prob, a.mean_entropy);
  return buf;
}
}  // namespace

std::string audit_markdown(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after) {
  bool pair = !after.empty();
  std::string s = pair ? "| digit | status | before: acc | p(digit) | entropy | after: acc | p(digit) | entropy |\n"
                         "|---|---|---|---|---|---|---|---|\n"
                       : "| digit | status | judge acc | p(digit) | entropy (nats) |\n|---|---|---|---|---|\n";
  for (size_t d = 0; d < before.size(); ++d) {
    s += "| " + std::to_string(before[d].digit) + " | " + (before[d].forgotten ? "forgotten" : "remembered") + " |";
    s += cells(before[d]);
    if (pair) s += cells(after[d]);
    s += "\n";
  }
  return s;
}

void write_audit_csv(const std::string& path, const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << "digit,status,model,samples,accuracy,mean_prob,mean_entropy\n";
  auto rows = [&](const std::vector<ClassAudit>& a, const char* model) {
    for (const ClassAudit& c : a)
      f << c.digit << ',' << (c.forgotten ? "forgotten" : "remembered") << ',' << model << ',' << c.samples << ','
        << c.accuracy << ',' << c.mean_prob << ',' << c.mean_entropy << '\n';
  };
  rows(before, "before");
  rows(after, "after");
}

float mean_over(const std::vector<ClassAudit>& a, bool forgotten, float ClassAudit::*field) {
  double s = 0;
  int n = 0;
  for (const ClassAudit& c : a)
    if (c.forgotten == forgotten) { s += c.*field; ++n; }
  return n ? static_cast<float>(s / n) : 0.0f;
}

float min_over(const std::vector<ClassAudit>& a, bool forgotten, float ClassAudit::*field) {
  float m = 1e30f;
  for (const ClassAudit& c : a)
    if (c.forgotten == forgotten) m = std::min(m, c.*field);
  return m;
}
