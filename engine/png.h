// PNG output for studies: image grids (samples, reconstructions), line plots (training curves)
// and heatmaps (confusion matrices). Text uses a built-in 5x7 bitmap font, upper-case only
// (lower-case letters are drawn as capitals). Errors throw std::runtime_error naming the file.
#pragma once
#include <string>
#include <vector>

// images: n images of channels x height x width floats each (CHW, values clamped to [0,1]),
// laid out row by row in a grid of ncols columns, separated and framed by pad gray pixels.
// channels 1 writes a grayscale PNG, 3 an RGB one; upscale repeats each pixel upscale x upscale.
void write_image_grid(const std::string& path, const float* images, int n, int channels,
                      int height, int width, int ncols, int pad = 2, int upscale = 1);

struct Series {
  std::string label;       // legend text; the legend is drawn when any series has one
  std::vector<float> x, y;  // same length; non-finite points break the line
  bool points_only = false;  // a scatter: 5x5 dots, no connecting line (e.g. a t-SNE map)
};

struct LinePlot {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;  // each gets its own colour
  std::vector<float> vlines;   // x positions marked with a dashed vertical line, e.g. a phase boundary
  int width = 800, height = 500;
};

// Axes with "nice" numeric ticks and grid lines, one coloured line per series; the legend in the corner
// that hides the fewest points, or, when any series is a scatter, in a right margin off the data.
void write_line_plot(const std::string& path, const LinePlot& p);

struct Heatmap {
  std::string title, xlabel, ylabel;
  int rows = 0, cols = 0;
  std::vector<float> values;                       // rows x cols, row-major
  std::vector<std::string> row_labels, col_labels;  // empty = 0..rows-1 / 0..cols-1
  bool show_values = true;                         // print each value in its cell
};

// Cells coloured white -> dark blue by value (min..max), row labels on the left, column labels
// below, values printed in each cell (integers without decimals, as for confusion counts).
void write_heatmap(const std::string& path, const Heatmap& h);
