#include "engine/png.h"

// stb_image_write is a single-header library; its implementation lives in this one file, with
// static linkage so another translation unit embedding it cannot clash with ours. Its code is
// not written for -Wall -Wextra, so its warnings are silenced here only.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

#include "engine/write_file.h"

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw std::runtime_error("PNG " + path + ": " + msg);
}

// stb's own file writer reports success even when fwrite or fclose fails (a full disk), so the PNG is
// encoded in memory and written through write_file, which checks both.
void save_png(const std::string& path, int w, int h, int channels, const uint8_t* px) {
  std::string bytes;
  auto append = [](void* out, void* data, int size) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(data), size_t(size));
  };
  if (!stbi_write_png_to_func(append, &bytes, w, h, channels, px, w * channels)) fail(path, "cannot encode the image");
  write_file(path, bytes);
}

// ---------------------------------------------------------------------------------------------
// 5x7 bitmap font. Each glyph is 7 rows of 5 bits, the most significant bit leftmost.

struct Glyph {
  char c;
  uint8_t rows[7];
};

const Glyph kGlyphs[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}}, {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}}, {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}}, {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}}, {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}},
    {'\'', {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}}, {'[', {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E}},
    {']', {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E}}, {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
    {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}}, {'*', {0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00}},
    {'|', {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}}, {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
};

constexpr int kGlyphW = 5, kGlyphH = 7, kAdvance = 6;  // one blank column between glyphs

// Lower case maps to upper case; anything without a glyph is drawn as '?'.
const Glyph& glyph_for(char c) {
  static const Glyph* table[128] = {};
  static bool built = false;
  if (!built) {
    for (const Glyph& g : kGlyphs) table[static_cast<unsigned char>(g.c)] = &g;
    built = true;
  }
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 'a' && u <= 'z') u = static_cast<unsigned char>(u - 'a' + 'A');
  const Glyph* g = u < 128 ? table[u] : nullptr;
  return g ? *g : *table[static_cast<unsigned char>('?')];
}

int text_width(const std::string& s, int scale) {
  return s.empty() ? 0 : (int(s.size()) * kAdvance - 1) * scale;
}
int text_height(int scale) { return kGlyphH * scale; }

// ---------------------------------------------------------------------------------------------
// An RGB canvas with just the drawing the plots need.

struct Color {
  uint8_t r, g, b;
};
const Color kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrid{225, 225, 225}, kAxis{60, 60, 60};

class Canvas {
 public:
  Canvas(int w, int h, Color bg) : w_(w), h_(h), px_(size_t(w) * size_t(h) * 3) {
    fill_rect(0, 0, w, h, bg);
  }
  int width() const { return w_; }
  int height() const { return h_; }

  void set(int x, int y, Color c) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;  // clipping keeps callers simple
    uint8_t* p = &px_[(size_t(y) * size_t(w_) + size_t(x)) * 3];
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }
  void fill_rect(int x0, int y0, int w, int h, Color c) {
    for (int y = y0; y < y0 + h; ++y)
      for (int x = x0; x < x0 + w; ++x) set(x, y, c);
  }
  void frame(int x0, int y0, int w, int h, Color c) {
    fill_rect(x0, y0, w, 1, c);
    fill_rect(x0, y0 + h - 1, w, 1, c);
    fill_rect(x0, y0, 1, h, c);
    fill_rect(x0 + w - 1, y0, 1, h, c);
  }
  // Bresenham; each step stamps a thick x thick square.
  void line(int x0, int y0, int x1, int y1, Color c, int thick) {
    int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
      fill_rect(x0 - thick / 2, y0 - thick / 2, thick, thick, c);
      if (x0 == x1 && y0 == y1) return;
      int e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }
  // Text with its top-left corner at (x, y); vertical text runs bottom-to-top from (x, y) as
  // its bottom-left corner (the usual rotated y-axis label).
  void text(int x, int y, const std::string& s, Color c, int scale, bool vertical = false) {
    for (size_t i = 0; i < s.size(); ++i) {
      const Glyph& g = glyph_for(s[i]);
      int origin = int(i) * kAdvance * scale;
      for (int r = 0; r < kGlyphH; ++r)
        for (int col = 0; col < kGlyphW; ++col) {
          if (!(g.rows[r] >> (kGlyphW - 1 - col) & 1)) continue;
          if (vertical) fill_rect(x + r * scale, y - (origin + (col + 1) * scale), scale, scale, c);
          else fill_rect(x + origin + col * scale, y + r * scale, scale, scale, c);
        }
    }
  }
  void text_centered(int cx, int y, const std::string& s, Color c, int scale) {
    text(cx - text_width(s, scale) / 2, y, s, c, scale);
  }
  void save(const std::string& path) const { save_png(path, w_, h_, 3, px_.data()); }

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

