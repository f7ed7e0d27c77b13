// Drawing images from a CVAE: z ~ N(0, I), x = decoder mean for a chosen label.
#pragma once
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "models/cvae.h"

// Decoder-mean images (labels.size() x x_dim) on the device, in chunks so any count fits.
void sample_images(Backend& be, Cvae& model, const std::vector<int>& labels, float* images);
// n labels drawn uniformly from `classes` into labels (host, resized to n) and their one-hot rows into c
// (n x n_class on the device, through labels_dev, n ints on the device): the label half of a training batch.
void draw_onehot_labels(const Backend& be, std::mt19937_64& rng, const std::vector<int>& classes, int n, int n_class,
                        std::vector<int>& labels, int* labels_dev, float* c);
// Host copy of sample_images.
std::vector<float> sample_images_host(Backend& be, Cvae& model, const std::vector<int>& labels);
// Labels digit-major: per_digit copies of 0, then of 1, ...
std::vector<int> digit_major_labels(int n_class, int per_digit);
