#include "data/classify_augment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

// ---- PIL's resampling (Resample.c): coefficients per output pixel, 8-bit fixed point ---------------------

constexpr int kPrecisionBits = 32 - 8 - 2;

struct Coefficients {
  int ksize = 0;
  std::vector<int> bounds;  // per output pixel: first input index, count
  std::vector<int> weights;  // ksize per output pixel, fixed point
};

Coefficients bilinear_coefficients(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;  // the triangle filter's support is 1
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(out_size) * 2);
  c.weights.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(static_cast<size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double t = std::abs((x + xmin - center + 0.5) * ss);
      k[static_cast<size_t>(x)] = t < 1.0 ? 1.0 - t : 0.0;
      ww += k[static_cast<size_t>(x)];
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[static_cast<size_t>(x)] / ww : k[static_cast<size_t>(x)];
      c.weights[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<int>(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    c.bounds[static_cast<size_t>(xx) * 2] = xmin;
    c.bounds[static_cast<size_t>(xx) * 2 + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int64_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

/// One pass of PIL's separable resampling along the rows (horizontal) or the columns.
cv::Mat resample_pass(const cv::Mat& in, const Coefficients& c, bool horizontal, int out_size, int first_row = 0,
                      int rows = -1) {
  const int channels = in.channels();
  if (horizontal) {
    const int height = rows < 0 ? in.rows : rows;
    cv::Mat out(height, out_size, in.type());
    for (int y = 0; y < height; ++y) {
      const uint8_t* src = in.ptr<uint8_t>(y + first_row);
      uint8_t* dst = out.ptr<uint8_t>(y);
      for (int xx = 0; xx < out_size; ++xx) {
        const int xmin = c.bounds[static_cast<size_t>(xx) * 2], xmax = c.bounds[static_cast<size_t>(xx) * 2 + 1];
        const int* k = &c.weights[static_cast<size_t>(xx) * c.ksize];
        for (int ch = 0; ch < channels; ++ch) {
          int64_t ss = int64_t{1} << (kPrecisionBits - 1);
          for (int x = 0; x < xmax; ++x) ss += static_cast<int64_t>(src[(x + xmin) * channels + ch]) * k[x];
          dst[xx * channels + ch] = clip8(ss);
        }
      }
    }
    return out;
  }
  cv::Mat out(out_size, in.cols, in.type());
  const int row_bytes = in.cols * channels;
  for (int yy = 0; yy < out_size; ++yy) {
    const int ymin = c.bounds[static_cast<size_t>(yy) * 2], ymax = c.bounds[static_cast<size_t>(yy) * 2 + 1];
    const int* k = &c.weights[static_cast<size_t>(yy) * c.ksize];
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (int i = 0; i < row_bytes; ++i) {
      int64_t ss = int64_t{1} << (kPrecisionBits - 1);
      for (int y = 0; y < ymax; ++y) ss += static_cast<int64_t>(in.ptr<uint8_t>(y + ymin)[i]) * k[y];
      dst[i] = clip8(ss);
    }
  }
  return out;
}

// ---- PIL's colour helpers ---------------------------------------------------------------------------------

/// PIL's RGB -> L: (299 R + 587 G + 114 B) / 1000 in 16-bit fixed point, rounded.
cv::Mat to_luminance(const cv::Mat& rgb) {
  cv::Mat l(rgb.rows, rgb.cols, CV_8UC1);
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    uint8_t* o = l.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3)
      o[x] = static_cast<uint8_t>((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
  }
  return l;
}

/// PIL's Image.blend(degenerate, image, alpha): interpolation truncates, extrapolation clips.
cv::Mat blend(const cv::Mat& degenerate, const cv::Mat& image, double factor) {
  const auto alpha = static_cast<float>(factor);
  cv::Mat out(image.size(), image.type());
  const bool interpolate = alpha >= 0 && alpha <= 1;
  const size_t n = image.total() * image.channels();
  const uint8_t* a = degenerate.ptr<uint8_t>();
  const uint8_t* b = image.ptr<uint8_t>();
  uint8_t* o = out.ptr<uint8_t>();
  for (size_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(a[i]) + alpha * static_cast<float>(static_cast<int>(b[i]) - static_cast<int>(a[i]));
    o[i] = interpolate ? static_cast<uint8_t>(v) : v <= 0 ? 0 : v >= 255 ? 255 : static_cast<uint8_t>(v);
  }
  return out;
}

cv::Mat apply_lut(const cv::Mat& rgb, const std::array<std::array<uint8_t, 256>, 3>& luts) {
  cv::Mat out(rgb.size(), rgb.type());
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols * 3; ++x) o[x] = luts[static_cast<size_t>(x % 3)][p[x]];
  }
  return out;
}

std::array<std::array<int64_t, 256>, 3> histograms(const cv::Mat& rgb) {
  std::array<std::array<int64_t, 256>, 3> h{};
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols * 3; ++x) ++h[static_cast<size_t>(x % 3)][p[x]];
  }
  return h;
}

