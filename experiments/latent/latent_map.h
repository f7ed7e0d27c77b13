// Latent analysis of a CVAE: where its encoder puts real digits, as numbers (how well the digit can be
// read off the latent means by nearest neighbours) and as a picture (a t-SNE map coloured by digit).
// The study compares encoders that see the label with encoders that do not, before and after
// forgetting: an encoder given the label need not encode the digit in z at all.
#pragma once
#include <string>
#include <vector>

#include "engine/idx.h"
#include "models/cvae.h"

// Encoder means mu(x, c) of every image of d with its one-hot label (ignored by an encoder that does
// not read labels): host d.count x z_dim.
std::vector<float> encode_means(Backend& be, Cvae& model, const Dataset& d);

// Leave-one-out k-nearest-neighbour vote (Euclidean, ties to the smallest digit) over n points of
// dimension dim: per digit 0..9, the fraction of its points whose vote is their own label, and in
// `overall` the fraction over all points.
std::vector<double> knn_digit_accuracy(const float* points, int n, int dim, const std::vector<int>& labels, int k,
                                       double& overall);

// Scatter PNG of a 2-D layout (n x 2), one colour per digit; forgotten digits say so in the legend.
void write_latent_map(const std::string& path, const std::string& title, const std::vector<float>& layout,
                      const std::vector<int>& labels, const std::vector<int>& forgotten);
