#include "plots/plots.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include <fmt/format.h>

#include "metrics/ap.h"
#include "plots/chart.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {
namespace {

const cv::Scalar kBlue(255, 0, 0), kGrey(160, 160, 160), kBlack(0, 0, 0);

std::vector<double> column(const std::vector<loggers::EpochRecord>& records, const std::string& name) {
  std::vector<double> values;
  for (const auto& r : records) values.push_back(r.get(name).value_or(NAN));
  return values;
}

bool has_columns(const std::vector<loggers::EpochRecord>& records, const std::vector<std::string>& names) {
  return std::all_of(names.begin(), names.end(), [&](const auto& n) { return records.front().get(n).has_value(); });
}

/// matplotlib's "Blues" colour map at t in [0, 1], BGR.
cv::Scalar blues(double t) {
  static const cv::Vec3d anchors[] = {{255, 251, 247}, {247, 235, 222}, {239, 219, 198}, {225, 202, 158}, {214, 174, 107},
                                      {198, 146, 66},  {181, 113, 33},  {156, 81, 8},    {107, 48, 8}};
  t = std::clamp(t, 0.0, 1.0) * 8;
  const int i = std::min(7, static_cast<int>(t));
  const auto c = anchors[i] + (anchors[i + 1] - anchors[i]) * (t - i);
  return {c[0], c[1], c[2]};
}

/// Mean over classes at each point of the axis.
std::vector<double> class_mean(const std::vector<std::vector<double>>& per_class, size_t n) {
  std::vector<double> mean(n, 0.0);
  for (const auto& y : per_class)
    for (size_t i = 0; i < n; ++i) mean[i] += y[i] / per_class.size();
  return mean;
}

void check_curves(const Curves& c) {
  YOLO_CHECK(!c.x.empty(), "curves: the x axis is empty");
  YOLO_CHECK(c.names.size() == c.ap50.size(), "curves: {} names for {} AP values", c.names.size(), c.ap50.size());
  for (const auto* set : {&c.precision, &c.recall, &c.f1, &c.pr}) {
    YOLO_CHECK(set->size() == c.names.size(), "curves: {} curves for {} classes", set->size(), c.names.size());
    for (const auto& y : *set)
      YOLO_CHECK(y.size() == c.x.size(), "curves: a curve of {} points on an axis of {}", y.size(), c.x.size());
  }
}

}  // namespace

std::vector<double> gaussian_smooth(const std::vector<double>& y, double sigma) {
  const auto n = static_cast<int64_t>(y.size());
  if (n == 0 || sigma <= 0) return y;
  const int radius = static_cast<int>(4 * sigma + 0.5);
  std::vector<double> weights(2 * radius + 1);
  for (int k = -radius; k <= radius; ++k) weights[k + radius] = std::exp(-0.5 * k * k / (sigma * sigma));
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  auto reflect = [n](int64_t i) {  // scipy's "reflect": d c b a | a b c d | d c b a
    i = ((i % (2 * n)) + 2 * n) % (2 * n);
    return i < n ? i : 2 * n - 1 - i;
  };
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int k = -radius; k <= radius; ++k) sum += weights[k + radius] * y[reflect(i + k)];
    out[i] = sum / total;
  }
  return out;
}

