// Shared by the `gpu` test files: device outputs start POISONED (NaN) and carry a NaN guard tail, so an
// element a kernel forgot to write, or a write past the end, shows up as a failure; results are
// compared with the CPU twin element by element. Whole training runs are compared through snapshots of
// what they ended with (RunSnapshot, check_same_on_both).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/backend.h"
#include "engine/buffer.h"
#include "engine/params.h"
#include "engine/safetensors.h"

namespace gpu_check {
using Vec = std::vector<float>;
inline constexpr size_t kGuard = 67;  // NaN elements after every device output
inline const float kNaN = std::numeric_limits<float>::quiet_NaN();

// AMNESIA_GPU_TESTS_ON_CPU=1 is a rehearsal on a machine without a device: "the GPU" is then the CPU,
// so the whole-model tests run both halves there and show only that the tests themselves run (the op
// tests, which call cuda:: directly, must be filtered out: -tc="gpu whole model*").
inline bool rehearsing_on_cpu() {
  const char* v = std::getenv("AMNESIA_GPU_TESTS_ON_CPU");
  return v && std::string(v) == "1";
}
inline Backend gpu(uint64_t seed = 1) { return make_backend(rehearsing_on_cpu() ? "cpu" : "cuda", seed); }

inline Vec rand_vec(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  Vec v(n);
  for (float& x : v) x = dist(rng);
  return v;
}
inline Vec nan_vec(size_t n) { return Vec(n, kNaN); }

template <typename T>
Buffer<T> to_dev(const Backend& be, const std::vector<T>& host) {
  Buffer<T> b(be, host.size());
  b.upload(be, host);
  return b;
}

// A device output: `init` (NaN for write-only outputs, real data for in-place ones) plus a NaN guard.
inline Buffer<float> dev_out(const Backend& be, const Vec& init) {
  Vec h = init;
  h.resize(init.size() + kGuard, kNaN);
  return to_dev(be, h);
}
// Downloads the first n elements of a dev_out buffer after checking its guard was left alone.
inline Vec fetch(const Backend& be, const Buffer<float>& b, size_t n) {
  Vec h = b.download(be);
  REQUIRE(h.size() == n + kGuard);
  size_t touched = 0;
  for (size_t i = n; i < h.size(); ++i) touched += !std::isnan(h[i]);
  CHECK_MESSAGE(touched == 0, "write past the end of the output: " << touched << " guard elements changed");
  h.resize(n);
  return h;
}

// |got - want| <= tol * max(1, |want|) everywhere; NaN (e.g. an unwritten poisoned element) always fails.
inline void check_close(const Vec& got, const Vec& want, const std::string& what, double tol = 1e-4) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0, first = 0;
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    const double err = std::fabs(g - w) / std::max(1.0, std::fabs(w));
    if (!(err <= tol)) {
      if (bad++ == 0) first = i;
    } else {
      worst = std::max(worst, err);
    }
  }
  std::ostringstream msg;
  msg << what << ": " << bad << " of " << got.size() << " elements off";
  if (bad) msg << "; first at " << first << ": got " << got[first] << ", want " << want[first];
  msg << "; worst passing rel err " << worst;
  CHECK_MESSAGE(bad == 0, msg.str());
}
inline void check_close(float got, float want, const std::string& what, double tol = 1e-4) {
  check_close(Vec{got}, Vec{want}, what, tol);
}

// A device scalar accumulator starting at `init`.
inline Buffer<float> dev_scalar(const Backend& be, float init) { return to_dev(be, Vec{init}); }
inline Buffer<float> poisoned(const Backend& be, size_t n) { return dev_out(be, Vec(n, kNaN)); }

// Reference results of a convolution-shaped op on the CPU and its inputs, for conv_like_parity.
struct ConvLikeCase {
  Vec x, w, b, dy, dw0, db0;  // inputs; dw0, db0: what the accumulating weight and bias gradients start at
  Vec y, dx, dw, db;          // the CPU twin's results
};

// A convolution-shaped op (conv2d, conv_transpose2d): forward x, w, b -> y and a backward that writes dx
// and ADDS into dw, db, both with a workspace of g.workspace_floats(). fwd(be, x, w, b, y, ws) and
// bwd(be, x, w, dy, dx, dw, db, ws) call the op on either backend. Runs both on fresh random inputs and
// checks the device against the CPU; returns the case so a test can go on with variants of it.
template <class Geom, class Forward, class Backward>
ConvLikeCase conv_like_parity(const Backend& be, std::mt19937& rng, const Geom& g, size_t nx, size_t ny, size_t nw,
                              Forward fwd, Backward bwd) {
  const Backend host = make_backend("cpu", 1);
  ConvLikeCase c;
  c.x = rand_vec(rng, nx, -1, 1), c.w = rand_vec(rng, nw, -0.5f, 0.5f), c.b = rand_vec(rng, g.c_out, -1, 1);
  c.dy = rand_vec(rng, ny, -1, 1), c.dw0 = rand_vec(rng, nw, -1, 1), c.db0 = rand_vec(rng, g.c_out, -1, 1);
  Vec ws(g.workspace_floats());
  c.y.resize(ny), c.dx.resize(nx), c.dw = c.dw0, c.db = c.db0;
  fwd(host, c.x.data(), c.w.data(), c.b.data(), c.y.data(), ws.data());
  bwd(host, c.x.data(), c.w.data(), c.dy.data(), c.dx.data(), c.dw.data(), c.db.data(), ws.data());

  Buffer<float> dws(be, g.workspace_floats());
  Buffer<float> xd = to_dev(be, c.x), wd = to_dev(be, c.w), bd = to_dev(be, c.b), dyd = to_dev(be, c.dy);
  Buffer<float> yd = poisoned(be, ny), dxd = poisoned(be, nx), dwd = dev_out(be, c.dw0), dbd = dev_out(be, c.db0);
  fwd(be, xd.data(), wd.data(), bd.data(), yd.data(), dws.data());
  bwd(be, xd.data(), wd.data(), dyd.data(), dxd.data(), dwd.data(), dbd.data(), dws.data());
  check_close(fetch(be, yd, ny), c.y, "y");
  check_close(fetch(be, dxd, nx), c.dx, "dx");
  check_close(fetch(be, dwd, nw), c.dw, "dw (+=)");
  check_close(fetch(be, dbd, g.c_out), c.db, "db (+=)");
  return c;
}

