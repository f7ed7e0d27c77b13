// Attacks on an unlearned decoder (reference 001, "Attack the Unlearned Model"): the CVAE is frozen and its
// inputs are optimised instead, z (z_dim) and label logits y (n_class; the decoder is fed softmax(y)), with
// Adam, for a batch of independent random starts. Two goals:
//   prototype  sum over pixels of (decoder(z, softmax(y)) - prototype)^2, each start with its own prototype,
//              a sample of the forgotten digit drawn from the ORIGINAL model (draw_prototypes);
//   judge      the judge's cross-entropy for the forgotten digit on decoder(z, softmax(y)).
// A start succeeds when the judge's most probable class for its final image (rounded to 8 bits, as the audit
// does) is the forgotten digit. The same attack on the original model is the control.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "models/cvae.h"
#include "models/judge.h"

enum class AttackGoal { Prototype, Judge };
// Where y starts: a logit gap of kOneHotLogit on the forgotten digit (softmax ~0.94 there), or all zeros (uniform).
enum class LabelStart { Forgotten, Uniform };

struct AttackConfig {
  AttackGoal goal = AttackGoal::Judge;
  LabelStart label_start = LabelStart::Forgotten;
  int target = 0;  // the forgotten digit
  int starts = 64, steps = 500;
  float lr = 0.05f;
  uint64_t seed = 1;  // the starting z
  static constexpr float kOneHotLogit = 5.0f;
};

struct AttackResult {
  float loss_first = 0, loss_final = 0;       // mean loss per start at the starting and at the final inputs
  float success_rate = 0, mean_p_target = 0;  // the judge on the final images
  float mean_label_mass = 0;                  // mean softmax(y)[target] at the end: how much the label still names it
  std::vector<float> images;                  // starts x x_dim final images (host)
};

// `prototypes` (starts x x_dim on the device) is read by the prototype goal only and may be null for the
// judge goal. The model's parameter gradients are used as scratch (a frozen model never steps), and so are
// the judge's.
AttackResult attack_decoder(Backend& be, Cvae& model, Judge& judge, const float* prototypes, const AttackConfig& cfg);
// `count` decoder-mean images of `digit` from `model` (z ~ N(0, I) from its own seed), on the device.
Buffer<float> draw_prototypes(const Backend& be, Cvae& model, int digit, int count, uint64_t seed);
// Judge verdicts on images (n x 784 on the host, rounded to 8 bits first): the fraction whose argmax is
// `target` and the mean probability of `target`.
std::pair<float, float> judge_hits(Backend& be, Judge& judge, std::vector<float> images, int target);
