#include "plots/chart.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fmt/format.h>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
const cv::Scalar kBlack(0, 0, 0), kGrid(232, 232, 232), kFrame(60, 60, 60);

/// Hershey glyph scale and stroke for capital letters `cap` pixels high.
double font_scale(double cap) {
  static const double unit = [] {
    int baseline = 0;
    return static_cast<double>(cv::getTextSize("H", kFont, 1.0, 1, &baseline).height);
  }();
  return cap / unit;
}
int stroke(double cap) { return std::max(1, static_cast<int>(std::lround(cap / 11.0))); }

bool finite(double v) { return std::isfinite(v); }

cv::Vec2d padded_range(double lo, double hi) {
  if (!finite(lo) || !finite(hi)) return {0, 1};
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::abs(lo) * 0.05, 0.05);
    return {lo - pad, hi + pad};
  }
  const double pad = (hi - lo) * 0.05;  // matplotlib's default margins
  return {lo - pad, hi + pad};
}

}  // namespace

void write_image(const std::string& path, const cv::Mat& image) {
  bool written = false;
  try {
    written = cv::imwrite(path, image);
  } catch (const cv::Exception& e) {
    YOLO_FAIL("could not write {}: {}", path, e.what());
  }
  YOLO_CHECK(written, "could not write {}: is the folder writeable?", path);
}

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  if (!(hi > lo)) return {lo};
  const double span = hi - lo, raw = span / std::max(1, max_ticks);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {  // the finest step that fits at most max_ticks in [lo, hi]
    const double s = m * magnitude;
    if (std::floor(hi / s + 1e-9) - std::ceil(lo / s - 1e-9) + 1 <= max_ticks) {
      step = s;
      break;
    }
  }
  std::vector<double> ticks;
  const auto first = static_cast<int64_t>(std::ceil(lo / step - 1e-9));
  for (int64_t k = first; k * step <= hi + step * 1e-9; ++k) ticks.push_back(k * step);  // integer k: no drift
  return ticks;
}

std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  int decimals = 0;
  if (ticks.size() > 1) {
    const double step = ticks[1] - ticks[0];
    decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    if (std::abs(mantissa - 2.5) < 1e-6) ++decimals;
  }
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::abs(t));
  std::vector<std::string> labels;
  // Tiny values (learning rates, small losses) as 1.5e-05 rather than 0.000015: a short label that keeps
  // the plot area wide, as matplotlib's axis multiplier does.
  const bool scientific = decimals > 4 && largest > 0 && largest < 1e-2;
  const int exponent = scientific ? static_cast<int>(std::floor(std::log10(largest) + 1e-9)) : 0;
  for (double t : ticks) {
    if (!scientific)
      labels.push_back(fmt::format("{:.{}f}", t, decimals));
    else
      labels.push_back(std::abs(t) < largest * 1e-9 ? "0" : fmt::format("{:.{}e}", t, std::max(0, decimals + exponent)));
  }
  return labels;
}