// Pillow's conversions (Convert.c), with its mix of float variables and double constants.
void rgb_to_hsv(uint8_t r, uint8_t g, uint8_t b, uint8_t& h, uint8_t& s, uint8_t& v) {
  const uint8_t maxc = std::max({r, g, b}), minc = std::min({r, g, b});
  v = maxc;
  if (minc == maxc) {
    h = s = 0;
    return;
  }
  const float cr = static_cast<float>(maxc - minc);
  const float sf = cr / static_cast<float>(maxc);
  const float rc = static_cast<float>(maxc - r) / cr, gc = static_cast<float>(maxc - g) / cr,
              bc = static_cast<float>(maxc - b) / cr;
  float hf = r == maxc ? bc - gc : g == maxc ? static_cast<float>(2.0 + rc - bc) : static_cast<float>(4.0 + gc - rc);
  hf = static_cast<float>(std::fmod(hf / 6.0 + 1.0, 1.0));
  h = static_cast<uint8_t>(std::clamp(static_cast<int>(hf * 255.0), 0, 255));
  s = static_cast<uint8_t>(std::clamp(static_cast<int>(sf * 255.0), 0, 255));
}

void hsv_to_rgb(uint8_t h, uint8_t s, uint8_t v, uint8_t* out) {
  if (s == 0) {
    out[0] = out[1] = out[2] = v;
    return;
  }
  const int i = static_cast<int>(std::floor(static_cast<float>(h) * 6.0 / 255.0));
  const float f = static_cast<float>(static_cast<float>(h) * 6.0 / 255.0 - static_cast<float>(i));
  const float fs = static_cast<float>(static_cast<float>(s) / 255.0);
  auto level = [](double x) { return static_cast<uint8_t>(std::clamp(static_cast<int>(std::round(x)), 0, 255)); };
  const auto p = level(static_cast<float>(v) * (1.0 - fs));
  const auto q = level(static_cast<float>(v) * (1.0 - fs * f));
  const auto t = level(static_cast<float>(v) * (1.0 - fs * (1.0 - f)));
  const std::array<std::array<uint8_t, 3>, 6> rgb{{{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}}};
  const auto& c = rgb[static_cast<size_t>(i % 6)];
  out[0] = c[0], out[1] = c[1], out[2] = c[2];
}

// ---- geometry, as torchvision's F.affine / F.rotate on PIL images (bilinear, fill 0) ----------------------