void plot_results(const std::vector<loggers::EpochRecord>& records, const std::string& path) {
  YOLO_CHECK(!records.empty(), "results.png: no epochs to plot ({} is not written)", path);
  const std::vector<std::string> detect{"train/box_loss", "train/cls_loss",      "train/dfl_loss",
                                        "metrics/precision(B)", "metrics/recall(B)", "val/box_loss",
                                        "val/cls_loss",   "val/dfl_loss",        "metrics/mAP50(B)",
                                        "metrics/mAP50-95(B)"};
  const std::vector<std::string> classify{"train/loss", "val/loss", "metrics/accuracy_top1", "metrics/accuracy_top5"};
  std::vector<std::string> panels;
  int rows = 2, cols = 5, width = 2400, height = 1200;
  if (has_columns(records, detect)) {
    panels = detect;
  } else if (has_columns(records, classify)) {
    panels = classify, cols = 2, width = 1200;
  } else {
    for (const auto& [name, value] : records.front().values)
      if (name != "time" && name.rfind("lr/", 0) != 0) panels.push_back(name);
    YOLO_CHECK(!panels.empty(), "results.png: no loss or metric columns to plot");
    cols = static_cast<int>((panels.size() + 1) / 2);
    width = 480 * cols;
  }
  std::vector<double> epochs;
  for (const auto& r : records) epochs.push_back(static_cast<double>(r.epoch));

  // Epochs are whole numbers: no ticks between them (a short run would get 1.25, 1.5, ... crowding the axis).
  auto epoch_ticks = nice_ticks(epochs.front(), epochs.back(), 5);
  if (epoch_ticks.size() > 1 && epoch_ticks[1] - epoch_ticks[0] < 1) {
    epoch_ticks.clear();
    for (double e = epochs.front(); e <= epochs.back(); ++e) epoch_ticks.push_back(e);
  }
  const auto epoch_labels = tick_labels(epoch_ticks);

  Figure figure(width, height, 200);
  const int cell_w = width / cols, cell_h = height / rows;
  for (size_t i = 0; i < panels.size(); ++i) {
    const cv::Rect cell(static_cast<int>(i % cols) * cell_w, static_cast<int>(i / cols) * cell_h, cell_w, cell_h);
    const auto y = column(records, panels[i]);
    Axes axes(figure, cell);
    axes.title(panels[i], 12).font(9).xticks(epoch_ticks, epoch_labels);
    axes.plot(epochs, y, cycle_colour(0), 2, "results", LineStyle::Solid, true);
    axes.plot(epochs, gaussian_smooth(y, 3), cycle_colour(1), 2, "smooth", LineStyle::Dotted);
    if (i == 1) axes.legend();  // one legend, as Ultralytics puts it on the second panel
    axes.draw();
  }
  figure.save(path);
}

void plot_pr_curve(const Curves& curves, const std::string& path) {
  check_curves(curves);
  const size_t k = curves.names.size();
  Figure figure(2250, 1500, 250);
  Axes axes(figure, cv::Rect(0, 0, 2250, 1500));
  axes.title("Precision-Recall Curve").xlabel("Recall").ylabel("Precision").xlim(0, 1).ylim(0, 1).legend(true);
  for (size_t i = 0; i < k; ++i) {
    if (k < 21)
      axes.plot(curves.x, curves.pr[i], cycle_colour(i), 1, fmt::format("{} {:.3f}", curves.names[i], curves.ap50[i]));
    else
      axes.plot(curves.x, curves.pr[i], kGrey, 1);
  }
  const double map50 = k ? std::accumulate(curves.ap50.begin(), curves.ap50.end(), 0.0) / k : 0.0;
  axes.plot(curves.x, class_mean(curves.pr, curves.x.size()), kBlue, 3,
            fmt::format("all classes {:.3f} mAP@0.5", map50));
  axes.draw();
  figure.save(path);
}

void plot_metric_curve(const Curves& curves, CurveMetric metric, const std::string& path) {
  check_curves(curves);
  const auto& per_class = metric == CurveMetric::F1 ? curves.f1 : metric == CurveMetric::Precision ? curves.precision
                                                                                                   : curves.recall;
  const std::string ylabel = metric == CurveMetric::F1 ? "F1" : metric == CurveMetric::Precision ? "Precision" : "Recall";
  const size_t k = curves.names.size();
  Figure figure(2250, 1500, 250);
  Axes axes(figure, cv::Rect(0, 0, 2250, 1500));
  axes.title(ylabel + "-Confidence Curve").xlabel("Confidence").ylabel(ylabel).xlim(0, 1).ylim(0, 1).legend(true);
  for (size_t i = 0; i < k; ++i) {
    if (k < 21)
      axes.plot(curves.x, per_class[i], cycle_colour(i), 1, curves.names[i]);
    else
      axes.plot(curves.x, per_class[i], kGrey, 1);
  }
  const auto mean = metrics::smooth(class_mean(per_class, curves.x.size()), 0.1);
  const auto best = std::max_element(mean.begin(), mean.end()) - mean.begin();
  axes.plot(curves.x, mean, kBlue, 3,
            fmt::format("all classes {:.2f} at {:.3f}", k ? mean[best] : 0.0, k ? curves.x[best] : 0.0));
  axes.draw();
  figure.save(path);
}