cv::Scalar cycle_colour(size_t i) {
  static const cv::Scalar tab10[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},   {40, 39, 214},  {189, 103, 148},
                                     {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
  return tab10[i % 10];
}

cv::Scalar class_colour(int64_t cls) {
  // Ultralytics' palette (FF3838, FF9D97, FF701F, ...) in BGR.
  static const cv::Scalar palette[] = {{56, 56, 255},  {151, 157, 255}, {31, 112, 255}, {29, 178, 255}, {49, 210, 207},
                                       {10, 249, 72},  {23, 204, 146},  {134, 219, 61}, {52, 147, 26},  {187, 212, 0},
                                       {168, 153, 44}, {255, 194, 0},   {147, 69, 52},  {255, 115, 100}, {236, 24, 0},
                                       {255, 56, 132}, {133, 0, 82},    {255, 56, 203}, {200, 149, 255}, {199, 55, 255}};
  const auto n = static_cast<int64_t>(sizeof palette / sizeof palette[0]);
  return palette[((cls % n) + n) % n];
}

cv::Scalar text_colour_on(const cv::Scalar& bg) {
  const double luminance = 0.114 * bg[0] + 0.587 * bg[1] + 0.299 * bg[2];
  return luminance > 150 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
}

Figure::Figure(int width, int height, double dpi)
    : image_(height, width, CV_8UC3, cv::Scalar(255, 255, 255)), dpi_(dpi) {}

cv::Size Figure::text_size(const std::string& text, double points) const {
  const double cap = cap_height(points);
  int baseline = 0;
  auto size = cv::getTextSize(text, kFont, font_scale(cap), stroke(cap), &baseline);
  return {size.width, static_cast<int>(std::lround(cap))};
}

void Figure::text(const std::string& text, cv::Point at, double points, const cv::Scalar& colour, Align h, Align v) {
  const double cap = cap_height(points);
  const auto size = text_size(text, points);
  const int x = h == Align::Start ? at.x : h == Align::Centre ? at.x - size.width / 2 : at.x - size.width;
  const int y = v == Align::Start ? at.y + size.height : v == Align::Centre ? at.y + size.height / 2 : at.y;
  cv::putText(image_, text, {x, y}, kFont, font_scale(cap), colour, stroke(cap), cv::LINE_AA);
}

void Figure::vertical_text(const std::string& text, cv::Point at, double points, const cv::Scalar& colour, Align h,
                           Align v) {
  // Drawn level into a coverage mask, turned, then blended in the colour.
  const double cap = cap_height(points);
  const auto size = text_size(text, points);
  const int pad = stroke(cap) + 2, descent = static_cast<int>(cap * 0.4);
  cv::Mat mask(size.height + descent + 2 * pad, size.width + 2 * pad, CV_8UC1, cv::Scalar(0));
  cv::putText(mask, text, {pad, pad + size.height}, kFont, font_scale(cap), cv::Scalar(255), stroke(cap), cv::LINE_AA);
  cv::rotate(mask, mask, cv::ROTATE_90_COUNTERCLOCKWISE);
  // The turned text's glyph box: x from pad to pad + cap (+ descent), y from pad to pad + width.
  const int w = size.height, hgt = size.width;
  const int left = h == Align::Start ? at.x : h == Align::Centre ? at.x - w / 2 : at.x - w;
  const int top = v == Align::Start ? at.y : v == Align::Centre ? at.y - hgt / 2 : at.y - hgt;
  const cv::Point origin(left - pad, top - pad);
  for (int r = 0; r < mask.rows; ++r) {
    for (int c = 0; c < mask.cols; ++c) {
      const int y = origin.y + r, x = origin.x + c;
      const double a = mask.at<uchar>(r, c) / 255.0;
      if (a == 0 || y < 0 || x < 0 || y >= image_.rows || x >= image_.cols) continue;
      auto& p = image_.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k) p[k] = cv::saturate_cast<uchar>(p[k] * (1 - a) + colour[k] * a);
    }
  }
}

void Figure::save(const std::string& path) const { write_image(path, image_); }

void draw_polyline(cv::Mat& image, const std::vector<cv::Point2d>& points, const cv::Scalar& colour, int thickness,
                   LineStyle style) {
  constexpr int kShift = 4;  // sub-pixel coordinates: smooth curves at any slope
  auto fixed = [](const cv::Point2d& p) { return cv::Point(cvRound(p.x * 16), cvRound(p.y * 16)); };
  // Dots every `period` pixels along the whole line, counted in whole periods (no drift, no stall).
  const double dash = 1.3 * thickness, period = 3.0 * thickness;
  double along = 0;  // arc length at the start of the segment
  for (size_t i = 1; i < points.size(); ++i) {
    const auto &a = points[i - 1], &b = points[i];
    if (!finite(a.x) || !finite(a.y) || !finite(b.x) || !finite(b.y)) continue;
    if (style == LineStyle::Solid) {
      cv::line(image, fixed(a), fixed(b), colour, thickness, cv::LINE_AA, kShift);
      continue;
    }
    const double length = cv::norm(b - a);
    if (length <= 0) continue;
    for (auto k = static_cast<int64_t>(along / period); k * period < along + length; ++k) {
      const double start = std::max(k * period, along), stop = std::min(k * period + dash, along + length);
      if (stop <= start) continue;
      cv::line(image, fixed(a + (b - a) * ((start - along) / length)), fixed(a + (b - a) * ((stop - along) / length)),
               colour, thickness, cv::LINE_AA, kShift);
    }
    along += length;
  }
}

Axes& Axes::plot(const std::vector<double>& x, const std::vector<double>& y, const cv::Scalar& colour, double width,
                 std::string label, LineStyle style, bool markers) {
  YOLO_CHECK(x.size() == y.size(), "plot: {} x values for {} y values", x.size(), y.size());
  series_.push_back({x, y, colour, width, std::move(label), style, markers});
  return *this;
}

Axes& Axes::bars(const std::vector<double>& x, const std::vector<double>& height,
                 const std::vector<cv::Scalar>& colours, double width) {
  YOLO_CHECK(x.size() == height.size(), "bars: {} positions for {} heights", x.size(), height.size());
  bars_.push_back({x, height, colours, width});
  return *this;
}