/// PIL's AFFINE transform with BILINEAR sampling: output pixel (x, y) samples the input at
/// matrix x (x + 0.5, y + 0.5); a sample outside the image is the fill (0), one inside reads its
/// neighbours clamped to the edge and truncates, as Pillow's bilinear filter.
cv::Mat pil_affine(const cv::Mat& rgb, const std::array<double, 6>& m) {
  cv::Mat out(rgb.size(), rgb.type(), cv::Scalar::all(0));
  const int w = rgb.cols, h = rgb.rows;
  auto clamp_x = [w](int x) { return x < 0 ? 0 : x < w ? x : w - 1; };
  for (int y = 0; y < h; ++y) {
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      double xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
      double yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
      if (xin < 0.0 || xin >= w || yin < 0.0 || yin >= h) continue;
      xin -= 0.5, yin -= 0.5;
      const int x0 = static_cast<int>(std::floor(xin)), y0 = static_cast<int>(std::floor(yin));
      const double dx = xin - x0, dy = yin - y0;
      const uint8_t* top = rgb.ptr<uint8_t>(std::clamp(y0, 0, h - 1));
      const uint8_t* bottom = y0 + 1 >= 0 && y0 + 1 < h ? rgb.ptr<uint8_t>(y0 + 1) : nullptr;
      const int left = clamp_x(x0) * 3, right = clamp_x(x0 + 1) * 3;
      for (int c = 0; c < 3; ++c) {
        const double v1 = top[left + c] + (top[right + c] - top[left + c]) * dx;
        const double v2 = bottom ? bottom[left + c] + (bottom[right + c] - bottom[left + c]) * dx : v1;
        o[x * 3 + c] = static_cast<uint8_t>(v1 + (v2 - v1) * dy);
      }
    }
  }
  return out;
}