// ---------------------------------------------------------------------------------------------
// Image grid.

uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also maps NaN to black
  if (v >= 1.0f) return 255;
  return static_cast<uint8_t>(v * 255.0f + 0.5f);
}

void check_grid_args(const std::string& path, const float* images, int n, int channels,
                     int height, int width, int ncols, int pad, int upscale) {
  if (!images) fail(path, "no image data");
  if (n <= 0) fail(path, "image grid needs at least one image, got " + std::to_string(n));
  if (channels != 1 && channels != 3)
    fail(path, "image grid supports 1 or 3 channels, got " + std::to_string(channels));
  if (height <= 0 || width <= 0 || ncols <= 0 || pad < 0 || upscale < 1)
    fail(path, "bad image grid geometry (height, width, ncols, upscale >= 1; pad >= 0)");
}

// ---------------------------------------------------------------------------------------------
// Line plot.

// A tick step of 1, 2 or 5 times a power of ten giving about `target` intervals over span.
double nice_step(double span, int target) {
  double raw = span / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  double to_px(double v, int px0, int px1) const { return px0 + (v - lo) / (hi - lo) * (px1 - px0); }
};

// Extends [lo, hi] to whole tick steps so the ticks land on the frame.
Axis make_axis(double lo, double hi, int target) {
  if (!(lo <= hi)) { lo = 0; hi = 1; }  // no finite data at all
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    double d = std::max(0.5, std::abs(hi) * 0.1);
    lo -= d;
    hi += d;
  }
  Axis a;
  a.step = nice_step(hi - lo, target);
  a.lo = std::floor(lo / a.step + 1e-9) * a.step;
  a.hi = std::ceil(hi / a.step - 1e-9) * a.step;
  return a;
}

// Plain decimals sized to the step ("0.25", "1500"); very large or small values in a compact
// exponent form ("2e6", "5e-5") so the labels stay short.
std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-6) return "0";  // also avoids "-0.0" from rounding
  char buf[32];
  if (std::abs(v) >= 1e6 || step < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    std::string s = buf;
    size_t e = s.find('e');
    if (e == std::string::npos) return s;
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    bool neg = exp[0] == '-';
    size_t digits = exp.find_first_not_of("+-0");
    return mant + "e" + (neg ? "-" : "") + (digits == std::string::npos ? "0" : exp.substr(digits));
  }
  int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::vector<double> ticks(const Axis& a) {
  std::vector<double> t;
  int n = int(std::lround((a.hi - a.lo) / a.step));
  for (int i = 0; i <= n; ++i) t.push_back(a.lo + i * a.step);
  return t;
}

// Colour-blind-friendly categorical palette (the usual "tab10" hues), cycled.
Color series_color(size_t i) {
  static const Color kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                   {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                   {188, 189, 34}, {23, 190, 207}};
  return kPalette[i % 10];
}

bool finite(float v) { return std::isfinite(v); }

