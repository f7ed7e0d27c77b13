#include "experiments/selective_amnesia/fisher_cache.h"

#include <cstdio>
#include <filesystem>

#include "engine/text.h"
#include "engine/timer.h"
#include "models/cvae_fisher.h"

Buffer<float> cached_model_fisher(Backend& be, Cvae& model, const std::string& model_path,
                                  const std::string& fisher_path, int samples) {
  const std::string path =
      fisher_path.empty() ? (std::filesystem::path(model_path).parent_path() / "fisher.safetensors").string() : fisher_path;
  if (std::filesystem::exists(path)) {
    try {
      Buffer<float> f = load_fisher(be, model, path, samples);
      std::printf("Fisher: loaded %s\n", path.c_str());
      return f;
    } catch (const StaleFisher& e) {
      if (!fisher_path.empty()) throw;
      std::printf("Fisher: %s; recomputing\n", e.what());
    }
  }
  std::printf("Fisher: %d samples of the model itself...\n", samples);
  std::vector<int> all = other_digits({}, model.config().n_class);
  Timer t;
  Buffer<float> f = cvae_fisher(be, model, all, samples, 500);
  backend_sync(be);
  std::printf("Fisher: %.2f s, saved to %s\n", t.seconds(), path.c_str());
  save_fisher(be, model, f, path, samples);
  return f;
}
