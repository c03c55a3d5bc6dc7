#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

const cv::Scalar kPadColour(114, 114, 114);

// A 3x3 matrix as a row-major array; small enough that clarity beats a library.
using Mat3 = std::array<double, 9>;

Mat3 matmul(const Mat3& a, const Mat3& b) {
  Mat3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return c;
}

}  // namespace

void Instances::clip_boxes(float width, float height) {
  for (auto& b : boxes) {
    b[0] = std::clamp(b[0], 0.0f, width), b[2] = std::clamp(b[2], 0.0f, width);
    b[1] = std::clamp(b[1], 0.0f, height), b[3] = std::clamp(b[3], 0.0f, height);
  }
}

void Instances::remove_empty_boxes() {
  size_t kept = 0;
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (boxes[i][2] > boxes[i][0] && boxes[i][3] > boxes[i][1]) {
      boxes[kept] = boxes[i], cls[kept] = cls[i];
      ++kept;
    }
  }
  boxes.resize(kept), cls.resize(kept);
}

Letterbox letterbox(const cv::Mat& image, std::array<int64_t, 2> shape, bool auto_pad, int64_t stride, bool scaleup) {
  YOLO_CHECK(!image.empty(), "letterbox: empty image");
  const int h = image.rows, w = image.cols;
  double r = std::min(static_cast<double>(shape[0]) / h, static_cast<double>(shape[1]) / w);
  if (!scaleup) r = std::min(r, 1.0);
  // nearbyint rounds half to even, as Python's round() that Ultralytics uses.
  const int new_w = static_cast<int>(std::nearbyint(w * r)), new_h = static_cast<int>(std::nearbyint(h * r));
  double dw = static_cast<double>(shape[1] - new_w), dh = static_cast<double>(shape[0] - new_h);
  if (auto_pad) dw = std::fmod(dw, static_cast<double>(stride)), dh = std::fmod(dh, static_cast<double>(stride));
  dw /= 2, dh /= 2;
  Letterbox out;
  out.ratio = r;
  cv::Mat resized = image;
  if (new_w != w || new_h != h) cv::resize(image, resized, cv::Size(new_w, new_h), 0, 0, cv::INTER_LINEAR);
  // The +-0.1 splits an odd padding one pixel more to the bottom/right, as Ultralytics does.
  const int top = static_cast<int>(std::lround(dh - 0.1)), bottom = static_cast<int>(std::lround(dh + 0.1));
  const int left = static_cast<int>(std::lround(dw - 0.1)), right = static_cast<int>(std::lround(dw + 0.1));
  if (top || bottom || left || right)
    cv::copyMakeBorder(resized, out.image, top, bottom, left, right, cv::BORDER_CONSTANT, kPadColour);
  else
    out.image = resized;
  out.pad_w = left, out.pad_h = top;
  return out;
}

Letterbox letterbox(Instances& x, std::array<int64_t, 2> shape, bool scaleup) {
  auto lb = letterbox(x.image, shape, /*auto_pad=*/false, 32, scaleup);
  // The resize rounds each side separately: scale boxes by the real per-axis factors.
  const int new_w = static_cast<int>(std::nearbyint(x.image.cols * lb.ratio));
  const int new_h = static_cast<int>(std::nearbyint(x.image.rows * lb.ratio));
  const float sx = static_cast<float>(new_w) / x.image.cols, sy = static_cast<float>(new_h) / x.image.rows;
  for (auto& b : x.boxes) {
    b[0] = b[0] * sx + static_cast<float>(lb.pad_w), b[2] = b[2] * sx + static_cast<float>(lb.pad_w);
    b[1] = b[1] * sy + static_cast<float>(lb.pad_h), b[3] = b[3] * sy + static_cast<float>(lb.pad_h);
  }
  x.image = lb.image;
  return lb;
}

