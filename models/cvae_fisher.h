// Diagonal Fisher of a trained CVAE (or, with n_class 0, VAE): per-sample squared gradients of the
// negative ELBO, averaged over `samples`, batched through the layers' fisher_accumulate (no batch-1
// loop). Two sources of inputs:
//   cvae_fisher          the model's own samples, as in Selective Amnesia (z ~ N(0, I), c uniform over
//                        `classes`, x = decoder mean);
//   cvae_fisher_on_data  real images (and their labels, when the model has any), as EWC uses for
//                        sequential tasks: the Fisher of the task just learned, on that task's data.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/idx.h"
#include "models/cvae.h"

// Returns the Fisher as a device buffer shaped like model.params(). classes must not be empty for a
// conditional model (and is not read for an unconditional one).
Buffer<float> cvae_fisher(Backend& be, Cvae& model, const std::vector<int>& classes, int samples, int batch);
// The first `samples` examples of d (1 <= samples <= d.count); same shape and scale as cvae_fisher.
Buffer<float> cvae_fisher_on_data(Backend& be, Cvae& model, const Dataset& d, int samples, int batch);
// The file records the fingerprint of the weights it came from and its sample count; loading it for any
// other weights or another count throws StaleFisher, so a retrained model never silently reuses an old
// Fisher, nor does a run that asks for a different number of samples.
void save_fisher(const Backend& be, const Cvae& model, const Buffer<float>& fisher, const std::string& path, int samples);
struct StaleFisher : std::runtime_error {
  using std::runtime_error::runtime_error;
};
Buffer<float> load_fisher(const Backend& be, const Cvae& model, const std::string& path, int samples);