/// torchvision's _get_inverse_affine_matrix: output -> input for rotation `angle`, translation, shear (degrees).
std::array<double, 6> inverse_affine(double cx, double cy, double angle, double tx, double ty, double shear_x,
                                     double shear_y) {
  const double rot = angle * M_PI / 180, sx = shear_x * M_PI / 180, sy = shear_y * M_PI / 180;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  std::array<double, 6> m{d, -b, 0.0, -c, a, 0.0};
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

cv::Mat shear(const cv::Mat& rgb, double magnitude, bool horizontal) {
  const double degrees = std::atan(magnitude) * 180 / M_PI;
  return pil_affine(rgb, inverse_affine(0, 0, 0, 0, 0, horizontal ? degrees : 0, horizontal ? 0 : degrees));
}

cv::Mat translate(const cv::Mat& rgb, double pixels, bool horizontal) {
  const double t = static_cast<double>(static_cast<int>(pixels));  // int(magnitude), as torchvision
  return pil_affine(rgb, inverse_affine(rgb.cols * 0.5, rgb.rows * 0.5, 0, horizontal ? t : 0, horizontal ? 0 : t,
                                        0, 0));
}

/// PIL's Image.rotate(angle): counter-clockwise about the centre, same size.
cv::Mat rotate(const cv::Mat& rgb, double angle) {
  if (std::fmod(angle, 360.0) == 0) return rgb.clone();
  const double r = -angle * M_PI / 180, cx = rgb.cols / 2.0, cy = rgb.rows / 2.0;
  std::array<double, 6> m{std::cos(r), std::sin(r), 0.0, -std::sin(r), std::cos(r), 0.0};
  m[2] = m[0] * -cx + m[1] * -cy + cx;
  m[5] = m[3] * -cx + m[4] * -cy + cy;
  return pil_affine(rgb, m);
}

// ---- the policies -------------------------------------------------------------------------------------------

enum class Op {
  Identity, ShearX, ShearY, TranslateX, TranslateY, Rotate, Brightness, Color, Contrast, Sharpness,
  Posterize, Solarize, AutoContrast, Equalize, Invert
};

/// torchvision's _apply_op.
cv::Mat apply_op(const cv::Mat& rgb, Op op, double magnitude) {
  switch (op) {
    case Op::Identity: return rgb;
    case Op::ShearX: return shear(rgb, magnitude, true);
    case Op::ShearY: return shear(rgb, magnitude, false);
    case Op::TranslateX: return translate(rgb, magnitude, true);
    case Op::TranslateY: return translate(rgb, magnitude, false);
    case Op::Rotate: return rotate(rgb, magnitude);
    case Op::Brightness: return adjust_brightness(rgb, 1.0 + magnitude);
    case Op::Color: return adjust_saturation(rgb, 1.0 + magnitude);
    case Op::Contrast: return adjust_contrast(rgb, 1.0 + magnitude);
    case Op::Sharpness: return adjust_sharpness(rgb, 1.0 + magnitude);
    case Op::Posterize: return posterize(rgb, static_cast<int>(magnitude));
    case Op::Solarize: return solarize(rgb, magnitude);
    case Op::AutoContrast: return autocontrast(rgb);
    case Op::Equalize: return equalize(rgb);
    case Op::Invert: return invert(rgb);
  }
  return rgb;
}

/// One op's magnitude at `bin` of `bins` (torchvision's augmentation spaces), and whether its sign is drawn.
struct Magnitude {
  double value = 0;
  bool signed_ = false;
};

Magnitude magnitude_of(Op op, int bin, int bins, const cv::Mat& rgb, bool augmix) {
  const double t = bins > 1 ? static_cast<double>(bin) / (bins - 1) : 0.0;  // linspace(0, 1, bins)[bin]
  switch (op) {
    case Op::ShearX:
    case Op::ShearY: return {0.3 * t, true};
    case Op::TranslateX: return {(augmix ? rgb.cols / 3.0 : 150.0 / 331.0 * rgb.cols) * t, true};
    case Op::TranslateY: return {(augmix ? rgb.rows / 3.0 : 150.0 / 331.0 * rgb.rows) * t, true};
    case Op::Rotate: return {30.0 * t, true};
    case Op::Brightness:
    case Op::Color:
    case Op::Contrast:
    case Op::Sharpness: return {0.9 * t, true};
    case Op::Posterize:  // 8 (4 for AugMix) - round(bin / ((bins - 1) / 4)), bits kept
      return {(augmix ? 4.0 : 8.0) - std::nearbyint(bin / ((bins - 1) / 4.0)), false};
    case Op::Solarize: return {255.0 * (1 - t), false};
    default: return {0.0, false};
  }
}

double signed_magnitude(Magnitude m, Rng& rng) { return m.signed_ && rng.randint(0, 1) == 1 ? -m.value : m.value; }

/// RandAugment(num_ops=2, magnitude=9, num_magnitude_bins=31).
cv::Mat rand_augment(cv::Mat rgb, Rng& rng) {
  static const Op ops[] = {Op::Identity,   Op::ShearX,     Op::ShearY,    Op::TranslateX, Op::TranslateY,
                           Op::Rotate,     Op::Brightness, Op::Color,     Op::Contrast,   Op::Sharpness,
                           Op::Posterize,  Op::Solarize,   Op::AutoContrast, Op::Equalize};
  for (int k = 0; k < 2; ++k) {
    const Op op = ops[rng.randint(0, std::size(ops) - 1)];
    rgb = apply_op(rgb, op, signed_magnitude(magnitude_of(op, 9, 31, rgb, false), rng));
  }
  return rgb;
}

/// AutoAugment's ImageNet policy: 25 pairs of (op, probability, magnitude bin of 10; -1 for none).
cv::Mat auto_augment(cv::Mat rgb, Rng& rng) {
  struct Step {
    Op op;
    double p;
    int bin;
  };
  static const std::array<std::array<Step, 2>, 25> policies{{
      {{{Op::Posterize, 0.4, 8}, {Op::Rotate, 0.6, 9}}},
      {{{Op::Solarize, 0.6, 5}, {Op::AutoContrast, 0.6, -1}}},
      {{{Op::Equalize, 0.8, -1}, {Op::Equalize, 0.6, -1}}},
      {{{Op::Posterize, 0.6, 7}, {Op::Posterize, 0.6, 6}}},
      {{{Op::Equalize, 0.4, -1}, {Op::Solarize, 0.2, 4}}},
      {{{Op::Equalize, 0.4, -1}, {Op::Rotate, 0.8, 8}}},
      {{{Op::Solarize, 0.6, 3}, {Op::Equalize, 0.6, -1}}},
      {{{Op::Posterize, 0.8, 5}, {Op::Equalize, 1.0, -1}}},
      {{{Op::Rotate, 0.2, 3}, {Op::Solarize, 0.6, 8}}},
      {{{Op::Equalize, 0.6, -1}, {Op::Posterize, 0.4, 6}}},
      {{{Op::Rotate, 0.8, 8}, {Op::Color, 0.4, 0}}},
      {{{Op::Rotate, 0.4, 9}, {Op::Equalize, 0.6, -1}}},
      {{{Op::Equalize, 0.0, -1}, {Op::Equalize, 0.8, -1}}},
      {{{Op::Invert, 0.6, -1}, {Op::Equalize, 1.0, -1}}},
      {{{Op::Color, 0.6, 4}, {Op::Contrast, 1.0, 8}}},
      {{{Op::Rotate, 0.8, 8}, {Op::Color, 1.0, 2}}},
      {{{Op::Color, 0.8, 8}, {Op::Solarize, 0.8, 7}}},
      {{{Op::Sharpness, 0.4, 7}, {Op::Invert, 0.6, -1}}},
      {{{Op::ShearX, 0.6, 5}, {Op::Equalize, 1.0, -1}}},
      {{{Op::Color, 0.4, 0}, {Op::Equalize, 0.6, -1}}},
      {{{Op::Equalize, 0.4, -1}, {Op::Solarize, 0.2, 4}}},
      {{{Op::Solarize, 0.6, 5}, {Op::AutoContrast, 0.6, -1}}},
      {{{Op::Invert, 0.6, -1}, {Op::Equalize, 1.0, -1}}},
      {{{Op::Color, 0.6, 4}, {Op::Contrast, 1.0, 8}}},
      {{{Op::Equalize, 0.8, -1}, {Op::Equalize, 0.6, -1}}},
  }};
  const auto& policy = policies[static_cast<size_t>(rng.randint(0, policies.size() - 1))];
  const double draws[2] = {rng.uniform(), rng.uniform()};
  for (size_t k = 0; k < 2; ++k) {
    const auto& step = policy[k];
    if (draws[k] > step.p) continue;
    const auto m = step.bin >= 0 ? magnitude_of(step.op, step.bin, 10, rgb, false) : Magnitude{};
    rgb = apply_op(rgb, step.op, signed_magnitude(m, rng));
  }
  return rgb;
}

/// AugMix(severity=3, mixture_width=3, chain_depth=random 1-3, alpha=1, all_ops=True): the image
/// blended (Beta(1, 1)) with a Dirichlet(1, 1, 1) mix of three chains of random ops.
cv::Mat aug_mix(const cv::Mat& rgb, Rng& rng) {
  static const Op ops[] = {Op::ShearX,   Op::ShearY,       Op::TranslateX, Op::TranslateY, Op::Rotate,
                           Op::Posterize, Op::Solarize,    Op::AutoContrast, Op::Equalize, Op::Brightness,
                           Op::Color,    Op::Contrast,     Op::Sharpness};
  constexpr int kWidth = 3, kSeverity = 3, kBins = 11;
  auto exponential = [&rng] { return -std::log(1.0 - rng.uniform()); };  // Gamma(1): Dirichlet(1, ...) parts
  const double e0 = exponential(), e1 = exponential();
  const double keep = e0 / (e0 + e1);
  std::array<double, kWidth> weights{};
  double total = 0;
  for (auto& w : weights) total += (w = exponential());
  cv::Mat mix;
  rgb.convertTo(mix, CV_32FC3, keep);
  for (int i = 0; i < kWidth; ++i) {
    cv::Mat aug = rgb;
    const int64_t depth = rng.randint(1, 3);
    for (int64_t d = 0; d < depth; ++d) {
      const Op op = ops[rng.randint(0, std::size(ops) - 1)];
      const int bin = static_cast<int>(rng.randint(0, kSeverity - 1));
      aug = apply_op(aug, op, signed_magnitude(magnitude_of(op, bin, kBins, rgb, true), rng));
    }
    cv::Mat f;
    aug.convertTo(f, CV_32FC3, (1 - keep) * weights[static_cast<size_t>(i)] / total);
    mix += f;
  }
  cv::Mat out(rgb.size(), CV_8UC3);
  for (int y = 0; y < mix.rows; ++y) {  // float -> uint8 truncates, as torch's .to(uint8)
    const float* p = mix.ptr<float>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < mix.cols * 3; ++x) o[x] = static_cast<uint8_t>(std::clamp(p[x], 0.0f, 255.0f));
  }
  return out;
}