Instances mosaic4(const std::array<const Instances*, 4>& tiles, int64_t imgsz, Rng& rng, cv::Mat& canvas) {
  const int s = static_cast<int>(imgsz);
  const int yc = static_cast<int>(rng.uniform(s / 2, 2 * s - s / 2));
  const int xc = static_cast<int>(rng.uniform(s / 2, 2 * s - s / 2));
  canvas.create(2 * s, 2 * s, CV_8UC3);  // reuses the caller's buffer: no page faults per sample
  Instances out;
  out.image = canvas;
  const cv::Rect quadrants[4] = {
      {0, 0, xc, yc}, {xc, 0, 2 * s - xc, yc}, {0, yc, xc, 2 * s - yc}, {xc, yc, 2 * s - xc, 2 * s - yc}};
  for (int i = 0; i < 4; ++i) {
    const Instances& t = *tiles[i];
    const int h = t.image.rows, w = t.image.cols;
    int x1a, y1a, x2a, y2a, x1b, y1b;  // a: canvas region, b: the tile corner copied to (x1a, y1a)
    if (i == 0) {                      // top left: the tile's bottom-right corner at the centre
      x1a = std::max(xc - w, 0), y1a = std::max(yc - h, 0), x2a = xc, y2a = yc;
      x1b = w - (x2a - x1a), y1b = h - (y2a - y1a);
    } else if (i == 1) {  // top right
      x1a = xc, y1a = std::max(yc - h, 0), x2a = std::min(xc + w, 2 * s), y2a = yc;
      x1b = 0, y1b = h - (y2a - y1a);
    } else if (i == 2) {  // bottom left
      x1a = std::max(xc - w, 0), y1a = yc, x2a = xc, y2a = std::min(2 * s, yc + h);
      x1b = w - (x2a - x1a), y1b = 0;
    } else {  // bottom right
      x1a = xc, y1a = yc, x2a = std::min(xc + w, 2 * s), y2a = std::min(2 * s, yc + h);
      x1b = 0, y1b = 0;
    }
    const cv::Rect placed(x1a, y1a, std::max(x2a - x1a, 0), std::max(y2a - y1a, 0));
    // Grey only where the tile does not land: the quadrant minus the placed rectangle, which shares
    // the quadrant's corner at the centre, is a band of rows and a band of columns.
    const cv::Rect& q = quadrants[i];
    const int rows_above = placed.y - q.y, rows_below = q.br().y - placed.br().y;
    const int cols_left = placed.x - q.x, cols_right = q.br().x - placed.br().x;
    const cv::Scalar grey = kPadColour;
    if (rows_above > 0) canvas(cv::Rect(q.x, q.y, q.width, rows_above)).setTo(grey);
    if (rows_below > 0) canvas(cv::Rect(q.x, placed.br().y, q.width, rows_below)).setTo(grey);
    if (cols_left > 0) canvas(cv::Rect(q.x, placed.y, cols_left, placed.height)).setTo(grey);
    if (cols_right > 0) canvas(cv::Rect(placed.br().x, placed.y, cols_right, placed.height)).setTo(grey);
    if (!placed.empty()) t.image(cv::Rect(x1b, y1b, placed.width, placed.height)).copyTo(canvas(placed));
    const auto padw = static_cast<float>(x1a - x1b), padh = static_cast<float>(y1a - y1b);
    for (size_t k = 0; k < t.boxes.size(); ++k) {
      const auto& b = t.boxes[k];
      out.boxes.push_back({b[0] + padw, b[1] + padh, b[2] + padw, b[3] + padh});
      out.cls.push_back(t.cls[k]);
    }
  }
  out.clip_boxes(2.0f * s, 2.0f * s);
  out.remove_empty_boxes();
  return out;
}

Instances mosaic4(const std::array<const Instances*, 4>& tiles, int64_t imgsz, Rng& rng) {
  cv::Mat canvas;
  return mosaic4(tiles, imgsz, rng, canvas);
}

bool box_candidate(const std::array<float, 4>& before, const std::array<float, 4>& after, float wh_thr, float ar_thr,
                   float area_thr) {
  constexpr float eps = 1e-16f;
  const float w1 = before[2] - before[0], h1 = before[3] - before[1];
  const float w2 = after[2] - after[0], h2 = after[3] - after[1];
  const float ar = std::max(w2 / (h2 + eps), h2 / (w2 + eps));
  return w2 > wh_thr && h2 > wh_thr && w2 * h2 / (w1 * h1 + eps) > area_thr && ar < ar_thr;
}