void data_range(const LinePlot& p, double& xlo, double& xhi, double& ylo, double& yhi) {
  xlo = ylo = INFINITY;
  xhi = yhi = -INFINITY;
  for (const Series& s : p.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i])) continue;
      xlo = std::min(xlo, double(s.x[i]));
      xhi = std::max(xhi, double(s.x[i]));
      ylo = std::min(ylo, double(s.y[i]));
      yhi = std::max(yhi, double(s.y[i]));
    }
  for (float v : p.vlines)
    if (finite(v)) {
      xlo = std::min(xlo, double(v));
      xhi = std::max(xhi, double(v));
    }
}

// Pixel rectangle of the plotting area inside the image.
struct Frame {
  int x0, y0, x1, y1;  // inclusive-exclusive corners: left, top, right, bottom
};

void draw_axes(Canvas& c, const Frame& f, const Axis& ax, const Axis& ay, int s) {
  for (double t : ticks(ax)) {
    int x = int(std::lround(ax.to_px(t, f.x0, f.x1)));
    c.fill_rect(x, f.y0, 1, f.y1 - f.y0, kGrid);
    c.fill_rect(x, f.y1, 1, 2 * s + 1, kAxis);
    c.text_centered(x, f.y1 + 3 * s + 1, tick_label(t, ax.step), kBlack, s);
  }
  for (double t : ticks(ay)) {
    int y = int(std::lround(ay.to_px(t, f.y1, f.y0)));
    c.fill_rect(f.x0, y, f.x1 - f.x0, 1, kGrid);
    c.fill_rect(f.x0 - 2 * s - 1, y, 2 * s + 1, 1, kAxis);
    std::string lab = tick_label(t, ay.step);
    c.text(f.x0 - 3 * s - 1 - text_width(lab, s), y - text_height(s) / 2, lab, kBlack, s);
  }
  c.frame(f.x0, f.y0, f.x1 - f.x0 + 1, f.y1 - f.y0 + 1, kAxis);
}

void draw_vlines(Canvas& c, const Frame& f, const Axis& ax, const std::vector<float>& vlines) {
  for (float v : vlines) {
    if (!finite(v)) continue;
    int x = int(std::lround(ax.to_px(v, f.x0, f.x1)));
    for (int y = f.y0; y < f.y1; y += 10) c.fill_rect(x, y, 2, std::min(6, f.y1 - y), kAxis);
  }
}

void draw_series(Canvas& c, const Frame& f, const Axis& ax, const Axis& ay, const Series& s,
                 Color col) {
  bool have_prev = false;
  int px = 0, py = 0;
  const bool markers = s.x.size() <= 40;  // sparse curves read better with their points marked
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (!finite(s.x[i]) || !finite(s.y[i])) { have_prev = false; continue; }
    int x = int(std::lround(ax.to_px(s.x[i], f.x0, f.x1)));
    int y = int(std::lround(ay.to_px(s.y[i], f.y1, f.y0)));
    if (s.points_only) {  // 5 x 5: a point a reader can see and whose colour reads
      c.fill_rect(x - 2, y - 2, 5, 5, col);
      continue;
    }
    if (have_prev) c.line(px, py, x, y, col, 2);
    if (markers || s.x.size() == 1) c.fill_rect(x - 2, y - 2, 5, 5, col);
    px = x;
    py = y;
    have_prev = true;
  }
}

// Number of data points of all series that fall inside the pixel box (x0, y0, w, h).
int points_inside(const std::vector<Series>& series, const Frame& f, const Axis& ax, const Axis& ay,
                  int x0, int y0, int w, int h) {
  int n = 0;
  for (const Series& se : series)
    for (size_t i = 0; i < se.x.size(); ++i) {
      if (!finite(se.x[i]) || !finite(se.y[i])) continue;
      double x = ax.to_px(se.x[i], f.x0, f.x1), y = ay.to_px(se.y[i], f.y1, f.y0);
      n += x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
    }
  return n;
}

