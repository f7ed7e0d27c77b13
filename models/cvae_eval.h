// Held-out evaluation of a CVAE.
#pragma once
#include "engine/idx.h"
#include "models/cvae.h"

// Mean negative ELBO (BCE + KL per image) over a labelled dataset, no gradients.
float mean_negative_elbo(Backend& be, Cvae& model, const Dataset& d);