void random_perspective(Instances& x, const AugmentOptions& hyp, int64_t border, Rng& rng) {
  const int out_w = x.image.cols + 2 * static_cast<int>(border);
  const int out_h = x.image.rows + 2 * static_cast<int>(border);
  constexpr double deg = 3.141592653589793 / 180;
  // The draws happen in Ultralytics' order: perspective, rotation+scale, shear, translation.
  const Mat3 C{1, 0, -x.image.cols / 2.0, 0, 1, -x.image.rows / 2.0, 0, 0, 1};
  Mat3 P{1, 0, 0, 0, 1, 0, 0, 0, 1};
  P[6] = rng.uniform(-hyp.perspective, hyp.perspective);
  P[7] = rng.uniform(-hyp.perspective, hyp.perspective);
  const double angle = rng.uniform(-hyp.degrees, hyp.degrees);
  const double scale = rng.uniform(1 - hyp.scale, 1 + hyp.scale);
  const double a = scale * std::cos(angle * deg), b = scale * std::sin(angle * deg);
  const Mat3 R{a, b, 0, -b, a, 0, 0, 0, 1};  // cv::getRotationMatrix2D about the origin
  Mat3 S{1, 0, 0, 0, 1, 0, 0, 0, 1};
  S[1] = std::tan(rng.uniform(-hyp.shear, hyp.shear) * deg);
  S[3] = std::tan(rng.uniform(-hyp.shear, hyp.shear) * deg);
  Mat3 T{1, 0, 0, 0, 1, 0, 0, 0, 1};
  T[2] = rng.uniform(0.5 - hyp.translate, 0.5 + hyp.translate) * out_w;
  T[5] = rng.uniform(0.5 - hyp.translate, 0.5 + hyp.translate) * out_h;
  const Mat3 M = matmul(T, matmul(S, matmul(R, matmul(P, C))));
  const bool projective = hyp.perspective != 0;

  const Mat3 I{1, 0, 0, 0, 1, 0, 0, 0, 1};
  if (border != 0 || M != I) {
    cv::Mat warped;
    if (projective)
      cv::warpPerspective(x.image, warped, cv::Mat(3, 3, CV_64F, const_cast<double*>(M.data())), cv::Size(out_w, out_h),
                          cv::INTER_LINEAR, cv::BORDER_CONSTANT, kPadColour);
    else  // affine: cheaper, and what Ultralytics does when perspective is 0
      cv::warpAffine(x.image, warped, cv::Mat(2, 3, CV_64F, const_cast<double*>(M.data())), cv::Size(out_w, out_h),
                     cv::INTER_LINEAR, cv::BORDER_CONSTANT, kPadColour);
    x.image = warped;
  }

  // Each box becomes the bounds of its four transformed corners.
  size_t kept = 0;
  for (size_t i = 0; i < x.boxes.size(); ++i) {
    const auto& bx = x.boxes[i];
    const double cx[4] = {bx[0], bx[2], bx[2], bx[0]}, cy[4] = {bx[1], bx[3], bx[1], bx[3]};
    double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
    for (int k = 0; k < 4; ++k) {
      double u = M[0] * cx[k] + M[1] * cy[k] + M[2], v = M[3] * cx[k] + M[4] * cy[k] + M[5];
      if (projective) {
        const double z = M[6] * cx[k] + M[7] * cy[k] + M[8];
        u /= z, v /= z;
      }
      x0 = std::min(x0, u), x1 = std::max(x1, u), y0 = std::min(y0, v), y1 = std::max(y1, v);
    }
    const std::array<float, 4> after{std::clamp(static_cast<float>(x0), 0.0f, static_cast<float>(out_w)),
                                     std::clamp(static_cast<float>(y0), 0.0f, static_cast<float>(out_h)),
                                     std::clamp(static_cast<float>(x1), 0.0f, static_cast<float>(out_w)),
                                     std::clamp(static_cast<float>(y1), 0.0f, static_cast<float>(out_h))};
    const auto s = static_cast<float>(scale);
    const std::array<float, 4> before{bx[0] * s, bx[1] * s, bx[2] * s, bx[3] * s};
    if (!box_candidate(before, after)) continue;
    x.boxes[kept] = after, x.cls[kept] = x.cls[i];
    ++kept;
  }
  x.boxes.resize(kept), x.cls.resize(kept);
}

