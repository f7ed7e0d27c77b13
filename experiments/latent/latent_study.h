// The latent-analysis study of sa_latent: per CVAE checkpoint, the encoder means of MNIST test digits
// scored by a nearest-neighbour digit vote in z and on a 2-D t-SNE map (PNG + CSV per model), and the
// summary table comparing the models.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/idx.h"

struct LatentSettings {
  int points = 2000, iterations = 1000, knn = 5;
  float perplexity = 30.0f;
  uint64_t seed = 0;  // the t-SNE start layout
};

struct LatentRow {
  std::string name, forgotten;
  bool encoder_label = true;
  double knn_z = 0, knn_z_forgotten = 0, knn_map = 0, kl = 0, seconds = 0;
};

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_commas(const std::string& s);
// A short unique name per checkpoint for file names and the table: its folder's name, plus the file's
// stem when two checkpoints share a folder name.
std::vector<std::string> model_names(const std::vector<std::string>& paths);
// Encodes test with the checkpoint at path, scores it and writes out/tsne_<name>.png and .csv.
LatentRow analyse_latent(Backend& be, const LatentSettings& o, const std::string& path, const std::string& name,
                         const Dataset& test, const std::string& out);
// summary.md: the settings and one table row per model.
void write_latent_summary(const std::string& path, const LatentSettings& o, const std::vector<LatentRow>& rows);