/// torchvision's ColorJitter: the four adjustments in a random order, each factor drawn uniformly.
cv::Mat color_jitter(cv::Mat rgb, double brightness, double contrast, double saturation, double hue, Rng& rng) {
  std::array<int, 4> order{0, 1, 2, 3};
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng.randint(0, i - 1))]);
  auto factor = [&rng](double amount) { return rng.uniform(std::max(0.0, 1 - amount), 1 + amount); };
  const double b = factor(brightness), c = factor(contrast), s = factor(saturation), h = rng.uniform(-hue, hue);
  for (int fn : order) {
    if (fn == 0 && brightness > 0) rgb = adjust_brightness(rgb, b);
    if (fn == 1 && contrast > 0) rgb = adjust_contrast(rgb, c);
    if (fn == 2 && saturation > 0) rgb = adjust_saturation(rgb, s);
    if (fn == 3 && hue > 0) rgb = adjust_hue(rgb, h);
  }
  return rgb;
}

/// torchvision's RandomResizedCrop.get_params: (top, left, height, width).
cv::Rect random_resized_crop(int width, int height, double scale_lo, double scale_hi, Rng& rng) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(scale_lo, scale_hi);
    const double ratio = std::exp(rng.uniform(log_lo, log_hi));
    const int w = static_cast<int>(std::nearbyint(std::sqrt(target * ratio)));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(target / ratio)));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const auto top = static_cast<int>(rng.randint(0, height - h)), left = static_cast<int>(rng.randint(0, width - w));
      return {left, top, w, h};
    }
  }
  // Fallback: a central crop at the nearest allowed aspect ratio.
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < 3.0 / 4.0) {
    h = static_cast<int>(std::nearbyint(w / (3.0 / 4.0)));
  } else if (in_ratio > 4.0 / 3.0) {
    w = static_cast<int>(std::nearbyint(h * (4.0 / 3.0)));
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

/// torchvision's RandomErasing(scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0), after its own p draw.
void random_erase(cv::Mat& rgb, Rng& rng) {
  const double area = static_cast<double>(rgb.rows) * rgb.cols;
  const double log_lo = std::log(0.3), log_hi = std::log(3.3);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double erase = area * rng.uniform(0.02, 0.33);
    const double ratio = std::exp(rng.uniform(log_lo, log_hi));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(erase * ratio)));
    const int w = static_cast<int>(std::nearbyint(std::sqrt(erase / ratio)));
    if (!(h < rgb.rows && w < rgb.cols)) continue;
    const auto top = static_cast<int>(rng.randint(0, rgb.rows - h)), left = static_cast<int>(rng.randint(0, rgb.cols - w));
    rgb(cv::Rect(left, top, w, h)).setTo(cv::Scalar::all(0));
    return;
  }
}

}  // namespace

