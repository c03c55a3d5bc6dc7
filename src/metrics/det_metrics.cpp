#include "metrics/det_metrics.h"

#include "metrics/numpy_compat.h"
#include "utils/boxes.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {
namespace {

enum Field { kTp, kConf, kPredCls, kTargetCls, kTargetImg, kFieldCount };

torch::Tensor cat_or(const std::vector<torch::Tensor>& chunks, const torch::Tensor& empty) {
  return chunks.empty() ? empty : torch::cat(chunks);
}

// NumPy's mean of a float64 tensor (pairwise summation), 0 when empty.
double mean_of(const torch::Tensor& t) {
  auto c = t.to(torch::kDouble).contiguous().view(-1);
  return numpy::mean(std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel()));
}

}  // namespace

torch::Tensor match_predictions(const torch::Tensor& pred_classes, const torch::Tensor& true_classes,
                                const torch::Tensor& iou, const torch::Tensor& iou_thresholds) {
  const auto n = pred_classes.numel(), m = true_classes.numel(), t = iou_thresholds.numel();
  YOLO_CHECK(iou.dim() == 2 && iou.size(0) == m && iou.size(1) == n,
             "match_predictions: iou must be [labels={}, predictions={}], got {}", m, n, c10::str(iou.sizes()));
  const auto device = pred_classes.device();
  if (n == 0 || m == 0) return torch::zeros({n, t}, torch::TensorOptions().dtype(torch::kBool).device(device));

  auto same_class = true_classes.to(device).to(torch::kLong).view({m, 1}) == pred_classes.to(torch::kLong).view({1, n});
  auto class_iou = iou.to(device).to(torch::kFloat32) * same_class;
  // Each prediction's best label; on equal IoU the higher label index wins, as NumPy's reversed sort.
  auto [best_iou, flipped_index] = class_iou.flip(0).max(0);
  auto best_label = (m - 1) - flipped_index;  // [n]

  auto thresholds = iou_thresholds.to(device).to(torch::kFloat32).view({1, t});
  auto valid = best_iou.view({n, 1}) >= thresholds;  // [n, T]
  auto label_index = best_label.view({n, 1}).expand({n, t});
  // A label claimed by several predictions goes to the lowest-index one: the first true along the
  // prediction axis of claims [m, n, T] (argmax returns the first maximum).
  auto labels = torch::arange(m, best_label.options()).view({m, 1, 1});
  auto claims = (best_label.view({1, n, 1}) == labels) & valid.unsqueeze(0);
  auto first_claim = claims.to(torch::kByte).argmax(1);  // [m, T]
  auto pred_index = torch::arange(n, best_label.options()).view({n, 1});
  return valid & (first_claim.gather(0, label_index) == pred_index);
}

DetectionStats::DetectionStats(int64_t nc) : nc_(nc), iou_thresholds_(coco_iou_thresholds()) {
  YOLO_CHECK(nc > 0, "DetectionStats needs a positive number of classes, got {}", nc);
}

void DetectionStats::add_image(const torch::Tensor& preds, const torch::Tensor& labels) {
  YOLO_CHECK(preds.dim() == 2 && preds.size(1) >= 6, "add_image: preds must be [n, 6] xyxy conf cls, got {}",
             c10::str(preds.sizes()));
  YOLO_CHECK(labels.dim() == 2 && labels.size(1) == 5, "add_image: labels must be [m, 5] cls xyxy, got {}",
             c10::str(labels.sizes()));
  const auto n = preds.size(0), m = labels.size(0);
  auto pred_cls = preds.select(1, 5).round().to(torch::kLong);
  auto target_cls = labels.select(1, 0).round().to(torch::kLong);
  torch::Tensor tp;
  if (n == 0 || m == 0) {
    tp = torch::zeros({n, iou_thresholds_.numel()}, torch::kBool);
  } else {
    auto iou = boxes::box_iou(labels.narrow(1, 1, 4).to(torch::kFloat32), preds.narrow(1, 0, 4).to(torch::kFloat32));
    tp = match_predictions(pred_cls, target_cls, iou, iou_thresholds_).to(torch::kCPU);
  }
  auto target_cpu = target_cls.to(torch::kCPU);
  tp_.push_back(tp);
  conf_.push_back(preds.select(1, 4).to(torch::kCPU, torch::kFloat32));
  pred_cls_.push_back(pred_cls.to(torch::kCPU));
  target_cls_.push_back(target_cpu);
  target_img_.push_back(std::get<0>(torch::_unique(target_cpu, /*sorted=*/true)));
  ++images_;
}