void plot_confusion_matrix(const Confusion& confusion, bool normalize, const std::string& path) {
  const size_t nc = confusion.names.size(), n = nc + (confusion.background ? 1 : 0);
  YOLO_CHECK(nc > 0, "confusion matrix: no class names");
  YOLO_CHECK(confusion.matrix.size() == n, "confusion matrix: {} rows for {} classes{}", confusion.matrix.size(), nc,
             confusion.background ? " and background" : "");
  for (const auto& row : confusion.matrix)
    YOLO_CHECK(row.size() == n, "confusion matrix: a row of {} values, expected {}", row.size(), n);

  // Normalised: each true-class column sums to 1. Values under 0.005 stay blank (they would read "0.00").
  std::vector<std::vector<double>> values = confusion.matrix;
  double top = 0;
  for (size_t j = 0; j < n; ++j) {
    double column_sum = 0;
    for (size_t i = 0; i < n; ++i) column_sum += confusion.matrix[i][j];
    for (size_t i = 0; i < n; ++i) {
      double& v = values[i][j];
      if (normalize) v /= column_sum + 1e-9;
      if (v < 0.005) v = NAN;
      if (std::isfinite(v)) top = std::max(top, v);
    }
  }
  const double vmax = normalize ? std::max(top, 1e-9) : std::max(top, 1.0);
  std::vector<std::string> labels = confusion.names;
  if (confusion.background) labels.push_back("background");
  const bool show_labels = n < 99, show_values = nc < 30;

  Figure figure(3000, 2250, 250);
  const double tick_points = std::max(6.0, 15 - 0.1 * nc) * 0.8, label_points = std::max(8.0, 14 - 0.1 * nc);
  int longest = 0;
  if (show_labels)
    for (const auto& l : labels) longest = std::max(longest, figure.text_size(l, tick_points).width);
  const int pad = static_cast<int>(figure.px(8));
  const int title_h = figure.text_size("H", label_points + 2).height;
  const int left = pad + title_h + pad + longest + pad, bottom = pad + longest + pad + title_h + pad;
  const int top_margin = 2 * pad + title_h;
  const int colourbar_w = static_cast<int>(figure.px(14)), colourbar_room = colourbar_w + static_cast<int>(figure.px(60));
  const int side = std::min(3000 - left - colourbar_room, 2250 - top_margin - bottom);
  const double cell = static_cast<double>(side) / n;
  const int offset = (3000 - (left + side + colourbar_room)) / 2;  // the whole composition centred
  const cv::Rect box(offset + left, top_margin, side, side);

  const std::string title = normalize ? "Confusion Matrix Normalized" : "Confusion Matrix";
  figure.text(title, {box.x + box.width / 2, pad}, label_points + 2, kBlack, Align::Centre);
  auto& img = figure.image();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const cv::Point p1(box.x + cvRound(j * cell), box.y + cvRound(i * cell));
      const cv::Point p2(box.x + cvRound((j + 1) * cell), box.y + cvRound((i + 1) * cell));
      const double v = values[i][j];
      if (!std::isfinite(v)) continue;
      const auto colour = blues(v / vmax);
      cv::rectangle(img, p1, p2 - cv::Point(1, 1), colour, cv::FILLED);
      if (show_values) {
        const std::string text = normalize ? fmt::format("{:.2f}", v) : fmt::format("{}", std::llround(v));
        const double text_points = std::min(10.0, cell / figure.px(1) / std::max<size_t>(text.size(), 3) * 1.4);
        figure.text(text, (p1 + p2) / 2, text_points, v > 0.45 * vmax ? cv::Scalar(255, 255, 255) : kBlack,
                    Align::Centre, Align::Centre);
      }
    }
  }
  cv::rectangle(img, box, cv::Scalar(200, 200, 200), 1);
  const int tick = static_cast<int>(figure.px(3.5));
  for (size_t i = 0; show_labels && i < n; ++i) {
    const int centre = cvRound((i + 0.5) * cell);
    cv::line(img, {box.x - tick, box.y + centre}, {box.x, box.y + centre}, kBlack, 1);
    figure.text(labels[i], {box.x - tick - pad / 2, box.y + centre}, tick_points, kBlack, Align::End, Align::Centre);
    cv::line(img, {box.x + centre, box.y + side}, {box.x + centre, box.y + side + tick}, kBlack, 1);
    figure.vertical_text(labels[i], {box.x + centre, box.y + side + tick + pad / 2}, tick_points, kBlack,
                         Align::Centre, Align::Start);
  }
  figure.text("True", {box.x + side / 2, box.y + side + tick + pad + longest + pad}, label_points, kBlack,
              Align::Centre);
  figure.vertical_text("Predicted", {offset + pad, box.y + side / 2}, label_points, kBlack, Align::Start,
                       Align::Centre);

  // Colour bar with its own ticks.
  const cv::Rect bar(box.x + side + static_cast<int>(figure.px(12)), box.y, colourbar_w, side);
  for (int r = 0; r < bar.height; ++r)
    cv::line(img, {bar.x, bar.y + r}, {bar.x + bar.width - 1, bar.y + r}, blues(1.0 - static_cast<double>(r) / bar.height));
  auto ticks = nice_ticks(0, vmax, 6);
  if (!normalize)  // counts: whole numbers only (a 2.5 step keeps 0, 5, 10, ...)
    ticks.erase(std::remove_if(ticks.begin(), ticks.end(), [](double t) { return t != std::round(t); }), ticks.end());
  const auto tick_text = tick_labels(ticks);
  for (size_t i = 0; i < ticks.size(); ++i) {
    const int y = bar.y + bar.height - cvRound(ticks[i] / vmax * bar.height);
    cv::line(img, {bar.x + bar.width, y}, {bar.x + bar.width + tick, y}, kBlack, 1);
    figure.text(tick_text[i], {bar.x + bar.width + tick + pad / 2, y}, tick_points, kBlack, Align::Start, Align::Centre);
  }
  figure.save(path);
}