cv::Mat pil_resize_bilinear(const cv::Mat& image, int width, int height) {
  YOLO_CHECK(image.depth() == CV_8U && width > 0 && height > 0, "pil_resize_bilinear: 8-bit image to {}x{}", width,
             height);
  if (image.cols == width && image.rows == height) return image.clone();
  const cv::Mat in = image.isContinuous() ? image : image.clone();
  const auto horizontal = bilinear_coefficients(in.cols, width);
  const auto vertical = bilinear_coefficients(in.rows, height);
  cv::Mat out = in;
  if (width != in.cols) {
    // Only the rows the vertical pass reads, as PIL does.
    const int first = height != in.rows ? vertical.bounds[0] : 0;
    const int last = height != in.rows ? vertical.bounds[static_cast<size_t>(height - 1) * 2] +
                                             vertical.bounds[static_cast<size_t>(height - 1) * 2 + 1]
                                       : in.rows;
    out = resample_pass(in, horizontal, true, width, first, last - first);
    if (height != in.rows) {
      auto shifted = vertical;
      for (int i = 0; i < height; ++i) shifted.bounds[static_cast<size_t>(i) * 2] -= first;
      return resample_pass(out, shifted, false, height);
    }
    return out;
  }
  return resample_pass(out, vertical, false, height);
}

