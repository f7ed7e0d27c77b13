// The attack part of the gray-out study: for each forgotten digit, both decoder attacks (prototype and
// judge-guided) from each label start, on the unlearned model and, as the control, on the original one,
// all from the same starting z; then the report files attack.md, attack.csv and attack.png.
#pragma once
#include <string>
#include <vector>

#include "experiments/grayout/decoder_attack.h"

struct AttackStudyConfig {
  int starts = 64, steps = 500;
  float lr = 0.05f;
  std::vector<LabelStart> label_starts = {LabelStart::Forgotten, LabelStart::Uniform};
  uint64_t seed = 0;
  int grid_columns = 10;  // starts shown per row of attack.png
};

struct AttackRow {
  int digit = 0;
  AttackGoal goal = AttackGoal::Judge;
  LabelStart label_start = LabelStart::Forgotten;
  bool on_original = false;  // the control
  AttackResult result;
};

// The judge on the prototypes themselves (a ceiling for the prototype attack), one entry per digit.
struct PrototypeCheck {
  int digit = 0;
  float hit_rate = 0, mean_p = 0;
};

struct AttackStudy {
  std::vector<AttackRow> rows;
  std::vector<PrototypeCheck> prototypes;
};

// Runs every attack (printing one line each) and writes attack.png into out_dir: per digit, a row of
// prototypes, then for each label start the prototype attack on the unlearned and on the original model,
// then the judge attack on the unlearned and on the original model.
AttackStudy run_attack_study(Backend& be, Cvae& original, Cvae& unlearned, Judge& judge,
                             const std::vector<int>& forgotten, const AttackStudyConfig& cfg, const std::string& out_dir);
// attack.md (the table, printed too) and attack.csv.
std::string attack_markdown(const AttackStudy& s, const AttackStudyConfig& cfg);
void write_attack_report(const AttackStudy& s, const AttackStudyConfig& cfg, const std::string& out_dir);
const char* goal_name(AttackGoal g);
const char* label_start_name(LabelStart s);
