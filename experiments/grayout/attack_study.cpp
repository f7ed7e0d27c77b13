#include "experiments/grayout/attack_study.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "engine/png.h"
#include "engine/progress.h"
#include "engine/write_file.h"

namespace {

constexpr int kSide = 28;

// The first `columns` images of a batch, appended to a grid under construction.
void append_grid_row(std::vector<float>& grid, const std::vector<float>& images, int columns) {
  grid.insert(grid.end(), images.begin(), images.begin() + static_cast<size_t>(columns) * kSide * kSide);
}

}  // namespace

const char* goal_name(AttackGoal g) { return g == AttackGoal::Prototype ? "prototype" : "judge"; }
const char* label_start_name(LabelStart s) { return s == LabelStart::Forgotten ? "one-hot" : "uniform"; }

AttackStudy run_attack_study(Backend& be, Cvae& original, Cvae& unlearned, Judge& judge,
                             const std::vector<int>& forgotten, const AttackStudyConfig& cfg,
                             const std::string& out_dir) {
  AttackStudy study;
  const int columns = std::min(cfg.grid_columns, cfg.starts);
  std::vector<float> grid;
  const int total = static_cast<int>(forgotten.size() * cfg.label_starts.size()) * 4;
  Progress progress("attacks", total);
  int done = 0;
  for (int digit : forgotten) {
    Buffer<float> prototypes = draw_prototypes(be, original, digit, cfg.starts, cfg.seed + 2000 + digit);
    std::vector<float> host = prototypes.download(be);
    auto [hit, p] = judge_hits(be, judge, host, digit);
    study.prototypes.push_back({digit, hit, p});
    append_grid_row(grid, host, columns);
    for (LabelStart start : cfg.label_starts)
      for (AttackGoal goal : {AttackGoal::Prototype, AttackGoal::Judge})
        for (bool on_original : {false, true}) {
          AttackConfig ac;
          ac.goal = goal;
          ac.label_start = start;
          ac.target = digit;
          ac.starts = cfg.starts;
          ac.steps = cfg.steps;
          ac.lr = cfg.lr;
          ac.seed = cfg.seed + 1000 + digit;  // the same starting z for both models
          AttackRow row{digit, goal, start, on_original, attack_decoder(be, on_original ? original : unlearned, judge,
                                                                        prototypes.data(), ac)};
          append_grid_row(grid, row.result.images, columns);
          char line[160];
          std::snprintf(line, sizeof line, "digit %d %s from %s on %s: success %.1f %%", digit, goal_name(goal),
                        label_start_name(start), on_original ? "original" : "unlearned",
                        100.0f * row.result.success_rate);
          progress.update(++done, line);
          study.rows.push_back(std::move(row));
        }
  }
  progress.finish("");
  write_image_grid(out_dir + "/attack.png", grid.data(), static_cast<int>(grid.size() / (kSide * kSide)), 1, kSide,
                   kSide, columns, 2, 2);
  return study;
}

std::string attack_markdown(const AttackStudy& s, const AttackStudyConfig& cfg) {
  std::string md;
  char line[256];
  std::snprintf(line, sizeof line,
                "Decoder attacks: %d starts, %d Adam steps at lr %g on z and the label logits y (label = softmax(y)).\n"
                "Success = the judge's argmax on the final 8-bit image is the forgotten digit.\n\n",
                cfg.starts, cfg.steps, cfg.lr);
  md += line;
  md += "| digit | attack | label start | model | loss start -> end | success | mean p(digit) | label mass |\n";
  md += "|---|---|---|---|---|---|---|---|\n";
  for (const AttackRow& r : s.rows) {
    const AttackResult& a = r.result;
    std::snprintf(line, sizeof line, "| %d | %s | %s | %s | %.3g -> %.3g | %.1f %% | %.3f | %.3f |\n", r.digit,
                  goal_name(r.goal), label_start_name(r.label_start), r.on_original ? "original (control)" : "unlearned",
                  a.loss_first, a.loss_final, 100.0f * a.success_rate, a.mean_p_target, a.mean_label_mass);
    md += line;
  }
  md += "\nJudge on the prototypes themselves (drawn from the original model): ";
  for (const PrototypeCheck& p : s.prototypes) {
    std::snprintf(line, sizeof line, "digit %d: %.1f %% recognised, mean p %.3f; ", p.digit, 100.0f * p.hit_rate, p.mean_p);
    md += line;
  }
  md += "\n\nLabel mass = mean softmax(y)[digit] at the end. Attack loss: summed squared pixel error to the prototype, "
        "or the judge's cross-entropy for the digit, per start.\n"
        "attack.png rows, per digit: prototypes; then for each label start: prototype attack on the unlearned model, "
        "on the original; judge attack on the unlearned model, on the original.\n";
  return md;
}

void write_attack_report(const AttackStudy& s, const AttackStudyConfig& cfg, const std::string& out_dir) {
  const std::string md = attack_markdown(s, cfg);
  std::printf("\n%s", md.c_str());
  write_file(out_dir + "/attack.md", md);
  std::ostringstream csv;
  csv << "digit,attack,label_start,model,starts,steps,loss_start,loss_end,success_rate,mean_p_digit,label_mass\n";
  for (const AttackRow& r : s.rows) {
    const AttackResult& a = r.result;
    csv << r.digit << ',' << goal_name(r.goal) << ',' << label_start_name(r.label_start) << ','
        << (r.on_original ? "original" : "unlearned") << ',' << cfg.starts << ',' << cfg.steps << ',' << a.loss_first
        << ',' << a.loss_final << ',' << a.success_rate << ',' << a.mean_p_target << ',' << a.mean_label_mass << '\n';
  }
  write_file(out_dir + "/attack.csv", csv.str());
}
