#pragma once
// A small charting kit on OpenCV for the training plots: a white figure, axes with "nice" ticks, anti-aliased
// lines, legends, titles and rotated labels. Sizes are in figure pixels; text sizes in points at the figure's dpi,
// so a figure drawn at Ultralytics' size and dpi reads like theirs.
#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {

/// Writes an image (format by extension); a failure is an error naming the path.
void write_image(const std::string& path, const cv::Mat& image);

/// Tick positions for [lo, hi]: multiples of 1, 2, 2.5 or 5 times a power of ten, at most about `max_ticks`.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks = 6);
/// Tick labels with the fewest decimals that tell the ticks apart ("0", "0.5", "1" or "0.25", "0.50").
std::vector<std::string> tick_labels(const std::vector<double>& ticks);

/// matplotlib's default colour cycle (tab10), BGR.
cv::Scalar cycle_colour(size_t i);
/// A stable colour per class: Ultralytics' 20-colour palette, BGR.
cv::Scalar class_colour(int64_t cls);
/// Black or white, whichever reads better on `background`.
cv::Scalar text_colour_on(const cv::Scalar& background);

enum class Align { Start, Centre, End };

/// A white image with text drawn at a size in points.
class Figure {
 public:
  Figure(int width, int height, double dpi);
  cv::Mat& image() { return image_; }
  /// Pixel height of capital letters at `points`.
  double cap_height(double points) const { return points * dpi_ / 72.0 * 0.7; }
  cv::Size text_size(const std::string& text, double points) const;
  /// Draws `text` with its anchor at `at`: horizontal alignment `h`, vertical `v` (Start = top).
  void text(const std::string& text, cv::Point at, double points, const cv::Scalar& colour, Align h = Align::Start,
            Align v = Align::Start);
  /// The same, turned 90 degrees anticlockwise (reads bottom to top); alignment refers to the turned text.
  void vertical_text(const std::string& text, cv::Point at, double points, const cv::Scalar& colour,
                     Align h = Align::Centre, Align v = Align::Centre);
  /// Pixels per point.
  double px(double points) const { return points * dpi_ / 72.0; }
  void save(const std::string& path) const;

 private:
  cv::Mat image_;
  double dpi_;
};

enum class LineStyle { Solid, Dotted };

/// One chart: series are collected, then draw() picks the limits, draws frame, ticks, labels, lines and legend.
class Axes {
 public:
  /// `area` is the axes' whole cell in the figure, labels included.
  Axes(Figure& figure, cv::Rect area) : figure_(figure), area_(area) {}

  Axes& title(std::string t, double points = 12) {
    title_ = std::move(t), title_points_ = points;
    return *this;
  }
  Axes& xlabel(std::string t) {
    xlabel_ = std::move(t);
    return *this;
  }
  Axes& ylabel(std::string t) {
    ylabel_ = std::move(t);
    return *this;
  }
  Axes& xlim(double lo, double hi) {
    xlim_ = {lo, hi}, fixed_x_ = true;
    return *this;
  }
  Axes& ylim(double lo, double hi) {
    ylim_ = {lo, hi}, fixed_y_ = true;
    return *this;
  }
  /// Legend inside the upper right corner, or outside to the right of the axes.
  Axes& legend(bool outside = false) {
    legend_ = true, legend_outside_ = outside;
    return *this;
  }
  Axes& font(double points) {
    font_points_ = points;
    return *this;
  }
  /// A line through (x[i], y[i]); NaN values break it. `width` in points.
  Axes& plot(const std::vector<double>& x, const std::vector<double>& y, const cv::Scalar& colour, double width = 1,
             std::string label = "", LineStyle style = LineStyle::Solid, bool markers = false);
  /// Bars of `width` data units centred at x[i].
  Axes& bars(const std::vector<double>& x, const std::vector<double>& height, const std::vector<cv::Scalar>& colours,
             double width = 0.8);
  /// An image stretched over the data limits (e.g. a 2-D histogram), under the frame.
  Axes& image(const cv::Mat& bgr, bool smooth = false) {
    image_ = bgr, image_smooth_ = smooth;
    return *this;
  }
  /// No frame, ticks or grid (a picture panel).
  Axes& hide_axes() {
    hide_axes_ = true;
    return *this;
  }
  /// Custom tick positions and labels on x (category names), optionally turned vertical.
  Axes& xticks(std::vector<double> at, std::vector<std::string> labels, bool vertical = false) {
    xtick_at_ = std::move(at), xtick_labels_ = std::move(labels), xticks_vertical_ = vertical;
    return *this;
  }

  /// Draws everything; returns the plotting box (figure pixels) for callers that overlay more.
  cv::Rect draw();
  /// Figure pixel of a data point (valid after draw()).
  cv::Point2d to_pixel(double x, double y) const;

 private:
  struct Series {
    std::vector<double> x, y;
    cv::Scalar colour;
    double width;
    std::string label;
    LineStyle style;
    bool markers;
  };
  struct Bars {
    std::vector<double> x, height;
    std::vector<cv::Scalar> colours;
    double width;
  };
  void autoscale();
  void draw_legend();

  Figure& figure_;
  cv::Rect area_, box_;
  std::string title_, xlabel_, ylabel_;
  double title_points_ = 12, font_points_ = 10;
  cv::Vec2d xlim_{0, 1}, ylim_{0, 1};
  bool fixed_x_ = false, fixed_y_ = false, legend_ = false, legend_outside_ = false, xticks_vertical_ = false;
  bool hide_axes_ = false, image_smooth_ = false;
  cv::Mat image_;
  std::vector<double> xtick_at_;
  std::vector<std::string> xtick_labels_;
  std::vector<Series> series_;
  std::vector<Bars> bars_;
};

/// Polyline with anti-aliasing, broken at NaN points, solid or dotted.
void draw_polyline(cv::Mat& image, const std::vector<cv::Point2d>& points, const cv::Scalar& colour, int thickness,
                   LineStyle style);

}  // namespace plots
YOLO_END_NAMESPACE
