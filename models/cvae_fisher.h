// Diagonal Fisher of a trained CVAE, as in Selective Amnesia: per-sample squared gradients of the
// negative ELBO of the model's own samples (z ~ N(0, I), c uniform over `classes`, x = decoder mean),
// averaged over `samples`. Batched through the layers' fisher_accumulate: no batch-1 loop.
#pragma once
#include <string>
#include <vector>

#include "models/cvae.h"

// Returns the Fisher as a device buffer shaped like model.params().
Buffer<float> cvae_fisher(Backend& be, Cvae& model, const std::vector<int>& classes, int samples, int batch);
void save_fisher(const Backend& be, const Cvae& model, const Buffer<float>& fisher, const std::string& path, int samples);
Buffer<float> load_fisher(const Backend& be, const Cvae& model, const std::string& path);