// The legend's size and inner layout at text scale s.
struct LegendBox {
  int w = 0, h = 0;  // 0 x 0: no series has a label, no legend
  int row = 0, swatch = 0, padding = 0;
};
LegendBox legend_box(const std::vector<Series>& series, int s) {
  int widest = 0;
  bool any = false;
  for (const Series& se : series) {
    widest = std::max(widest, text_width(se.label, s));
    any = any || !se.label.empty();
  }
  if (!any) return {};
  LegendBox b;
  b.row = text_height(s) + 4 * s;
  b.swatch = 12 * s;
  b.padding = 4 * s;
  b.w = b.padding * 3 + b.swatch + widest;
  b.h = b.padding * 2 + b.row * int(series.size()) - 4 * s;
  return b;
}
bool is_scatter(const std::vector<Series>& series) {
  for (const Series& se : series)
    if (se.points_only) return true;
  return false;
}

// A scatter's legend stands in the right margin, off the data; a line plot's goes in whichever
// corner of the plot hides the fewest data points.
void draw_legend(Canvas& c, const Frame& f, const Axis& ax, const Axis& ay,
                 const std::vector<Series>& series, int s) {
  const LegendBox box = legend_box(series, s);
  if (box.w == 0) return;
  const int w = box.w, h = box.h, row = box.row, swatch = box.swatch, padding = box.padding;
  int x0 = f.x1 + 8 * s, y0 = f.y0;
  if (!is_scatter(series)) {
    const int xs[2] = {f.x1 - w - 6 * s, f.x0 + 6 * s}, ys[2] = {f.y0 + 6 * s, f.y1 - h - 6 * s};
    int best = -1;
    for (int cy : ys)
      for (int cx : xs) {
        int hidden = points_inside(series, f, ax, ay, cx, cy, w, h);
        if (best < 0 || hidden < best) { best = hidden; x0 = cx; y0 = cy; }
      }
  }
  c.fill_rect(x0, y0, w, h, kWhite);
  c.frame(x0, y0, w, h, kAxis);
  for (size_t i = 0; i < series.size(); ++i) {
    int y = y0 + padding + int(i) * row;
    if (series[i].points_only)
      c.fill_rect(x0 + padding + swatch / 2 - 3 * s, y + text_height(s) / 2 - 3 * s, 6 * s, 6 * s, series_color(i));
    else
      c.fill_rect(x0 + padding, y + text_height(s) / 2 - 1, swatch, 3, series_color(i));
    c.text(x0 + padding * 2 + swatch, y, series[i].label, kBlack, s);
  }
}

void check_plot(const std::string& path, const LinePlot& p) {
  if (p.width < 100 || p.height < 80 || p.width > 10000 || p.height > 10000)
    fail(path, "plot size " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                   " outside 100x80 .. 10000x10000");
  for (const Series& s : p.series)
    if (s.x.size() != s.y.size())
      fail(path, "series '" + s.label + "' has " + std::to_string(s.x.size()) + " x values but " +
                     std::to_string(s.y.size()) + " y values");
}

// ---------------------------------------------------------------------------------------------
// Heatmap.

// White -> light blue -> dark blue, t in [0,1] (like the usual confusion-matrix "Blues").
Color blues(double t) {
  static const double stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  t = std::min(1.0, std::max(0.0, t));
  int k = t < 0.5 ? 0 : 1;
  double u = (t - 0.5 * k) * 2;
  auto mix = [&](int ch) {
    return static_cast<uint8_t>(std::lround(stops[k][ch] + (stops[k + 1][ch] - stops[k][ch]) * u));
  };
  return Color{mix(0), mix(1), mix(2)};
}

std::string cell_text(float v, bool integers) {
  if (!finite(v)) return "-";
  char buf[32];
  if (integers || std::abs(v) >= 100) std::snprintf(buf, sizeof buf, "%.0f", double(v));
  else std::snprintf(buf, sizeof buf, "%.2f", double(v));
  return buf;
}

