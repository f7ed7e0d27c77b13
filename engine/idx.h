// IDX dataset loading (the MNIST / FashionMNIST file format), raw or gzip-compressed.
// Every failure throws std::runtime_error with a one-line message naming the file.
#pragma once
#include <string>
#include <vector>

struct Dataset {
  int count = 0, height = 0, width = 0;
  std::vector<float> images;  // count x (height*width), row-major, intensities /255 in [0,1]
  std::vector<int> labels;    // count entries, each in 0..9
  int dim() const { return height * width; }
};

// Reads an images file (magic 0x00000803, dims count x height x width) and its labels file
// (magic 0x00000801, dims count). Either may be gzip-compressed; raw files are read as they are.
// Checks magic numbers, dimensions, exact file lengths, matching counts and labels in 0..9, reading
// no more than the headers describe (at most 1 GiB of pixels).
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path);

// Loads the train (train-*) or test (t10k-*) split from dir, taking each file raw or with ".gz".
// A missing file gives an error that suggests `bash data/fetch.sh`; images that are not 28x28 (the
// geometry every network here is built for) are refused, naming the file.
Dataset load_mnist_split(const std::string& dir, bool train);

// The first n examples (0 <= n <= d.count).
Dataset subset(const Dataset& d, int n);
// Examples [begin, end) of d (0 <= begin <= end <= d.count), e.g. a validation split held out at the end.
Dataset slice(const Dataset& d, int begin, int end);

// The examples whose label is in keep, in their original order (keep holds digits 0..9).
Dataset filter_digits(const Dataset& d, const std::vector<int>& keep);
