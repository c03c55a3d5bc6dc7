#pragma once
// The pictures a user judges a run by, drawn with OpenCV from plain data (no LibTorch, no Python):
// results.png, confusion matrices, PR / F1 / P / R curves and labels.jpg, at Ultralytics' sizes and layouts.
#include <string>
#include <vector>

#include "loggers/records.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {

/// Gaussian smoothing as scipy.ndimage.gaussian_filter1d (sigma in samples, reflected edges, radius 4 sigma),
/// Ultralytics' dotted "smooth" line in results.png.
std::vector<double> gaussian_smooth(const std::vector<double>& y, double sigma = 3);

/// results.png from results.csv rows: one panel per loss and metric column, each raw (line with markers) and
/// smoothed (dotted). Detection: a 2x5 grid in Ultralytics' order (train losses, P, R / val losses, mAP50,
/// mAP50-95), 2400x1200; classification: 2x2 (train/loss, val/loss, top1, top5), 1200x1200; any other set of
/// columns: every column except epoch, time and lr/*, two rows.
void plot_results(const std::vector<loggers::EpochRecord>& records, const std::string& path);

/// The curves of a detection validation over a shared axis of N points in [0, 1] (metrics::ApPerClass).
struct Curves {
  std::vector<std::string> names;                         ///< [K] the classes that have labels, in class order
  std::vector<double> ap50;                               ///< [K] AP at IoU 0.5
  std::vector<double> x;                                  ///< [N] confidence for P/R/F1, recall for the PR curve
  std::vector<std::vector<double>> precision, recall, f1;  ///< [K][N] over confidence
  std::vector<std::vector<double>> pr;                    ///< [K][N] precision envelope over recall
};

/// BoxPR_curve.png: per-class precision over recall (legend "name 0.912" for up to 20 classes, grey lines
/// beyond), and the mean over classes in bold blue with mAP@0.5 in the legend. 2250x1500.
void plot_pr_curve(const Curves& curves, const std::string& path);

enum class CurveMetric { F1, Precision, Recall };
/// BoxF1_curve.png / BoxP_curve.png / BoxR_curve.png: per-class metric over confidence and the smoothed mean,
/// whose best value and its confidence go in the legend ("all classes 0.52 at 0.312"). 2250x1500.
void plot_metric_curve(const Curves& curves, CurveMetric metric, const std::string& path);

/// Counts of a confusion matrix: matrix[predicted][true]; with `background`, the last row and column stand
/// for background (detection), as metrics::ConfusionMatrix lays them out.
struct Confusion {
  std::vector<std::string> names;              ///< [nc]
  std::vector<std::vector<double>> matrix;     ///< [nc (+1)][nc (+1)]
  bool background = true;
};

/// confusion_matrix.png or, with `normalize` (each true-class column sums to 1), confusion_matrix_normalized.png:
/// a Blues heat map with class names on both axes, values in the cells up to 30 classes, a colour bar. 3000x2250.
void plot_confusion_matrix(const Confusion& confusion, bool normalize, const std::string& path);

/// One label of the training set, normalised centre and size.
struct LabelBox {
  int cls = 0;
  float x = 0, y = 0, w = 0, h = 0;
};
/// labels.jpg: instances per class, the first 500 boxes drawn centred, and 50x50-bin histograms of box centres
/// and of box sizes. 1600x1600.
void plot_labels(const std::vector<LabelBox>& labels, const std::vector<std::string>& names, const std::string& path);

}  // namespace plots
YOLO_END_NAMESPACE
