// The CVAE's pictures shared by the forgetting studies: a sample grid (one row per digit) and label morphs.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/cvae.h"

// PNG grid, one row per digit; the draw uses its own seed so grids of different models are comparable.
void write_sample_grid(const Backend& be, Cvae& model, int per_digit, uint64_t seed, const std::string& path);
// Label-interpolation morphs: one row per (from, to) pair; along the row z and the label vector c
// move together from (z1, onehot(from)) to (z2, onehot(to)) in `steps` equal steps.
void write_morph_grid(const Backend& be, Cvae& model, const std::vector<std::pair<int, int>>& pairs, int steps,
                      uint64_t seed, const std::string& path);
