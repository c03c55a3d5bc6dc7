#include "metrics/confusion_matrix.h"

#include <algorithm>
#include <vector>

#include "utils/boxes.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {
namespace {

struct Match {
  int64_t label, pred;
  float iou;
};

// Keeps, for each value of `key`, the match with the highest IoU. Equal IoUs resolve towards the later
// match, as Ultralytics' reversed ascending sort does.
std::vector<Match> best_per(std::vector<Match> matches, int64_t Match::*key) {
  std::stable_sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) { return a.iou < b.iou; });
  std::reverse(matches.begin(), matches.end());
  std::vector<Match> kept;
  for (const auto& m : matches)
    if (std::none_of(kept.begin(), kept.end(), [&](const Match& k) { return k.*key == m.*key; })) kept.push_back(m);
  return kept;
}

std::vector<int64_t> class_ids(const torch::Tensor& column, int64_t nc) {
  auto c = column.to(torch::kCPU).round().to(torch::kLong).contiguous();
  std::vector<int64_t> ids(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  for (auto id : ids) YOLO_CHECK(id >= 0 && id < nc, "confusion matrix: class {} is outside 0..{}", id, nc - 1);
  return ids;
}

}  // namespace

ConfusionMatrix::ConfusionMatrix(int64_t nc, double conf, double iou)
    : nc_(nc), conf_(conf), iou_(iou), matrix_(torch::zeros({nc + 1, nc + 1}, torch::kLong)) {
  YOLO_CHECK(nc > 0, "ConfusionMatrix needs a positive number of classes, got {}", nc);
}

void ConfusionMatrix::process_batch(const torch::Tensor& preds, const torch::Tensor& labels) {
  YOLO_CHECK(has_background(), "process_batch fills a detection matrix, not a classification one");
  YOLO_CHECK(preds.dim() == 2 && preds.size(1) >= 6, "process_batch: preds must be [n, 6], got {}",
             c10::str(preds.sizes()));
  YOLO_CHECK(labels.dim() == 2 && labels.size(1) == 5, "process_batch: labels must be [m, 5], got {}",
             c10::str(labels.sizes()));
  auto counts = matrix_.accessor<int64_t, 2>();
  const auto background = nc_;
  const auto gt_classes = class_ids(labels.select(1, 0), nc_);
  // Without labels every confident prediction is a false positive; without predictions every label is missed.
  if (preds.size(0) == 0) {
    for (auto gc : gt_classes) ++counts[background][gc];
    return;
  }
  auto confident = preds.index({preds.select(1, 4) > conf_}).to(torch::kCPU, torch::kFloat32);
  const auto det_classes = class_ids(confident.select(1, 5), nc_);
  if (gt_classes.empty()) {
    for (auto dc : det_classes) ++counts[dc][background];
    return;
  }

  auto iou = boxes::box_iou(labels.narrow(1, 1, 4).to(torch::kCPU, torch::kFloat32), confident.narrow(1, 0, 4))
                 .contiguous();  // [m, n]
  const auto m = iou.size(0), n = iou.size(1);
  const auto* v = iou.data_ptr<float>();
  std::vector<Match> matches;
  for (int64_t l = 0; l < m; ++l)
    for (int64_t d = 0; d < n; ++d)
      if (v[l * n + d] > iou_) matches.push_back({l, d, v[l * n + d]});
  // Each prediction keeps its best label, then each label its best remaining prediction.
  matches = best_per(best_per(std::move(matches), &Match::pred), &Match::label);

  std::vector<int64_t> pred_of_label(static_cast<size_t>(m), -1);
  std::vector<bool> pred_matched(static_cast<size_t>(n), false);
  for (const auto& mt : matches) pred_of_label[mt.label] = mt.pred, pred_matched[mt.pred] = true;
  for (int64_t l = 0; l < m; ++l) {
    if (pred_of_label[l] >= 0)
      ++counts[det_classes[pred_of_label[l]]][gt_classes[l]];  // matched, right or wrong class
    else
      ++counts[background][gt_classes[l]];  // missed
  }
  for (int64_t d = 0; d < n; ++d)
    if (!pred_matched[d]) ++counts[det_classes[d]][background];  // nothing there
}

ConfusionMatrix ConfusionMatrix::for_classification(int64_t nc) {
  ConfusionMatrix matrix(nc);
  matrix.matrix_ = torch::zeros({nc, nc}, torch::kLong);
  return matrix;
}

void ConfusionMatrix::process_classes(const torch::Tensor& predicted, const torch::Tensor& truth) {
  YOLO_CHECK(!has_background(), "process_classes fills a classification matrix (ConfusionMatrix::for_classification)");
  YOLO_CHECK(predicted.numel() == truth.numel(), "process_classes: {} predictions for {} labels", predicted.numel(),
             truth.numel());
  const auto p = class_ids(predicted.reshape({-1}).to(torch::kDouble), nc_);
  const auto t = class_ids(truth.reshape({-1}).to(torch::kDouble), nc_);
  auto counts = matrix_.accessor<int64_t, 2>();
  for (size_t i = 0; i < p.size(); ++i) ++counts[p[i]][t[i]];
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  YOLO_CHECK(other.nc_ == nc_, "cannot merge a confusion matrix of {} classes into {}", other.nc_, nc_);
  add_counts(other.matrix_);
}

void ConfusionMatrix::add_counts(const torch::Tensor& counts) {
  YOLO_CHECK(counts.sizes() == matrix_.sizes(), "confusion matrix counts of shape {} added to one of shape {}",
             c10::str(counts.sizes()), c10::str(matrix_.sizes()));
  matrix_ += counts.to(torch::kCPU, torch::kLong);
}

torch::Tensor ConfusionMatrix::true_positives() const { return matrix_.diagonal().narrow(0, 0, nc_).clone(); }

torch::Tensor ConfusionMatrix::false_positives() const {
  return (matrix_.sum(1) - matrix_.diagonal()).narrow(0, 0, nc_);
}

}  // namespace metrics
YOLO_END_NAMESPACE