void plot_labels(const std::vector<LabelBox>& labels, const std::vector<std::string>& names, const std::string& path) {
  int nc = static_cast<int>(names.size());
  for (const auto& l : labels) nc = std::max(nc, l.cls + 1);
  Figure figure(1600, 1600, 200);
  const int half = 800;

  // Instances per class.
  std::vector<double> positions, counts(nc, 0.0);
  std::vector<cv::Scalar> colours;
  for (const auto& l : labels) counts[l.cls] += 1;
  for (int c = 0; c < nc; ++c) positions.push_back(c), colours.push_back(class_colour(c));
  Axes histogram(figure, cv::Rect(0, 0, half, half));
  histogram.ylabel("instances").font(9).bars(positions, counts, colours);
  if (nc > 0 && nc < 30 && static_cast<int>(names.size()) >= nc)
    histogram.xticks(positions, std::vector<std::string>(names.begin(), names.begin() + nc), true);
  else
    histogram.xlabel("classes");
  histogram.draw();

  // The first 500 boxes, centred, at their relative size.
  cv::Mat boxes(1000, 1000, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t i = 0; i < labels.size() && i < 500; ++i) {
    const auto& l = labels[i];
    cv::rectangle(boxes, cv::Point(cvRound((0.5 - l.w / 2) * 1000), cvRound((0.5 - l.h / 2) * 1000)),
                  cv::Point(cvRound((0.5 + l.w / 2) * 1000), cvRound((0.5 + l.h / 2) * 1000)), class_colour(l.cls), 2,
                  cv::LINE_AA);
  }
  Axes outlines(figure, cv::Rect(half, 0, half, half));
  outlines.hide_axes().image(boxes, true).draw();

  // 2-D histograms (50x50 bins over [0, 1]) of centres and of sizes, white to blue.
  auto histogram2d = [&](auto first, auto second, const char* xname, const char* yname, cv::Rect area) {
    cv::Mat bins(50, 50, CV_64F, cv::Scalar(0));
    for (const auto& l : labels) {
      const int bx = std::clamp(static_cast<int>(first(l) * 50), 0, 49), by = std::clamp(static_cast<int>(second(l) * 50), 0, 49);
      bins.at<double>(49 - by, bx) += 1;  // y grows upwards, as in a chart
    }
    double most = 0;
    cv::minMaxLoc(bins, nullptr, &most);
    cv::Mat picture(50, 50, CV_8UC3);
    for (int r = 0; r < 50; ++r)
      for (int c = 0; c < 50; ++c) {
        const double t = most > 0 ? bins.at<double>(r, c) / most : 0;
        picture.at<cv::Vec3b>(r, c) = cv::Vec3b(255, cv::saturate_cast<uchar>(255 * (1 - t)), cv::saturate_cast<uchar>(255 * (1 - t)));
      }
    Axes axes(figure, area);
    axes.xlabel(xname).ylabel(yname).font(9).xlim(0, 1).ylim(0, 1).image(picture).draw();
  };
  histogram2d([](const LabelBox& l) { return l.x; }, [](const LabelBox& l) { return l.y; }, "x", "y",
              cv::Rect(0, half, half, half));
  histogram2d([](const LabelBox& l) { return l.w; }, [](const LabelBox& l) { return l.h; }, "width", "height",
              cv::Rect(half, half, half, half));
  figure.save(path);
}

}  // namespace plots
YOLO_END_NAMESPACE
