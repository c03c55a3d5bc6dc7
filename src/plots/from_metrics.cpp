#include "plots/from_metrics.h"

#include <algorithm>
#include <filesystem>

#include "data/dataset.h"
#include "data/loader.h"
#include "metrics/ap.h"
#include "metrics/confusion_matrix.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<std::vector<double>> to_rows(const torch::Tensor& t) {
  std::vector<std::vector<double>> rows;
  for (int64_t i = 0; i < t.size(0); ++i) rows.push_back(to_vector(t[i]));
  return rows;
}

}  // namespace

Curves curves_from(const metrics::ApPerClass& ap, const std::vector<std::string>& names) {
  Curves c;
  for (const auto cls : to_vector(ap.unique_classes)) {
    const auto id = static_cast<size_t>(cls);
    c.names.push_back(id < names.size() ? names[id] : std::to_string(id));
  }
  if (ap.ap.numel()) c.ap50 = to_vector(ap.ap.select(1, 0));
  c.x = to_vector(ap.x);
  c.precision = to_rows(ap.p_curve);
  c.recall = to_rows(ap.r_curve);
  c.f1 = to_rows(ap.f1_curve);
  // prec_values has a row only for classes that have predictions (as Ultralytics'); the others get a zero
  // curve, which is their PR curve. Those classes are the ones whose p_curve is zero everywhere (with
  // predictions, precision is 1 above the highest confidence).
  const auto pr = to_rows(ap.prec_values);
  const auto zero = [](const std::vector<double>& y) {
    return std::all_of(y.begin(), y.end(), [](double v) { return v == 0; });
  };
  size_t next = 0;
  for (const auto& p : c.precision) {
    const bool predicted = pr.size() == c.precision.size() || !zero(p);
    c.pr.push_back(predicted && next < pr.size() ? pr[next++] : std::vector<double>(c.x.size(), 0.0));
  }
  return c;
}

Confusion confusion_from(const metrics::ConfusionMatrix& matrix, const std::vector<std::string>& names) {
  const auto& m = matrix.matrix();
  const bool background = matrix.has_background();
  YOLO_CHECK(m.size(0) == static_cast<int64_t>(names.size()) + (background ? 1 : 0),
             "confusion matrix of {} rows for {} class names{}", m.size(0), names.size(),
             background ? " (expected one more, for background)" : "");
  return {names, to_rows(m), background};
}

std::vector<MosaicTile> batch_tiles(const data::Batch& batch, size_t max_tiles) {
  const int64_t b = std::min<int64_t>(batch.images.size(0), static_cast<int64_t>(max_tiles));
  const int64_t h = batch.images.size(2), w = batch.images.size(3);
  auto images = batch.images.narrow(0, 0, b).to(torch::kCPU).contiguous();
  std::vector<MosaicTile> tiles(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) {
    auto* data = images[i].data_ptr<uint8_t>();
    std::vector<cv::Mat> planes;
    for (int c = 2; c >= 0; --c)  // RGB planes -> BGR for OpenCV
      planes.emplace_back(static_cast<int>(h), static_cast<int>(w), CV_8UC1, data + c * h * w);
    cv::merge(planes, tiles[i].image);  // a copy: the tile outlives the batch
    if (static_cast<size_t>(i) < batch.paths.size())
      tiles[i].caption = std::filesystem::path(batch.paths[i]).filename().string();
    if (batch.labels.defined()) tiles[i].classes.emplace_back(static_cast<int>(batch.labels[i].item<int64_t>()), -1.0f);
  }
  if (batch.targets.defined() && batch.targets.numel() > 0) {
    auto targets = batch.targets.to(torch::kCPU, torch::kFloat32).contiguous();
    auto t = targets.accessor<float, 2>();
    for (int64_t k = 0; k < t.size(0); ++k) {
      const auto i = static_cast<int64_t>(t[k][0]);
      if (i < 0 || i >= b) continue;
      const float cx = t[k][2] * w, cy = t[k][3] * h, bw = t[k][4] * w, bh = t[k][5] * h;
      tiles[i].boxes.push_back({cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, static_cast<int>(t[k][1])});
    }
  }
  return tiles;
}

std::vector<LabelBox> dataset_labels(const data::Dataset& dataset) {
  std::vector<LabelBox> boxes;
  const auto* detection = dynamic_cast<const data::DetectionDataset*>(&dataset);
  if (!detection) return boxes;
  for (const auto& image : detection->labels())
    for (size_t k = 0; k < image.cls.size(); ++k) {
      const auto& b = image.boxes[k];
      boxes.push_back({static_cast<int>(image.cls[k]), b[0], b[1], b[2], b[3]});
    }
  return boxes;
}

}  // namespace plots
YOLO_END_NAMESPACE