cv::Mat classify_eval_transform(const cv::Mat& rgb, int64_t size) {
  const int w = rgb.cols, h = rgb.rows, s = static_cast<int>(size);
  // torchvision's Resize(size): the shorter side becomes `size`, the longer int(size * long / short).
  const int new_w = w <= h ? s : static_cast<int>(static_cast<double>(s) * w / h);
  const int new_h = w <= h ? static_cast<int>(static_cast<double>(s) * h / w) : s;
  const cv::Mat resized = pil_resize_bilinear(rgb, new_w, new_h);
  // CenterCrop: offsets rounded half to even, as Python's round().
  const int top = static_cast<int>(std::nearbyint((new_h - s) / 2.0));
  const int left = static_cast<int>(std::nearbyint((new_w - s) / 2.0));
  return resized(cv::Rect(left, top, s, s)).clone();
}

cv::Mat classify_train_transform(const cv::Mat& rgb, int64_t size, const AugmentOptions& hyp, Rng& rng) {
  const auto crop = random_resized_crop(rgb.cols, rgb.rows, 1.0 - hyp.scale, 1.0, rng);
  cv::Mat image = pil_resize_bilinear(rgb(crop), static_cast<int>(size), static_cast<int>(size));
  if (hyp.fliplr > 0 && rng.uniform() < hyp.fliplr) cv::flip(image, image, 1);
  if (hyp.flipud > 0 && rng.uniform() < hyp.flipud) cv::flip(image, image, 0);
  if (hyp.auto_augment == "randaugment") {
    image = rand_augment(image, rng);
  } else if (hyp.auto_augment == "autoaugment") {
    image = auto_augment(image, rng);
  } else if (hyp.auto_augment == "augmix") {
    image = aug_mix(image, rng);
  } else {
    YOLO_CHECK(hyp.auto_augment.empty(), "auto_augment={} is not a policy: randaugment, autoaugment, augmix or None",
               hyp.auto_augment);
    // Ultralytics jitters colour only without an auto_augment policy.
    image = color_jitter(image, hyp.hsv_v, hyp.hsv_v, hyp.hsv_s, hyp.hsv_h, rng);
  }
  if (rng.uniform() < hyp.erasing) random_erase(image, rng);
  return image;
}

cv::Mat apply_augment_op(const cv::Mat& rgb, const std::string& op, double magnitude) {
  static const std::vector<std::pair<std::string, Op>> names{
      {"Identity", Op::Identity},     {"ShearX", Op::ShearX},         {"ShearY", Op::ShearY},
      {"TranslateX", Op::TranslateX}, {"TranslateY", Op::TranslateY}, {"Rotate", Op::Rotate},
      {"Brightness", Op::Brightness}, {"Color", Op::Color},           {"Contrast", Op::Contrast},
      {"Sharpness", Op::Sharpness},   {"Posterize", Op::Posterize},   {"Solarize", Op::Solarize},
      {"AutoContrast", Op::AutoContrast}, {"Equalize", Op::Equalize}, {"Invert", Op::Invert}};
  for (const auto& [name, value] : names)
    if (name == op) return apply_op(rgb, value, magnitude);
  YOLO_FAIL("'{}' is not an augmentation operation", op);
}

cv::Mat adjust_brightness(const cv::Mat& rgb, double factor) {
  return blend(cv::Mat::zeros(rgb.size(), rgb.type()), rgb, factor);
}

cv::Mat adjust_contrast(const cv::Mat& rgb, double factor) {
  // PIL: the degenerate image is the luminance's mean grey, rounded to an integer.
  const cv::Mat l = to_luminance(rgb);
  const int mean = static_cast<int>(cv::mean(l)[0] + 0.5);
  return blend(cv::Mat(rgb.size(), rgb.type(), cv::Scalar::all(mean)), rgb, factor);
}

cv::Mat adjust_saturation(const cv::Mat& rgb, double factor) {
  cv::Mat grey;
  cv::cvtColor(to_luminance(rgb), grey, cv::COLOR_GRAY2RGB);
  return blend(grey, rgb, factor);
}

