// Training the Selective Amnesia judge, 10-way or with the 11th "no digit" class: epochs of Adam under
// a step decay (PyTorch's StepLR, stepped per epoch), a test-set evaluation, a CSV row and a checkpoint
// after every epoch, and the held-out report at the end. sa_judge is its driver.
#pragma once
#include "engine/run/driver.h"

struct JudgeRecipe {
  int epochs = 16, batch = 64, lr_step = 8;
  float lr = 1e-3f, lr_gamma = 0.1f;
  float dropout = -1.0f;  // -1: Judge::kDropout (0.5), or 0.2 with no_digit_class
  bool no_digit_class = false;
};

// Trains on --data's MNIST and writes judge.safetensors (marked interrupted when stopped early),
// judge.csv and held_out.{md,csv} into d.out(). Returns the process exit code.
int train_judge(const JudgeRecipe& r, Driver& d);