void DetectionStats::merge(const DetectionStats& other) {
  YOLO_CHECK(other.nc_ == nc_, "cannot merge statistics of {} classes into {}", other.nc_, nc_);
  auto tensors = other.to_tensors();
  tp_.push_back(tensors[kTp]);
  conf_.push_back(tensors[kConf]);
  pred_cls_.push_back(tensors[kPredCls]);
  target_cls_.push_back(tensors[kTargetCls]);
  target_img_.push_back(tensors[kTargetImg]);
  images_ += other.images_;
}

void DetectionStats::flatten() const {
  const auto long_options = torch::TensorOptions().dtype(torch::kLong);
  auto squash = [](std::vector<torch::Tensor>& chunks, const torch::Tensor& empty) {
    auto all = cat_or(chunks, empty);
    chunks.assign(1, all);
  };
  squash(tp_, torch::zeros({0, iou_thresholds_.numel()}, torch::kBool));
  squash(conf_, torch::zeros({0}, torch::kFloat32));
  squash(pred_cls_, torch::zeros({0}, long_options));
  squash(target_cls_, torch::zeros({0}, long_options));
  squash(target_img_, torch::zeros({0}, long_options));
}

std::vector<torch::Tensor> DetectionStats::to_tensors() const {
  flatten();
  return {tp_[0], conf_[0], pred_cls_[0], target_cls_[0], target_img_[0], torch::tensor({images_}, torch::kLong)};
}

DetectionStats DetectionStats::from_tensors(int64_t nc, const std::vector<torch::Tensor>& tensors) {
  YOLO_CHECK(tensors.size() == kFieldCount + 1,
             "from_tensors expects tp, conf, pred_cls, target_cls, target_img, images; got {} tensors", tensors.size());
  DetectionStats stats(nc);
  YOLO_CHECK(tensors[kTp].dim() == 2 && tensors[kTp].size(0) == tensors[kConf].numel() &&
                 tensors[kConf].numel() == tensors[kPredCls].numel(),
             "from_tensors: tp, conf and pred_cls disagree on the number of predictions");
  stats.tp_ = {tensors[kTp].to(torch::kCPU, torch::kBool)};
  stats.conf_ = {tensors[kConf].to(torch::kCPU, torch::kFloat32)};
  stats.pred_cls_ = {tensors[kPredCls].to(torch::kCPU, torch::kLong)};
  stats.target_cls_ = {tensors[kTargetCls].to(torch::kCPU, torch::kLong)};
  stats.target_img_ = {tensors[kTargetImg].to(torch::kCPU, torch::kLong)};
  stats.images_ = tensors[kFieldCount].sum().item<int64_t>();
  return stats;
}

int64_t DetectionStats::instances() const {
  int64_t total = 0;
  for (const auto& t : target_cls_) total += t.numel();
  return total;
}

DetectionMetrics DetectionStats::compute() const {
  flatten();
  const auto& target_cls = target_cls_[0];
  if (target_cls.numel() > 0) YOLO_CHECK(target_cls.min().item<int64_t>() >= 0, "label classes must be non-negative");
  auto result = ap_per_class(tp_[0], conf_[0], pred_cls_[0], target_cls);
  auto per_class_labels = torch::bincount(target_cls, {}, nc_);
  auto per_class_images = torch::bincount(target_img_[0], {}, nc_);

  DetectionMetrics m;
  m.images = images_;
  m.instances = target_cls.numel();
  const auto& ap = result.ap;  // [K, 10]
  m.precision = mean_of(result.precision);
  m.recall = mean_of(result.recall);
  if (ap.size(0) > 0) {
    m.map50 = mean_of(ap.select(1, 0));
    m.map75 = mean_of(ap.select(1, 5));
    m.map50_95 = mean_of(ap);
  }
  m.fitness = 0.1 * m.map50 + 0.9 * m.map50_95;
  m.curves = result;
  m.maps.assign(static_cast<size_t>(nc_), m.map50_95);
  for (int64_t i = 0; i < ap.size(0); ++i) {
    ClassMetrics c;
    c.class_id = result.unique_classes[i].item<int64_t>();
    c.images = per_class_images[c.class_id].item<int64_t>();
    c.instances = per_class_labels[c.class_id].item<int64_t>();
    c.precision = result.precision[i].item<double>();
    c.recall = result.recall[i].item<double>();
    c.map50 = ap[i][0].item<double>();
    c.map50_95 = mean_of(ap[i]);
    if (c.class_id < nc_) m.maps[c.class_id] = c.map50_95;
    m.per_class.push_back(c);
  }
  return m;
}

}  // namespace metrics
YOLO_END_NAMESPACE
