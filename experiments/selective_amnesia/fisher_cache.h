// The Fisher of a trained CVAE, computed once and kept next to it: it is a property of the model, so
// sa_forget runs on the same checkpoint share it (recomputed when the model next to it was retrained).
#pragma once
#include <string>

#include "models/cvae.h"

// The diagonal Fisher of `model` (loaded from model_path) over `samples` of its own samples: read from
// fisher_path (default: fisher.safetensors next to model_path) when it matches the model's weights and
// `samples`, else computed and saved there. A Fisher named explicitly that does not match is an error.
Buffer<float> cached_model_fisher(Backend& be, Cvae& model, const std::string& model_path,
                                  const std::string& fisher_path, int samples);
