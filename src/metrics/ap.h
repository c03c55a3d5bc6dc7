#pragma once
// Average precision as Ultralytics 8.3 computes it (utils/metrics.py): per-class precision/recall
// curves over confidence, COCO's 101-point interpolated AP at each IoU threshold, and precision and
// recall read at the confidence that maximises the smoothed mean F1.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {

/// The ten IoU thresholds 0.50, 0.55, ..., 0.95 of COCO's mAP50-95 (float32, as torch.linspace).
torch::Tensor coco_iou_thresholds(const torch::Device& device = torch::kCPU);

/// AP of one precision/recall curve (recall ascending): sentinels (0, 1) and (1, 0) are added, precision
/// becomes its running maximum from the right, and the area is the trapezoid rule over 101 recall points.
/// A perfect curve gives 0.995, not 1: the sentinel drops precision to 0 between recall 0.99 and 1.
double compute_ap(const std::vector<double>& recall, const std::vector<double>& precision);

/// Moving average over a window of round(2 * f * n) / 2 * 2 + 1 points, the ends padded by repetition.
std::vector<double> smooth(const std::vector<double>& y, double f = 0.05);

/// What ap_per_class returns, as float64 CPU tensors; K is the number of classes that have labels.
struct ApPerClass {
  torch::Tensor tp, fp;                      ///< [K] true/false positive counts at the max-F1 confidence
  torch::Tensor precision;                   ///< [K] at the max-F1 confidence
  torch::Tensor recall;                      ///< [K]
  torch::Tensor f1;                          ///< [K]
  torch::Tensor ap;                          ///< [K, T] AP per class and IoU threshold
  torch::Tensor unique_classes;              ///< [K] int64, ascending
  torch::Tensor p_curve, r_curve, f1_curve;  ///< [K, 1000] over confidence 0..1
  torch::Tensor x;                           ///< [1000] the confidence axis
  torch::Tensor prec_values;                 ///< [K, 1000] precision envelope over recall at the first threshold
};

/// tp [N, T] bool (prediction correct at each IoU threshold), conf [N], pred_cls [N], target_cls [M].
/// Predictions are ranked by confidence with a stable sort (NumPy's ranking of equal scores is
/// unspecified). Classes are those present in target_cls; predictions of other classes are ignored.
ApPerClass ap_per_class(const torch::Tensor& tp, const torch::Tensor& conf, const torch::Tensor& pred_cls,
                        const torch::Tensor& target_cls, double eps = 1e-16);

/// One row of the validation table.
struct ClassMetrics {
  int64_t class_id = 0;
  int64_t images = 0;     ///< images with at least one label of the class
  int64_t instances = 0;  ///< labels of the class
  double precision = 0, recall = 0, map50 = 0, map50_95 = 0;
};

/// Results of a validation run, Ultralytics' DetMetrics. Means are over the classes that have labels.
struct DetectionMetrics {
  double precision = 0, recall = 0, map50 = 0, map75 = 0, map50_95 = 0;
  double fitness = 0;                   ///< 0.1 * mAP50 + 0.9 * mAP50-95
  std::vector<ClassMetrics> per_class;  ///< classes with labels, ascending id
  std::vector<double> maps;             ///< [nc] mAP50-95 per class; the mean for classes without labels
  int64_t images = 0;                   ///< images seen
  int64_t instances = 0;                ///< labels seen
  ApPerClass curves;                    ///< what ap_per_class computed: the PR, P, R and F1 curves the plots draw

  /// Ultralytics' results_dict: metrics/precision(B), metrics/recall(B), metrics/mAP50(B),
  /// metrics/mAP50-95(B), fitness.
  std::vector<std::pair<std::string, double>> results_dict() const;
};

}  // namespace metrics
YOLO_END_NAMESPACE