// Relative L2 distance of got from want, ||got - want|| / ||want|| (want all zero: the absolute distance).
// Per tensor rather than per element: float rounding may flip a ReLU whose input is within noise of zero,
// or the sign of a near-zero gradient under Adam, which moves a few entries; an elementwise bound on
// a training run would be brittle, a relative L2 bound of 1e-3 is not.
inline double rel_l2(const float* got, const float* want, size_t n) {
  double diff = 0.0, ref = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    diff += d * d;
    ref += static_cast<double>(want[i]) * want[i];
  }
  return ref > 0.0 ? std::sqrt(diff / ref) : std::sqrt(diff);
}

// Per parameter tensor of `layout`, rel_l2(got, want) <= tol; got and want are flat host copies of a
// buffer shaped like the store (values, gradients or a Fisher).
inline void check_per_tensor(const ParamStore& layout, const Vec& got, const Vec& want, const std::string& what,
                             double tol = 1e-3) {
  REQUIRE(got.size() == layout.size());
  REQUIRE(want.size() == layout.size());
  for (const ParamEntry& e : layout.entries()) {
    const double err = rel_l2(got.data() + e.offset, want.data() + e.offset, e.size);
    CHECK_MESSAGE(err <= tol, what << " " << e.name << ": relative L2 error " << err);
  }
}

// Host copy of n floats on be's device.
inline Vec host_copy(const Backend& be, const float* p, size_t n) {
  Vec h(n);
  copy_out(be, h.data(), p, n * sizeof(float));
  return h;
}

// What a run on one device ended with, in host memory: named tensors (parameters, running statistics,
// Fishers, output images) and named scalars (losses, rates).
struct RunSnapshot {
  std::vector<NamedTensor> tensors;
  std::vector<std::pair<std::string, float>> scalars;

  void add(const std::string& name, Vec data) { tensors.push_back({name, {static_cast<int>(data.size())}, std::move(data)}); }
  void add(const std::string& name, float value) { scalars.emplace_back(name, value); }
  // Every tensor of a checkpoint file (a model's save() writes parameters and running statistics).
  void add_checkpoint(const std::string& prefix, const std::string& path) {
    for (NamedTensor& t : load_safetensors(path)) {
      t.name = prefix + t.name;
      tensors.push_back(std::move(t));
    }
  }
  // One tensor per parameter of `store`, read from `flat` (its values when null: a Fisher or the grads
  // can be read through the same layout).
  void add_params(const Backend& be, const std::string& prefix, const ParamStore& store, const float* flat = nullptr) {
    for (NamedTensor& t : store.to_named(be, flat)) {
      t.name = prefix + t.name;
      tensors.push_back(std::move(t));
    }
  }
};

// Every tensor (relative L2) and scalar (relative error) of got against want within tol.
inline void check_same_snapshot(const RunSnapshot& got, const RunSnapshot& want, double tol) {
  REQUIRE(got.tensors.size() == want.tensors.size());
  REQUIRE(got.scalars.size() == want.scalars.size());
  REQUIRE(!want.tensors.empty());
  for (size_t i = 0; i < want.tensors.size(); ++i) {
    const NamedTensor &g = got.tensors[i], &w = want.tensors[i];
    REQUIRE(g.name == w.name);
    REQUIRE(g.data.size() == w.data.size());
    const double err = rel_l2(g.data.data(), w.data.data(), w.data.size());
    CHECK_MESSAGE(err <= tol, w.name << ": relative L2 error " << err);
  }
  for (size_t i = 0; i < want.scalars.size(); ++i) {
    REQUIRE(got.scalars[i].first == want.scalars[i].first);
    const double g = got.scalars[i].second, w = want.scalars[i].second;
    const double err = std::fabs(g - w) / std::max(1e-6, std::fabs(w));
    CHECK_MESSAGE(err <= tol, want.scalars[i].first << ": got " << g << ", want " << w);
  }
}

// Runs run(be) -> RunSnapshot on the CPU and on the GPU, both backends seeded with `seed` (so the
// counter-based random streams agree), and checks the GPU's snapshot against the CPU's.
template <class Run>
void check_same_on_both(uint64_t seed, Run run, double tol = 1e-3) {
  Backend host = make_backend("cpu", seed), dev = gpu(seed);
  const RunSnapshot want = run(host);
  check_same_snapshot(run(dev), want, tol);
}

}  // namespace gpu_check