void mixup(Instances& x, const Instances& other, Rng& rng) {
  YOLO_CHECK(x.image.size() == other.image.size(), "mixup needs images of one size");
  const double r = rng.beta(32.0, 32.0);
  cv::Mat blended;
  cv::addWeighted(x.image, r, other.image, 1 - r, 0, blended);
  x.image = blended;
  x.boxes.insert(x.boxes.end(), other.boxes.begin(), other.boxes.end());
  x.cls.insert(x.cls.end(), other.cls.begin(), other.cls.end());
}

void random_hsv(cv::Mat& image, double hgain, double sgain, double vgain, Rng& rng) {
  if (hgain == 0 && sgain == 0 && vgain == 0) return;
  const double hue_shift = rng.uniform(-1, 1) * hgain * 180;  // hue moves around the circle (8.3.79+)
  const double rs = rng.uniform(-1, 1) * sgain + 1, rv = rng.uniform(-1, 1) * vgain + 1;
  // One 3-channel table maps (h, s, v) at once: hue wraps at 180 (OpenCV's 8-bit hue), s and v clip.
  cv::Mat lut(1, 256, CV_8UC3);
  auto* t = lut.ptr<cv::Vec3b>();
  for (int i = 0; i < 256; ++i) {
    const double h = std::fmod(i + hue_shift, 180.0);
    t[i][0] = static_cast<uchar>(h < 0 ? h + 180 : h);
    t[i][1] = static_cast<uchar>(std::clamp(i * rs, 0.0, 255.0));
    t[i][2] = static_cast<uchar>(std::clamp(i * rv, 0.0, 255.0));
  }
  cv::Mat hsv;
  cv::cvtColor(image, hsv, cv::COLOR_BGR2HSV);
  cv::LUT(hsv, lut, hsv);
  cv::Mat bgr;  // a new buffer: `image` may share its pixels with the decoded-image cache
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  image = bgr;
}

void random_flip(Instances& x, bool horizontal, double p, Rng& rng) {
  if (!rng.chance(p)) return;
  cv::Mat flipped;
  cv::flip(x.image, flipped, horizontal ? 1 : 0);
  x.image = flipped;
  const auto w = static_cast<float>(x.image.cols), h = static_cast<float>(x.image.rows);
  for (auto& b : x.boxes) {
    if (horizontal)
      b = {w - b[2], b[1], w - b[0], b[3]};
    else
      b = {b[0], h - b[3], b[2], h - b[1]};
  }
}

std::array<int64_t, 2> multi_scale_shape(int64_t imgsz, int64_t stride, std::array<int64_t, 2> batch_hw, Rng& rng) {
  YOLO_CHECK(imgsz > 0 && stride > 0 && batch_hw[0] > 0 && batch_hw[1] > 0, "multi_scale: bad sizes");
  const int64_t lo = imgsz / 2, hi = static_cast<int64_t>(imgsz * 1.5) + stride;  // Python's randrange(lo, hi)
  const int64_t size = std::max(stride, rng.randint(lo, hi - 1) / stride * stride);  // never 0 for a tiny imgsz
  const double factor = static_cast<double>(size) / static_cast<double>(std::max(batch_hw[0], batch_hw[1]));
  if (factor == 1.0) return batch_hw;
  auto scaled = [&](int64_t side) {
    return static_cast<int64_t>(std::ceil(static_cast<double>(side) * factor / static_cast<double>(stride))) * stride;
  };
  return {scaled(batch_hw[0]), scaled(batch_hw[1])};
}

}  // namespace data
YOLO_END_NAMESPACE
