#include "experiments/audit/audit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "engine/write_file.h"

std::vector<ClassAudit> blank_audit(int n_class, const std::vector<int>& forgotten) {
  std::vector<ClassAudit> out(n_class);
  for (int d = 0; d < n_class; ++d) {
    out[d].digit = d;
    out[d].forgotten = std::find(forgotten.begin(), forgotten.end(), d) != forgotten.end();
  }
  return out;
}

std::vector<ClassAudit> summarize_judgement(const std::vector<float>& probs, const std::vector<int>& labels, int n_class,
                                            const std::vector<int>& forgotten) {
  if (probs.size() != labels.size() * n_class) throw std::runtime_error("summarize_judgement: size mismatch");
  std::vector<ClassAudit> out = blank_audit(n_class, forgotten);
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
    a.scored = true;
    a.accuracy /= n;
    a.mean_prob /= n;
    a.mean_entropy /= n;
  }
  return out;
}

void add_reading(std::vector<ClassAudit>& audit, const std::vector<float>& probs11, const std::vector<int>& labels) {
  const int k = static_cast<int>(audit.size()) + 1, none = k - 1;
  if (probs11.size() != labels.size() * k) throw std::runtime_error("add_reading: size mismatch");
  std::vector<int> counts(audit.size(), 0);
  for (ClassAudit& a : audit) a.as_self = a.as_none = a.as_other = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* p = probs11.data() + i * k;
    const int guess = static_cast<int>(std::max_element(p, p + k) - p);
    ClassAudit& a = audit[labels[i]];
    ++counts[labels[i]];
    (guess == labels[i] ? a.as_self : guess == none ? a.as_none : a.as_other) += 1;
  }
  for (size_t d = 0; d < audit.size(); ++d) {
    ClassAudit& a = audit[d];
    const float n = counts[d] ? static_cast<float>(counts[d]) : 1.0f;
    a.samples = counts[d];
    a.read = true;
    a.as_self /= n;
    a.as_none /= n;
    a.as_other /= n;
  }
}

void quantize_8bit(std::vector<float>& images) {
  for (float& v : images) v = std::round(std::clamp(v, 0.0f, 1.0f) * 255.0f) / 255.0f;
}

namespace {
// The columns of one model: the 10-class metrics and the 11-way reading, each when measured.
std::string header(const ClassAudit& a, const std::string& model) {
  std::string s;
  if (a.scored) s += " " + model + "acc | p(digit) | entropy |";
  if (a.read) s += " " + model + "as itself | no digit | other digit |";
  return s;
}

std::string cells(const ClassAudit& a) {
  char buf[160];
  std::string s;
  if (a.scored) {
    std::snprintf(buf, sizeof buf, " %.2f %% | %.3f | %.2f |", 100.0f * a.accuracy, a.mean_prob, a.mean_entropy);
    s += buf;
  }
  if (a.read) {
    std::snprintf(buf, sizeof buf, " %.1f %% | %.1f %% | %.1f %% |", 100.0f * a.as_self, 100.0f * a.as_none,
                  100.0f * a.as_other);
    s += buf;
  }
  return s;
}
}  // namespace

std::string audit_markdown(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after) {
  if (before.empty()) return "";
  const bool pair = !after.empty();
  std::string head = "| digit | status |" + header(before[0], pair ? "before: " : "") +
                     (pair ? header(after[0], "after: ") : "");
  std::string s = head + "\n|";
  for (long i = 1; i < std::count(head.begin(), head.end(), '|'); ++i) s += "---|";
  s += "\n";
  for (size_t d = 0; d < before.size(); ++d) {
    s += "| " + std::to_string(before[d].digit) + " | " + (before[d].forgotten ? "forgotten" : "remembered") + " |";
    s += cells(before[d]);
    if (pair) s += cells(after[d]);
    s += "\n";
  }
  return s;
}

void write_audit_csv(const std::string& path, const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after) {
  std::ostringstream f;
  // Columns of a judge that was not used stay empty.
  f << "digit,status,model,samples,accuracy,mean_prob,mean_entropy,read_as_self,read_as_no_digit,read_as_other\n";
  auto rows = [&](const std::vector<ClassAudit>& a, const char* model) {
    for (const ClassAudit& c : a) {
      f << c.digit << ',' << (c.forgotten ? "forgotten" : "remembered") << ',' << model << ',' << c.samples << ',';
      if (c.scored) f << c.accuracy << ',' << c.mean_prob << ',' << c.mean_entropy << ',';
      else f << ",,,";
      if (c.read) f << c.as_self << ',' << c.as_none << ',' << c.as_other << '\n';
      else f << ",,\n";
    }
  };
  rows(before, "before");
  rows(after, "after");
  write_file(path, f.str());
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