cv::Mat adjust_sharpness(const cv::Mat& rgb, double factor) {
  // PIL's SMOOTH filter (3x3, centre 5, others 1, / 13, rounded); the border keeps its pixels.
  cv::Mat smooth = rgb.clone();
  for (int y = 1; y + 1 < rgb.rows; ++y) {
    for (int x = 1; x + 1 < rgb.cols; ++x) {
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) sum += rgb.ptr<uint8_t>(y + dy)[(x + dx) * 3 + c] * (dx == 0 && dy == 0 ? 5 : 1);
        smooth.ptr<uint8_t>(y)[x * 3 + c] = static_cast<uint8_t>(std::clamp((sum * 2 + 13) / 26, 0, 255));
      }
    }
  }
  return blend(smooth, rgb, factor);
}

cv::Mat adjust_hue(const cv::Mat& rgb, double factor) {
  // torchvision: the H channel of PIL's HSV shifted by uint8(factor * 255), wrapping around.
  const auto shift = static_cast<uint8_t>(static_cast<int>(factor * 255) & 0xFF);
  cv::Mat out(rgb.size(), rgb.type());
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      uint8_t h, s, v;
      rgb_to_hsv(p[x * 3], p[x * 3 + 1], p[x * 3 + 2], h, s, v);
      hsv_to_rgb(static_cast<uint8_t>(h + shift), s, v, o + x * 3);
    }
  }
  return out;
}

cv::Mat posterize(const cv::Mat& rgb, int bits) {
  const auto mask = static_cast<uint8_t>(~((1 << (8 - std::clamp(bits, 0, 8))) - 1));
  std::array<std::array<uint8_t, 256>, 3> luts{};
  for (int i = 0; i < 256; ++i) luts[0][i] = luts[1][i] = luts[2][i] = static_cast<uint8_t>(i & mask);
  return apply_lut(rgb, luts);
}

cv::Mat solarize(const cv::Mat& rgb, double threshold) {
  std::array<std::array<uint8_t, 256>, 3> luts{};
  for (int i = 0; i < 256; ++i) luts[0][i] = luts[1][i] = luts[2][i] = static_cast<uint8_t>(i < threshold ? i : 255 - i);
  return apply_lut(rgb, luts);
}

cv::Mat autocontrast(const cv::Mat& rgb) {
  const auto h = histograms(rgb);
  std::array<std::array<uint8_t, 256>, 3> luts{};
  for (size_t c = 0; c < 3; ++c) {
    int lo = 0, hi = 255;
    while (lo < 256 && h[c][static_cast<size_t>(lo)] == 0) ++lo;
    while (hi >= 0 && h[c][static_cast<size_t>(hi)] == 0) --hi;
    for (int i = 0; i < 256; ++i) {
      if (hi <= lo) {
        luts[c][static_cast<size_t>(i)] = static_cast<uint8_t>(i);
        continue;
      }
      const double scale = 255.0 / (hi - lo), offset = -lo * scale;
      luts[c][static_cast<size_t>(i)] = static_cast<uint8_t>(std::clamp(static_cast<int>(i * scale + offset), 0, 255));
    }
  }
  return apply_lut(rgb, luts);
}

cv::Mat equalize(const cv::Mat& rgb) {
  const auto h = histograms(rgb);
  std::array<std::array<uint8_t, 256>, 3> luts{};
  for (size_t c = 0; c < 3; ++c) {
    int64_t total = 0, last = 0, used = 0;
    for (int64_t count : h[c])
      if (count) total += count, last = count, ++used;
    const int64_t step = used > 1 ? (total - last) / 255 : 0;
    int64_t n = step / 2;
    for (size_t i = 0; i < 256; ++i) {
      luts[c][i] = step ? static_cast<uint8_t>(std::min<int64_t>(n / step, 255)) : static_cast<uint8_t>(i);
      n += h[c][i];
    }
  }
  return apply_lut(rgb, luts);
}

cv::Mat invert(const cv::Mat& rgb) {
  cv::Mat out;
  cv::bitwise_not(rgb, out);
  return out;
}

}  // namespace data
YOLO_END_NAMESPACE
