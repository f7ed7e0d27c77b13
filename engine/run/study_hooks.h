// What a driver watches in a multi-phase study run (the forgetting and unlearning studies train through
// several phases inside study code): one callback type for all of them. Every hook may be left empty.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

template <class Eval, class Model>
struct StudyHooks {
  std::function<void(const Eval&)> on_eval;  // each evaluation, in the order made
  // Each model a study hands out at a named stage (the end of a phase, a new best), with the
  // evaluation it was judged by.
  std::function<void(const std::string& stage, Model& model, const Eval&)> on_model;
  // After every step: done of total steps over the whole study, and a short status line refreshed at
  // each evaluation (so no step waits on a device-to-host read).
  std::function<void(int64_t done, int64_t total, const std::string& status)> on_step;
  std::function<bool()> stop;  // polled after every step; true ends the study early
};