void Axes::autoscale() {
  const double inf = std::numeric_limits<double>::infinity();
  double x0 = inf, x1 = -inf, y0 = inf, y1 = -inf;
  for (const auto& s : series_) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  }
  for (const auto& b : bars_) {
    for (size_t i = 0; i < b.x.size(); ++i) {
      x0 = std::min(x0, b.x[i] - b.width / 2), x1 = std::max(x1, b.x[i] + b.width / 2);
      y0 = std::min(y0, 0.0), y1 = std::max(y1, b.height[i]);
    }
  }
  if (!fixed_x_) xlim_ = padded_range(x0, x1);
  if (!fixed_y_) {
    ylim_ = padded_range(y0, y1);
    if (!bars_.empty()) ylim_[0] = 0;  // bars stand on the axis
  }
}

cv::Point2d Axes::to_pixel(double x, double y) const {
  return {box_.x + (x - xlim_[0]) / (xlim_[1] - xlim_[0]) * box_.width,
          box_.y + box_.height - (y - ylim_[0]) / (ylim_[1] - ylim_[0]) * box_.height};
}

cv::Rect Axes::draw() {
  autoscale();
  auto& img = figure_.image();
  const double fp = font_points_;
  const int gap = static_cast<int>(figure_.px(fp * 0.5)), tick = static_cast<int>(figure_.px(3.5));
  const auto yticks = nice_ticks(ylim_[0], ylim_[1], std::max(3, area_.height / static_cast<int>(figure_.px(fp * 3.5))));
  const auto ylabels = tick_labels(yticks);
  std::vector<double> xticks = xtick_at_;
  std::vector<std::string> xlabels = xtick_labels_;
  if (xtick_at_.empty()) {
    xticks = nice_ticks(xlim_[0], xlim_[1], std::max(3, area_.width / static_cast<int>(figure_.px(fp * 3.5))));
    xlabels = tick_labels(xticks);
  }
  int ylabel_width = 0, xlabel_height = figure_.text_size("0", fp).height;
  for (const auto& l : ylabels) ylabel_width = std::max(ylabel_width, figure_.text_size(l, fp).width);
  if (xticks_vertical_)
    for (const auto& l : xlabels) xlabel_height = std::max(xlabel_height, figure_.text_size(l, fp).width);

  // Room for the legend outside the axes.
  int legend_width = 0;
  if (legend_ && legend_outside_) {
    for (const auto& s : series_)
      legend_width = std::max(legend_width, figure_.text_size(s.label, fp).width);
    legend_width += static_cast<int>(figure_.px(fp * 4.5));
  }
  const int cap = figure_.text_size("H", fp).height;
  const int left = hide_axes_ ? gap : gap + (ylabel_.empty() ? 0 : cap + 2 * gap) + ylabel_width + gap + tick;
  const int bottom = hide_axes_ ? gap : tick + gap + xlabel_height + (xlabel_.empty() ? gap : 2 * gap + cap + gap);
  const int top = title_.empty() ? gap * 2 : figure_.text_size("H", title_points_).height + 3 * gap;
  const int right = gap * 2 + legend_width;
  box_ = cv::Rect(area_.x + left, area_.y + top, area_.width - left - right, area_.height - top - bottom);
  YOLO_CHECK(box_.width > 10 && box_.height > 10, "plot area too small for its labels ({}x{})", area_.width,
             area_.height);

  if (!image_.empty()) {
    cv::Mat stretched;
    cv::resize(image_, stretched, box_.size(), 0, 0, image_smooth_ ? cv::INTER_AREA : cv::INTER_NEAREST);
    stretched.copyTo(img(box_));
  }
  if (hide_axes_) {
    if (!title_.empty())
      figure_.text(title_, {box_.x + box_.width / 2, area_.y + gap}, title_points_, kBlack, Align::Centre);
    return box_;
  }
  // Grid, then data, then frame and ticks on top.
  if (image_.empty()) {  // a grid helps read lines, not pictures
    for (double t : yticks) {
      const int y = cvRound(to_pixel(0, t).y);
      cv::line(img, {box_.x, y}, {box_.x + box_.width, y}, kGrid, 1, cv::LINE_AA);
    }
    for (double t : xticks) {
      const int x = cvRound(to_pixel(t, 0).x);
      cv::line(img, {x, box_.y}, {x, box_.y + box_.height}, kGrid, 1, cv::LINE_AA);
    }
  }
  const int bleed = static_cast<int>(figure_.px(2));  // lines on the limits stay whole
  const cv::Rect clip = (box_ + cv::Size(2 * bleed, 2 * bleed) - cv::Point(bleed, bleed)) & cv::Rect(0, 0, img.cols, img.rows);
  cv::Mat roi = img(clip);
  for (const auto& b : bars_) {
    for (size_t i = 0; i < b.x.size(); ++i) {
      const auto p = to_pixel(b.x[i] - b.width / 2, b.height[i]), q = to_pixel(b.x[i] + b.width / 2, 0);
      cv::rectangle(img, cv::Point(cvRound(p.x), cvRound(p.y)), cv::Point(cvRound(q.x), cvRound(q.y)),
                    b.colours.empty() ? cycle_colour(0) : b.colours[i % b.colours.size()], cv::FILLED);
    }
  }
  for (const auto& s : series_) {
    std::vector<cv::Point2d> points;
    for (size_t i = 0; i < s.x.size(); ++i) {
      const auto p = to_pixel(s.x[i], s.y[i]);
      points.emplace_back(finite(s.y[i]) ? p.x - clip.x : NAN, p.y - clip.y);
    }
    const int thickness = std::max(1, static_cast<int>(std::lround(figure_.px(s.width))));
    draw_polyline(roi, points, s.colour, thickness, s.style);
    if (s.markers)
      for (const auto& p : points)
        if (finite(p.x) && finite(p.y))
          cv::circle(roi, cv::Point(cvRound(p.x), cvRound(p.y)), std::max(2, static_cast<int>(figure_.px(2.2))),
                     s.colour, cv::FILLED, cv::LINE_AA);
  }
  cv::rectangle(img, box_, kFrame, std::max(1, static_cast<int>(figure_.px(0.6))));

  for (size_t i = 0; i < yticks.size(); ++i) {
    const int y = cvRound(to_pixel(0, yticks[i]).y);
    cv::line(img, {box_.x - tick, y}, {box_.x, y}, kFrame, 1, cv::LINE_AA);
    figure_.text(ylabels[i], {box_.x - tick - gap, y}, fp, kBlack, Align::End, Align::Centre);
  }
  for (size_t i = 0; i < xticks.size(); ++i) {
    const int x = cvRound(to_pixel(xticks[i], 0).x);
    const int y = box_.y + box_.height;
    cv::line(img, {x, y}, {x, y + tick}, kFrame, 1, cv::LINE_AA);
    if (xticks_vertical_)
      figure_.vertical_text(xlabels[i], {x, y + tick + gap}, fp, kBlack, Align::Centre, Align::Start);
    else
      figure_.text(xlabels[i], {x, y + tick + gap}, fp, kBlack, Align::Centre, Align::Start);
  }
  if (!title_.empty())
    figure_.text(title_, {box_.x + box_.width / 2, area_.y + gap}, title_points_, kBlack, Align::Centre);
  if (!xlabel_.empty())
    figure_.text(xlabel_, {box_.x + box_.width / 2, box_.y + box_.height + tick + gap + xlabel_height + gap}, fp,
                 kBlack, Align::Centre);
  if (!ylabel_.empty())
    figure_.vertical_text(ylabel_, {area_.x + gap, box_.y + box_.height / 2}, fp, kBlack, Align::Start, Align::Centre);
  if (legend_) draw_legend();
  return box_;
}