void check_heatmap(const std::string& path, const Heatmap& h) {
  if (h.rows <= 0 || h.cols <= 0 || h.rows > 1000 || h.cols > 1000)
    fail(path, "heatmap needs 1..1000 rows and columns, got " + std::to_string(h.rows) + "x" +
                   std::to_string(h.cols));
  if (h.values.size() != size_t(h.rows) * size_t(h.cols))
    fail(path, "heatmap has " + std::to_string(h.values.size()) + " values for " +
                   std::to_string(h.rows) + "x" + std::to_string(h.cols) + " cells");
  if (!h.row_labels.empty() && h.row_labels.size() != size_t(h.rows))
    fail(path, "heatmap has " + std::to_string(h.row_labels.size()) + " row labels for " +
                   std::to_string(h.rows) + " rows");
  if (!h.col_labels.empty() && h.col_labels.size() != size_t(h.cols))
    fail(path, "heatmap has " + std::to_string(h.col_labels.size()) + " column labels for " +
                   std::to_string(h.cols) + " columns");
}

std::vector<std::string> labels_or_indices(const std::vector<std::string>& given, int n) {
  if (!given.empty()) return given;
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(std::to_string(i));
  return out;
}

int widest_text(const std::vector<std::string>& v, int scale) {
  int w = 0;
  for (const std::string& s : v) w = std::max(w, text_width(s, scale));
  return w;
}

}  // namespace

void write_image_grid(const std::string& path, const float* images, int n, int channels,
                      int height, int width, int ncols, int pad, int upscale) {
  check_grid_args(path, images, n, channels, height, width, ncols, pad, upscale);
  const int cols = std::min(ncols, n), rows = (n + cols - 1) / cols;
  const int cw = width * upscale, ch = height * upscale;
  const long long W = (long long)cols * cw + (long long)(cols + 1) * pad;
  const long long H = (long long)rows * ch + (long long)(rows + 1) * pad;
  if (W > 30000 || H > 30000) fail(path, "image grid would be too large");
  // Mid gray gaps stay visible against both black MNIST backgrounds and white ones.
  std::vector<uint8_t> px(size_t(W * H) * size_t(channels), 128);
  const size_t plane = size_t(height) * size_t(width);
  for (int i = 0; i < n; ++i) {
    const float* img = images + size_t(i) * plane * size_t(channels);
    const int ox = pad + (i % cols) * (cw + pad), oy = pad + (i / cols) * (ch + pad);
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        size_t src = size_t(y / upscale) * size_t(width) + size_t(x / upscale);
        size_t dst = (size_t(oy + y) * size_t(W) + size_t(ox + x)) * size_t(channels);
        for (int k = 0; k < channels; ++k) px[dst + size_t(k)] = to_byte(img[size_t(k) * plane + src]);
      }
  }
  save_png(path, int(W), int(H), channels, px.data());
}

void write_line_plot(const std::string& path, const LinePlot& p) {
  check_plot(path, p);
  const int s = (p.width >= 500 && p.height >= 300) ? 2 : 1;  // text scale
  double xlo, xhi, ylo, yhi;
  data_range(p, xlo, xhi, ylo, yhi);
  const Axis ax = make_axis(xlo, xhi, std::max(2, p.width / 140));
  const Axis ay = make_axis(ylo, yhi, std::max(2, p.height / 90));

  int ylab_w = 0;
  for (double t : ticks(ay)) ylab_w = std::max(ylab_w, text_width(tick_label(t, ay.step), s));
  const int th = text_height(s);
  Frame f;
  f.x0 = 8 * s + (p.ylabel.empty() ? 0 : th + 6 * s) + ylab_w + 4 * s;
  f.y0 = 6 * s + (p.title.empty() ? 0 : th + 8 * s);
  // Room on the right for half of the last x tick label, which is centred on the frame edge.
  f.x1 = p.width - std::max(14 * s, text_width(tick_label(ax.hi, ax.step), s) / 2 + 4 * s);
  if (is_scatter(p.series)) f.x1 -= legend_box(p.series, s).w + 8 * s;  // the legend's margin
  f.y1 = p.height - (6 * s + th + 6 * s + (p.xlabel.empty() ? 0 : th + 6 * s));
  if (f.x1 - f.x0 < 20 || f.y1 - f.y0 < 20) fail(path, "plot too small for its labels");

  Canvas c(p.width, p.height, kWhite);
  draw_axes(c, f, ax, ay, s);
  draw_vlines(c, f, ax, p.vlines);
  for (size_t i = 0; i < p.series.size(); ++i)
    draw_series(c, f, ax, ay, p.series[i], series_color(i));
  draw_legend(c, f, ax, ay, p.series, s);
  c.text_centered((f.x0 + f.x1) / 2, 6 * s, p.title, kBlack, s);
  c.text_centered((f.x0 + f.x1) / 2, p.height - 6 * s - th, p.xlabel, kBlack, s);
  c.text(6 * s, (f.y0 + f.y1) / 2 + text_width(p.ylabel, s) / 2, p.ylabel, kBlack, s, true);
  c.save(path);
}

