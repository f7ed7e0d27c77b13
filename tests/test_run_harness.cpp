// The run harness (engine/run/). End to end, through the real sa_train binary on synthetic digits: a
// fixed-seed loss curve equal to the one stored before the harness existed, SIGTERM leaving a loadable
// checkpoint and a complete loss.csv, a diverging run stopping without NaN weights, run.json; lntl's
// reused baseline. In process: the step loop's checkpoints, NaN guard and signals, schedules, best
// tracking, the CSV log, the shared checkpoint-kind check, and the epoch order Batcher and LntlTrainer share.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "engine/batcher.h"
#include "engine/checkpoint_kind.h"
#include "engine/cpu/blas_kernels.h"
#include "engine/json.h"
#include "engine/run/best_tracker.h"
#include "engine/run/csv_log.h"
#include "engine/run/driver.h"
#include "engine/run/lr_schedule.h"
#include "engine/run/step_loop.h"
#include "engine/safetensors.h"
#include "experiments/lntl/lntl_study.h"
#include "models/cvae.h"
#include "models/judge.h"
#include "tests/blob_digits.h"
#include "tests/temp_dir.h"

namespace {

// The drivers are built next to the test binary.
std::string built(const std::string& name) {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
}

void write_be32(std::ofstream& f, uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  f.write(reinterpret_cast<const char*>(b), 4);
}

// d as the IDX pair `<prefix>-images-idx3-ubyte` / `<prefix>-labels-idx1-ubyte` in dir.
void write_idx(const Dataset& d, const std::string& dir, const std::string& prefix) {
  std::ofstream img(dir + "/" + prefix + "-images-idx3-ubyte", std::ios::binary);
  write_be32(img, 0x803);
  write_be32(img, static_cast<uint32_t>(d.count));
  write_be32(img, 28);
  write_be32(img, 28);
  for (float v : d.images) img.put(static_cast<char>(static_cast<unsigned char>(std::lround(v * 255.0f))));
  std::ofstream lab(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary);
  write_be32(lab, 0x801);
  write_be32(lab, static_cast<uint32_t>(d.count));
  for (int l : d.labels) lab.put(static_cast<char>(l));
}

// An MNIST-shaped folder of blob digits (512 training, 100 test images).
std::string blob_mnist(const TempDir& t) {
  const std::string dir = t / "data";
  std::filesystem::create_directories(dir);
  write_idx(blob_dataset(512, 1), dir, "train");
  write_idx(blob_dataset(100, 2), dir, "t10k");
  return dir;
}

// Starts `program args...` with one OpenBLAS thread (the stored numbers are for one), its stdout
// and stderr going to log, and the environment changed by env (a null value unsets the variable).
pid_t spawn(const std::string& program, const std::vector<std::string>& args, const std::string& log,
            const std::map<std::string, const char*>& env = {}) {
  std::vector<std::string> argv_s = {program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    for (const auto& [var, value] : env) value ? setenv(var.c_str(), value, 1) : unsetenv(var.c_str());
    std::vector<char*> argv;
    for (std::string& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// The exit status, or 128 + the signal for a process the signal killed (as a shell reports it).
int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int run(const std::string& program, const std::vector<std::string>& args, const std::string& log,
        const std::map<std::string, const char*>& env = {}) {
  return wait_exit(spawn(program, args, log, env));
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The rows of a CSV file after its header, each split at commas.
std::vector<std::vector<std::string>> csv_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream text(read_text(path));
  std::string line;
  std::getline(text, line);
  while (std::getline(text, line)) {
    std::vector<std::string> fields;
    std::istringstream l(line);
    std::string f;
    while (std::getline(l, f, ',')) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

std::vector<std::string> sa_train_args(const std::string& data, const std::string& out) {
  return {"--device", "cpu", "--data", data, "--out", out, "--batch", "32", "--seed", "7"};
}

}  // namespace

// loss.csv of `sa_train --device cpu --batch 32 --seed 7 --steps 40 --log-every 2 --lr 1e-3` on
// blob_mnist() with OPENBLAS_NUM_THREADS=1, recorded from the sa_train of commit 13908cf, before the
// run harness: the harness must not change a single number of a training run.
const double kStoredLoss[] = {537.837, 509.191, 455.278, 417.664, 407.893, 389.03,  386.372,
                              384.546, 384.609, 386.352, 384.956, 385.471, 383.439, 380.886,
                              381.504, 382.266, 381.41,  380.352, 379.968, 379.463};

TEST_CASE("run harness: sa_train's loss curve at a fixed seed equals the stored one") {
  TempDir t("harness_curve");
  std::vector<std::string> args = sa_train_args(blob_mnist(t), t / "out");
  args.insert(args.end(), {"--steps", "40", "--log-every", "2", "--lr", "1e-3"});
  REQUIRE(run(built("sa_train"), args, t / "log") == 0);
  const auto rows = csv_rows(t / "out/loss.csv");
  REQUIRE(rows.size() == std::size(kStoredLoss));
  for (size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(std::stoi(rows[i].at(0)) == 2 * static_cast<int>(i + 1));
    // Printed with 6 digits; the margin allows for another CPU's BLAS kernels, not for a changed run.
    CHECK(std::stod(rows[i].at(1)) == doctest::Approx(kStoredLoss[i]).epsilon(2e-5));
  }

  // run.json: parseable, complete, with every flag's value.
  const std::string text = read_text(t / "out/run.json");
  const Json rec = parse_json(text.data(), text.data() + text.size(), "run.json");
  REQUIRE(rec.kind == Json::Object);
  CHECK(rec.get("program")->text == "sa_train");
  CHECK(rec.get("status")->text == "done");
  CHECK(rec.get("exit_code")->text == "0");
  CHECK(rec.get("device")->text == "cpu");
  CHECK(rec.get("flags")->get("steps")->text == "40");
  CHECK(rec.get("flags")->get("lr")->text == "0.00100000005");
  CHECK(rec.get("flags")->get("seed")->text == "7");
  CHECK_FALSE(rec.get("commit")->text.empty());
  CHECK(rec.get("threads")->get("OPENBLAS_NUM_THREADS")->text == "1");
  CHECK(std::stoi(rec.get("threads")->get("engine")->text) >= 1);  // the pool's size, as the run used it
  CHECK(rec.get("start")->kind == Json::String);
  CHECK(rec.get("end")->kind == Json::String);
}

TEST_CASE("run harness: SIGTERM mid-run leaves a loadable checkpoint marked interrupted and a complete loss.csv") {
  TempDir t("harness_sigterm");
  std::vector<std::string> args = sa_train_args(blob_mnist(t), t / "out");
  args.insert(args.end(), {"--steps", "100000000", "--log-every", "3", "--ckpt-every", "7"});
  const pid_t pid = spawn(built("sa_train"), args, t / "log");
  // Wait until it has logged a few steps (and so written a periodic checkpoint), then stop it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (csv_rows(t / "out/loss.csv").size() < 8 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(pid, SIGTERM);
  REQUIRE(wait_exit(pid) == 143);

  const auto rows = csv_rows(t / "out/loss.csv");
  REQUIRE(rows.size() >= 8);
  const std::string csv = read_text(t / "out/loss.csv");
  CHECK(csv.back() == '\n');  // no half-written last line
  for (size_t i = 0; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == 4);
    if (i + 1 < rows.size()) CHECK(std::stoi(rows[i][0]) == 3 * static_cast<int>(i + 1));
  }
  const std::string ckpt = t / "out/cvae.safetensors";
  std::map<std::string, std::string> meta;
  load_safetensors(ckpt, &meta);
  CHECK(meta["interrupted"] == "1");
  CHECK(meta["steps"] == rows.back()[0]);  // the log reaches the step it stopped after
  Backend be = make_backend("cpu", 0);
  Cvae model(be, cvae_config_of(ckpt), 0);
  model.load(be, ckpt);
  CHECK(all_finite(be, model.params().values(), model.params().size()));
  CHECK_FALSE(std::filesystem::exists(ckpt + ".tmp"));

  const std::string text = read_text(t / "out/run.json");
  const Json rec = parse_json(text.data(), text.data() + text.size(), "run.json");
  CHECK(rec.get("status")->text == "interrupted");
  CHECK(rec.get("exit_code")->text == "143");
}

TEST_CASE("run harness: a diverging run (lr 1) stops with an error naming the step and writes no NaN weights") {
  TempDir t("harness_nan");
  std::vector<std::string> args = sa_train_args(blob_mnist(t), t / "out");
  args.insert(args.end(), {"--steps", "300", "--lr", "1", "--log-every", "5", "--ckpt-every", "10"});
  REQUIRE(run(built("sa_train"), args, t / "log") == 3);
  const std::string log = read_text(t / "log");
  CHECK(log.find("sa_train: error: the loss") != std::string::npos);
  CHECK(log.find("non-finite") != std::string::npos);
  CHECK(log.find("at step") != std::string::npos);
  // Whatever checkpoint exists is an earlier, finite one.
  const std::string ckpt = t / "out/cvae.safetensors";
  if (std::filesystem::exists(ckpt)) {
    Backend be = make_backend("cpu", 0);
    Cvae model(be, cvae_config_of(ckpt), 0);
    model.load(be, ckpt);
    CHECK(all_finite(be, model.params().values(), model.params().size()));
  }
  const std::string text = read_text(t / "out/run.json");
  const Json rec = parse_json(text.data(), text.data() + text.size(), "run.json");
  CHECK(rec.get("status")->text == "diverged");
  CHECK(rec.get("error")->text.find("non-finite") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The harness's parts, in process.

namespace {

// A StepLoop over a scripted loss: losses[step - 1] is reported at each log step.
struct ScriptedLoop {
  FILE* quiet = std::fopen("/dev/null", "w");  // the progress lines
  ~ScriptedLoop() { std::fclose(quiet); }
  std::vector<double> losses;
  std::vector<int64_t> steps_run, saved;
  std::vector<bool> saved_interrupted;
  bool weights_ok = true;
  StepLoop loop(int64_t steps, int64_t log_every, int64_t ckpt_every) {
    StepLoop l;
    l.label = "test";
    l.progress = quiet;
    l.steps = steps;
    l.log_every = log_every;
    l.ckpt_every = ckpt_every;
    l.step = [this](int64_t s) { steps_run.push_back(s); };
    l.report = [this](int64_t s) { return StepReport{losses.at(s - 1), ""}; };
    l.save = [this](int64_t s, bool stopped) {
      saved.push_back(s);
      saved_interrupted.push_back(stopped);
    };
    l.weights_finite = [this] { return weights_ok; };
    return l;
  }
};

}  // namespace

TEST_CASE("run harness: the step loop checkpoints every ckpt_every steps and at the end") {
  ScriptedLoop s;
  s.losses.assign(10, 1.0);
  CHECK(run_steps(s.loop(10, 3, 4)).steps == 10);
  CHECK(s.steps_run.size() == 10);
  CHECK(s.saved == std::vector<int64_t>{4, 8, 10});
  CHECK(s.saved_interrupted == std::vector<bool>{false, false, false});
  ScriptedLoop exact;  // a final step that is a checkpoint step is saved once
  exact.losses.assign(8, 1.0);
  run_steps(exact.loop(8, 2, 4));
  CHECK(exact.saved == std::vector<int64_t>{4, 8});

  ScriptedLoop converged;  // a convergence rule ends the run early, complete, with a report and a save
  converged.losses.assign(100, 1.0);
  StepLoop loop = converged.loop(100, 10, 20);
  std::vector<int64_t> reported;
  loop.report = [&](int64_t step) {
    reported.push_back(step);
    return StepReport{1.0, ""};
  };
  loop.finished = [](int64_t step) { return step == 33; };
  const StepLoopEnd end = run_steps(loop);
  CHECK(end.steps == 33);
  CHECK_FALSE(end.interrupted);
  CHECK(reported == std::vector<int64_t>{10, 20, 30, 33});
  CHECK(converged.saved == std::vector<int64_t>{20, 33});
  CHECK(converged.saved_interrupted == std::vector<bool>{false, false});
}

TEST_CASE("run harness: a non-finite loss stops the loop with exit code 3, naming the step, saving nothing more") {
  ScriptedLoop s;
  s.losses.assign(20, 1.0);
  s.losses[14] = NAN;  // the mean over steps 11..15 reported at step 15
  try {
    run_steps(s.loop(20, 5, 10));
    FAIL("no error");
  } catch (const RunError& e) {
    CHECK(e.exit_code() == kExitDiverged);
    CHECK(std::string(e.what()) == "the loss (mean over steps 11..15) is non-finite (nan) at step 15; the checkpoint of "
                                   "step 10 is kept");
  }
  CHECK(s.saved == std::vector<int64_t>{10});
  CHECK(s.steps_run.size() == 15);

  ScriptedLoop inf;
  inf.losses.assign(4, INFINITY);
  CHECK_THROWS_WITH_AS(run_steps(inf.loop(4, 2, 0)), contains("at step 2; no checkpoint was written"), RunError);
  CHECK(inf.saved.empty());

  ScriptedLoop bad_weights;  // weights that went bad between reports are never written either
  bad_weights.losses.assign(6, 1.0);
  bad_weights.weights_ok = false;
  CHECK_THROWS_WITH_AS(run_steps(bad_weights.loop(6, 5, 3)),
                       contains("a weight is non-finite (nan) at step 3; no checkpoint was written"), RunError);
  CHECK(bad_weights.saved.empty());
}

TEST_CASE("run harness: SIGINT and SIGTERM stop after the current step, save marked interrupted, exit 130 / 143") {
  for (int sig : {SIGINT, SIGTERM}) {
    CAPTURE(sig);
    ScriptedLoop s;
    s.losses.assign(100, 1.0);
    StepLoop loop = s.loop(100, 5, 50);
    std::vector<int64_t> reported;
    loop.report = [&](int64_t step) {
      reported.push_back(step);
      return StepReport{1.0, ""};
    };
    loop.step = [&](int64_t step) {
      s.steps_run.push_back(step);
      if (step == 7) std::raise(sig);  // the process survives: run_guarded only records the request
    };
    int64_t done = 0;
    const int rc = run_guarded("test", [&] {
      const StepLoopEnd end = run_steps(loop);
      done = end.steps;
      return end.interrupted ? interrupted_exit_code() : 0;
    });
    CHECK(rc == 128 + sig);
    CHECK(done == 7);
    CHECK(s.saved == std::vector<int64_t>{7});
    CHECK(s.saved_interrupted == std::vector<bool>{true});
    CHECK(reported == std::vector<int64_t>{5, 7});  // the log reaches the checkpoint's step
  }
  CHECK(run_guarded("test", [] { return interrupted() ? 1 : 0; }) == 0);  // cleared for the next guarded run
  CHECK(run_guarded("test", []() -> int { throw RunError("diverged", kExitDiverged); }) == kExitDiverged);
}

TEST_CASE("run harness: step-decay schedules, best tracking, CSV log") {
  const StepDecay once(1e-3f, 20, 0, 0.1f);  // sa_train --lr-drop-at 20
  CHECK(once.at(1) == 1e-3f);
  CHECK(once.at(20) == 1e-3f);
  CHECK(once.at(21) == 1e-3f * 0.1f);
  CHECK(once.at(1000) == 1e-3f * 0.1f);
  const StepDecay every(0.01f, 40, 40, 0.1f);  // StepLR(step 40) per epoch, as lntl has always computed it
  for (int epoch : {1, 40, 41, 80, 81, 100})
    CHECK(every.at(epoch) == 0.01f * std::pow(0.1f, static_cast<float>((epoch - 1) / 40)));
  CHECK(StepDecay(0.5f, 0, 0, 0.1f).at(1000000) == 0.5f);

  BestTracker best;
  CHECK(best.offer(5.0, 1));
  CHECK_FALSE(best.offer(6.0, 2));
  CHECK_FALSE(best.offer(NAN, 3));
  CHECK(best.offer(4.0, 4));
  CHECK(best.best() == 4.0);
  CHECK(best.at() == 4);

  TempDir t("harness_csv");
  {
    CsvLog csv(t / "log.csv", "step,loss,name");
    csv.row(1, 2.5f, "a");
    csv.row(2, CsvLog::fixed(1.0 / 3.0, 4), std::string("b"));
    // Flushed as written: readable before the log is closed.
    CHECK(read_text(t / "log.csv") == "step,loss,name\n1,2.5,a\n2,0.3333,b\n");
  }
  CHECK_THROWS_WITH_AS(CsvLog(t / "no/such/dir/log.csv", "x"), contains("no/such/dir/log.csv"), std::runtime_error);
}

TEST_CASE("run harness: one checkpoint-kind check for every loader") {
  const CheckpointMeta cvae = {{"model", "cvae"}, {"z_dim", "8"}, {"n_class", "x"}};
  CHECK_NOTHROW(check_checkpoint_kind(cvae, "cvae", "a CVAE", "m.safetensors"));
  CHECK_THROWS_WITH_AS(check_checkpoint_kind(cvae, "judge", "a judge classifier", "m.safetensors", "train one with sa_judge"),
                       "m.safetensors: is a 'cvae' checkpoint, not a judge classifier (train one with sa_judge)",
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(check_checkpoint_kind({}, "cvae", "a CVAE", "m.safetensors"),
                       "m.safetensors: has no 'model' metadata, so it is not a CVAE", std::runtime_error);
  CHECK(checkpoint_int(cvae, "z_dim", "m.safetensors") == 8);
  CHECK_THROWS_WITH_AS(checkpoint_int(cvae, "n_class", "m.safetensors"),
                       "m.safetensors: metadata n_class is not an integer ('x')", std::runtime_error);
  CHECK_THROWS_WITH_AS(checkpoint_int(cvae, "code", "m.safetensors"), "m.safetensors: metadata code is missing",
                       std::runtime_error);

  // Every loader uses it: a judge file is refused by the CVAE, the CVAE's by the judge, and a file
  // without the "model" key by both.
  TempDir t("harness_kind");
  Backend be = make_backend("cpu", 0);
  Cvae model(be, CvaeConfig{}, 1);
  model.save(be, t / "cvae.safetensors", {});
  Judge judge(be, 1);
  CHECK_THROWS_WITH_AS(judge.load(be, t / "cvae.safetensors"), contains("is a 'cvae' checkpoint, not a judge"),
                       std::runtime_error);
  save_safetensors(t / "bare.safetensors", model.params().to_named(be));
  CHECK_THROWS_WITH_AS(model.load(be, t / "bare.safetensors"), contains("bare.safetensors: has no 'model' metadata"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(cvae_config_of(t / "bare.safetensors"), contains("has no 'model' metadata"), std::runtime_error);
  CHECK_THROWS_WITH_AS(judge.load(be, t / "bare.safetensors"), contains("has no 'model' metadata"), std::runtime_error);
}

TEST_CASE("run harness: run.json records an error and its exit code") {
  TempDir t("harness_record");
  const std::string out = t / "out";
  std::vector<std::string> args_s = {"prog", "--out", out, "--steps", "5"};
  std::vector<char*> argv;
  for (std::string& a : args_s) argv.push_back(a.data());
  int steps = 1;
  Driver d("prog", "a test driver", {"", "unused"});
  d.cli().add("steps", &steps, "steps", 1, 100);
  const int rc = d.main(static_cast<int>(argv.size()), argv.data(), [&](Driver&) -> int {
    CHECK(steps == 5);
    throw std::runtime_error("something broke");
  });
  CHECK(rc == kExitError);
  const std::string text = read_text(out + "/run.json");
  const Json rec = parse_json(text.data(), text.data() + text.size(), "run.json");
  CHECK(rec.get("status")->text == "error");
  CHECK(rec.get("exit_code")->text == "2");
  CHECK(rec.get("error")->text == "something broke");
  CHECK(rec.get("flags")->get("steps")->text == "5");
  CHECK(rec.get("flags")->get("out")->text == out);
  CHECK(rec.get("flags")->get("data") == nullptr);  // this driver takes no --data
  CHECK(rec.get("argv")->items.size() == 4);
}

// The OpenBLAS kernels a program ran on, from the run.json of a run that stops at once (no data).
std::string blas_core_of_a_run(const TempDir& t, const char* coretype) {
  const std::string out = t / (coretype ? coretype : "unset");
  run(built("sa_train"), {"--device", "cpu", "--data", t / "no_data", "--out", out}, out + ".log",
      {{"OPENBLAS_CORETYPE", coretype}});
  const std::string text = read_text(out + "/run.json");
  return parse_json(text.data(), text.data() + text.size(), "run.json").get("threads")->get("openblas_core")->text;
}

TEST_CASE("run harness: a program never runs on OpenBLAS's generic kernels when the CPU has better ones") {
  TempDir t("blas_core");
  const char* best = cpu::best_blas_core_for_this_cpu();
  if (std::string(cpu::blas_core()) == "none" || !best) return;  // another BLAS, or a CPU with nothing better
  // Without OPENBLAS_CORETYPE: whatever OpenBLAS detects, except its generic fallback.
  CHECK(blas_core_of_a_run(t, nullptr) != "Prescott");
  // A user's choice stays, the generic one included.
  CHECK(blas_core_of_a_run(t, "Haswell") == "Haswell");
  CHECK(blas_core_of_a_run(t, "Prescott") == "Prescott");
}

TEST_CASE("lntl --reuse-baseline: the reused baseline brings its per-epoch accuracies along") {
  TempDir t("lntl_reuse");
  const std::string out = t / "out";
  std::vector<std::string> args = {"--device", "cpu", "--data", blob_mnist(t), "--out", out, "--train-images", "256",
                                   "--batch", "64", "--epochs", "2", "--lntl-epochs", "1", "--var", "0.035"};
  REQUIRE(run(built("lntl"), args, t / "first.log") == 0);
  // Each phase's gray probe: every test digit once per gray level, each level's counts per digit.
  for (const std::string phase : {"baseline", "lntl"}) {
    const auto cells = csv_rows(out + "/var_0.035/accuracy_by_gray_" + phase + ".csv");
    REQUIRE(cells.size() == 10 * std::size(kGrayLevels));
    std::map<std::string, double> images_per_level;
    for (const auto& c : cells) {
      images_per_level[c.at(1)] += std::stod(c.at(2));
      CHECK(std::stod(c.at(3)) <= std::stod(c.at(2)));
    }
    REQUIRE(images_per_level.size() == std::size(kGrayLevels));
    for (const auto& [level, images] : images_per_level) CHECK(images == images_per_level.begin()->second);
    CHECK(std::filesystem::exists(out + "/var_0.035/accuracy_by_gray_" + phase + ".png"));
  }
  std::map<std::string, std::string> meta;
  load_safetensors(out + "/var_0.035/baseline.safetensors", &meta);
  std::vector<std::string> logged;  // the baseline rows' test_accuracy, as percentages with 4 decimals
  for (const auto& row : csv_rows(out + "/train_log.csv"))
    if (row.at(1) == "baseline") {
      char v[32];
      std::snprintf(v, sizeof v, "%.4f", 100.0f * std::stof(row.at(7)));
      logged.push_back(v);
    }
  REQUIRE(logged.size() == 2);
  CHECK(meta["accuracy_per_epoch"] == logged[0] + "," + logged[1]);

  const double trained_seconds = std::stod(meta.at("seconds"));
  CHECK(trained_seconds > 0.0);

  args.push_back("--reuse-baseline");
  REQUIRE(run(built("lntl"), args, t / "second.log") == 0);
  CHECK(read_text(t / "second.log").find("baseline: reusing") != std::string::npos);
  for (const auto& row : csv_rows(out + "/train_log.csv")) CHECK(row.at(1) == "lntl");  // nothing retrained
  // results.csv reports the reused baseline's training time, not the time it took to load it.
  const auto results = csv_rows(out + "/results.csv");
  REQUIRE(results.at(0).at(1) == "baseline");
  CHECK(std::stod(results.at(0).at(6)) == doctest::Approx(trained_seconds).epsilon(1e-5));

  // A record that cannot be read is an error naming the file, not a silent empty curve.
  std::vector<NamedTensor> tensors = load_safetensors(out + "/var_0.035/baseline.safetensors", &meta);
  meta["accuracy_per_epoch"] = "51.2,oops";
  save_safetensors(out + "/var_0.035/baseline.safetensors", tensors, meta);
  CHECK(run(built("lntl"), args, t / "third.log") == kExitError);
  CHECK(read_text(t / "third.log").find("baseline.safetensors: unreadable accuracy_per_epoch") != std::string::npos);

  // A checkpoint from before the time was recorded: the time is reported as unknown (nan), not as 0.
  meta["accuracy_per_epoch"] = "51.2,52.0";
  meta.erase("seconds");
  save_safetensors(out + "/var_0.035/baseline.safetensors", tensors, meta);
  REQUIRE(run(built("lntl"), args, t / "fourth.log") == 0);
  CHECK(csv_rows(out + "/results.csv").at(0).at(6) == "nan");
  meta["seconds"] = "-3";
  save_safetensors(out + "/var_0.035/baseline.safetensors", tensors, meta);
  CHECK(run(built("lntl"), args, t / "fifth.log") == kExitError);
  CHECK(read_text(t / "fifth.log").find("baseline.safetensors: unreadable seconds") != std::string::npos);
}

TEST_CASE("EpochOrder: a fresh seeded shuffle of every example per epoch, whole batches only") {
  // What Batcher and LntlTrainer draw: std::shuffle of 0..n-1 by one mt19937_64 per epoch, in turn.
  EpochOrder order(10, 3, 42);
  std::mt19937_64 rng(42);
  std::vector<int> expect(10);
  std::iota(expect.begin(), expect.end(), 0);
  CHECK(order.batches_per_epoch() == 3);
  for (int epoch = 1; epoch <= 3; ++epoch) {
    std::shuffle(expect.begin(), expect.end(), rng);
    for (int b = 0; b < 3; ++b) {
      const int* idx = order.next();
      CHECK(order.epoch() == epoch);
      CHECK(std::vector<int>(idx, idx + 3) == std::vector<int>(expect.begin() + 3 * b, expect.begin() + 3 * b + 3));
    }
  }
  CHECK_THROWS_AS(EpochOrder(2, 3, 0), std::runtime_error);
}

TEST_CASE("lntl --resume: a phase lengthened from its checkpoint equals one run straight; other settings are refused") {
  TempDir t("lntl_resume");
  auto args_for = [&](const std::string& out, const std::string& lntl_epochs) {
    return std::vector<std::string>{"--device", "cpu", "--data", blob_mnist(t), "--out", out, "--train-images", "256",
                                    "--batch", "64", "--epochs", "2", "--lntl-epochs", lntl_epochs, "--var", "0.035"};
  };
  const std::string straight = t / "straight", split = t / "split";
  REQUIRE(run(built("lntl"), args_for(straight, "2"), t / "straight.log") == 0);
  REQUIRE(run(built("lntl"), args_for(split, "1"), t / "first.log") == 0);
  const double first_seconds = std::stod(csv_rows(split + "/results.csv").at(1).at(6));
  std::vector<std::string> more = args_for(split, "2");
  more.push_back("--resume");
  REQUIRE(run(built("lntl"), more, t / "second.log") == 0);
  const std::string log = read_text(t / "second.log");
  CHECK(log.find("baseline: reusing") != std::string::npos);
  CHECK(log.find("lntl: resuming from") != std::string::npos);
  std::map<std::string, std::string> want_meta, got_meta;
  const std::vector<NamedTensor> want = load_safetensors(straight + "/var_0.035/lntl.safetensors", &want_meta);
  const std::vector<NamedTensor> got = load_safetensors(split + "/var_0.035/lntl.safetensors", &got_meta);
  REQUIRE(want.size() == got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].data == want[i].data);
  }
  CHECK(got_meta["accuracy_per_epoch"] == want_meta["accuracy_per_epoch"]);
  CHECK(got_meta["epochs"] == "2");
  // The second run trained only LNTL's second epoch; its results.csv reports both runs' LNTL time.
  const auto results = csv_rows(split + "/results.csv");
  REQUIRE(results.at(1).at(1) == "lntl");
  CHECK(std::stod(results.at(1).at(6)) > first_seconds);
  CHECK(std::stod(results.at(1).at(6)) == doctest::Approx(std::stod(got_meta["seconds"])).epsilon(0.05));

  // Resuming under another game setting would mix two runs: an error naming the file and the setting.
  std::vector<std::string> other = args_for(split, "3");
  other.insert(other.end(), {"--resume", "--mu", "0.3"});
  CHECK(run(built("lntl"), other, t / "third.log") == kExitError);
  CHECK(read_text(t / "third.log").find("lntl.safetensors: cannot --resume: written with mu 0.1") != std::string::npos);
}