void Axes::draw_legend() {
  std::vector<const Series*> entries;
  for (const auto& s : series_)
    if (!s.label.empty()) entries.push_back(&s);
  if (entries.empty()) return;
  const double fp = font_points_;
  const int pad = static_cast<int>(figure_.px(fp * 0.5)), sample = static_cast<int>(figure_.px(fp * 2));
  const int row = static_cast<int>(figure_.px(fp * 1.45));
  int text_width = 0;
  for (const auto* s : entries) text_width = std::max(text_width, figure_.text_size(s->label, fp).width);
  const cv::Size size(pad * 3 + sample + text_width, pad * 2 + row * static_cast<int>(entries.size()) - row / 3);
  const cv::Point origin = legend_outside_ ? cv::Point(box_.x + box_.width + pad * 2, box_.y)
                                           : cv::Point(box_.x + box_.width - size.width - pad, box_.y + pad);
  auto& img = figure_.image();
  const cv::Rect frame(origin, size);
  img(frame & cv::Rect(0, 0, img.cols, img.rows)).setTo(cv::Scalar(255, 255, 255));
  cv::rectangle(img, frame, cv::Scalar(205, 205, 205), 1, cv::LINE_AA);
  for (size_t i = 0; i < entries.size(); ++i) {
    const int y = origin.y + pad + static_cast<int>(i) * row + figure_.text_size("H", fp).height / 2;
    const int thickness = std::max(1, static_cast<int>(std::lround(figure_.px(entries[i]->width))));
    draw_polyline(img, {cv::Point2d(origin.x + pad, y), cv::Point2d(origin.x + pad + sample, y)}, entries[i]->colour,
                  thickness, entries[i]->style);
    if (entries[i]->markers)
      cv::circle(img, {origin.x + pad + sample / 2, y}, std::max(2, static_cast<int>(figure_.px(2.2))),
                 entries[i]->colour, cv::FILLED, cv::LINE_AA);
    figure_.text(entries[i]->label, {origin.x + pad * 2 + sample, y}, fp, kBlack, Align::Start, Align::Centre);
  }
}

}  // namespace plots
YOLO_END_NAMESPACE