void write_heatmap(const std::string& path, const Heatmap& h) {
  check_heatmap(path, h);
  const int s = 2;
  const std::vector<std::string> rl = labels_or_indices(h.row_labels, h.rows);
  const std::vector<std::string> cl = labels_or_indices(h.col_labels, h.cols);

  float lo = INFINITY, hi = -INFINITY;
  bool integers = true;
  for (float v : h.values) {
    if (!finite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    integers = integers && v == std::round(v);
  }
  std::vector<std::string> texts;
  for (float v : h.values) texts.push_back(h.show_values ? cell_text(v, integers) : "");

  const int th = text_height(s);
  const int cell_w = std::max({12 * s, widest_text(texts, s) + 8 * s, widest_text(cl, s) + 4 * s});
  const int cell_h = std::max(12 * s, th + 8 * s);
  const int gx = 6 * s + (h.ylabel.empty() ? 0 : th + 6 * s) + widest_text(rl, s) + 4 * s;
  const int gy = 6 * s + (h.title.empty() ? 0 : th + 8 * s);
  const int gw = cell_w * h.cols, gh = cell_h * h.rows;
  const int W = gx + gw + 8 * s;
  const int H = gy + gh + 4 * s + th + (h.xlabel.empty() ? 0 : 6 * s + th) + 6 * s;
  if (W > 30000 || H > 30000) fail(path, "heatmap would be too large");

  Canvas c(W, H, kWhite);
  for (int r = 0; r < h.rows; ++r)
    for (int k = 0; k < h.cols; ++k) {
      float v = h.values[size_t(r) * size_t(h.cols) + size_t(k)];
      double t = hi > lo ? (v - lo) / double(hi - lo) : 0.5;
      Color bg = finite(v) ? blues(t) : Color{200, 200, 200};
      int x = gx + k * cell_w, y = gy + r * cell_h;
      c.fill_rect(x, y, cell_w, cell_h, bg);
      Color fg = (finite(v) && t > 0.5) ? kWhite : kBlack;  // keep the number readable
      c.text_centered(x + cell_w / 2, y + (cell_h - th) / 2, texts[size_t(r) * size_t(h.cols) + size_t(k)], fg, s);
    }
  c.frame(gx - 1, gy - 1, gw + 2, gh + 2, kAxis);
  for (int r = 0; r < h.rows; ++r)
    c.text(gx - 4 * s - text_width(rl[size_t(r)], s), gy + r * cell_h + (cell_h - th) / 2, rl[size_t(r)], kBlack, s);
  for (int k = 0; k < h.cols; ++k)
    c.text_centered(gx + k * cell_w + cell_w / 2, gy + gh + 4 * s, cl[size_t(k)], kBlack, s);
  c.text_centered(gx + gw / 2, 6 * s, h.title, kBlack, s);
  c.text_centered(gx + gw / 2, gy + gh + 4 * s + th + 6 * s, h.xlabel, kBlack, s);
  c.text(6 * s, gy + gh / 2 + text_width(h.ylabel, s) / 2, h.ylabel, kBlack, s, true);
  c.save(path);
}
