#include "metrics/ap.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "metrics/numpy_compat.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {
namespace {

std::vector<double> to_doubles(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kDouble).contiguous().view(-1);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<int64_t> to_classes(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kDouble).contiguous().view(-1);
  std::vector<int64_t> out(static_cast<size_t>(c.numel()));
  const auto* p = c.data_ptr<double>();
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(std::llround(p[i]));
  return out;
}

torch::Tensor rows_to_tensor(const std::vector<std::vector<double>>& rows, int64_t width) {
  auto t = torch::zeros({static_cast<int64_t>(rows.size()), width}, torch::kDouble);
  for (size_t r = 0; r < rows.size(); ++r)
    std::copy(rows[r].begin(), rows[r].end(), t[static_cast<int64_t>(r)].data_ptr<double>());
  return t;
}

torch::Tensor vector_to_tensor(const std::vector<double>& v) {
  return torch::tensor(v, torch::kDouble).view({static_cast<int64_t>(v.size())});
}

constexpr int64_t kCurvePoints = 1000;

// The PR curve with sentinels (recall 0 at precision 1, recall 1 at precision 0) and precision replaced
// by its maximum at equal or higher recall. Returns {recall, precision}.
std::pair<std::vector<double>, std::vector<double>> precision_envelope(const std::vector<double>& recall,
                                                                       const std::vector<double>& precision) {
  std::vector<double> mrec{0.0}, mpre{1.0};
  mrec.insert(mrec.end(), recall.begin(), recall.end());
  mpre.insert(mpre.end(), precision.begin(), precision.end());
  mrec.push_back(1.0);
  mpre.push_back(0.0);
  for (size_t i = mpre.size() - 1; i-- > 0;) mpre[i] = std::max(mpre[i], mpre[i + 1]);
  return {std::move(mrec), std::move(mpre)};
}

}  // namespace

torch::Tensor coco_iou_thresholds(const torch::Device& device) {
  return torch::linspace(0.5, 0.95, 10, torch::TensorOptions().dtype(torch::kFloat32).device(device));
}

double compute_ap(const std::vector<double>& recall, const std::vector<double>& precision) {
  YOLO_CHECK(recall.size() == precision.size(), "compute_ap: {} recall but {} precision values", recall.size(),
             precision.size());
  const auto [mrec, mpre] = precision_envelope(recall, precision);

  static const std::vector<double> grid = numpy::linspace01(101);
  std::vector<double> y(grid.size());
  for (size_t i = 0; i < grid.size(); ++i) y[i] = numpy::interp(grid[i], mrec, mpre, mpre.front(), mpre.back());
  std::vector<double> areas(grid.size() - 1);
  for (size_t i = 0; i + 1 < grid.size(); ++i) areas[i] = (grid[i + 1] - grid[i]) * (y[i + 1] + y[i]) / 2.0;
  return numpy::sum(areas);
}

std::vector<double> smooth(const std::vector<double>& y, double f) {
  if (y.empty()) return {};
  const auto n = static_cast<int64_t>(y.size());
  const auto window = static_cast<int64_t>(std::nearbyint(static_cast<double>(n) * f * 2)) / 2 + 1;  // odd
  const auto pad = window / 2;
  std::vector<double> padded(static_cast<size_t>(n + 2 * pad));
  std::fill(padded.begin(), padded.begin() + pad, y.front());
  std::copy(y.begin(), y.end(), padded.begin() + pad);
  std::fill(padded.end() - pad, padded.end(), y.back());
  const double weight = 1.0 / static_cast<double>(window);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (int64_t k = 0; k < window; ++k) s += padded[i + k] * weight;
    out[i] = s;
  }
  return out;
}

ApPerClass ap_per_class(const torch::Tensor& tp, const torch::Tensor& conf, const torch::Tensor& pred_cls,
                        const torch::Tensor& target_cls, double eps) {
  YOLO_CHECK(tp.dim() == 2, "ap_per_class: tp must be [n, thresholds], got {}", c10::str(tp.sizes()));
  const auto n = tp.size(0), thresholds = tp.size(1);
  YOLO_CHECK(conf.numel() == n && pred_cls.numel() == n, "ap_per_class: tp has {} rows but conf {} and pred_cls {}", n,
             conf.numel(), pred_cls.numel());
  auto tp_cpu = tp.to(torch::kCPU).to(torch::kBool).contiguous();
  const bool* tp_data = tp_cpu.data_ptr<bool>();
  // Confidences stay float32 until compared, as in NumPy where float32 meets the float64 grid.
  auto conf_values = to_doubles(conf.to(torch::kFloat32));
  auto pred_classes = to_classes(pred_cls);
  auto target_classes = to_classes(target_cls);

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return conf_values[a] > conf_values[b]; });

  std::map<int64_t, int64_t> label_counts;
  for (auto c : target_classes) ++label_counts[c];
  std::map<int64_t, std::vector<int64_t>> ranked_by_class;  // predictions of each class, best first
  for (auto i : order) ranked_by_class[pred_classes[i]].push_back(i);
  const auto k = static_cast<int64_t>(label_counts.size());

  const auto x = numpy::linspace01(kCurvePoints);
  std::vector<double> neg_x(x.size());
  std::transform(x.begin(), x.end(), neg_x.begin(), [](double v) { return -v; });
  auto ap = torch::zeros({k, thresholds}, torch::kDouble);
  std::vector<std::vector<double>> p_curve(k, std::vector<double>(kCurvePoints, 0.0));
  std::vector<std::vector<double>> r_curve = p_curve, prec_values;
  std::vector<int64_t> classes, counts;

  int64_t ci = 0;
  for (const auto& [c, n_labels] : label_counts) {
    classes.push_back(c), counts.push_back(n_labels);
    const auto& mine = ranked_by_class[c];
    if (mine.empty()) {
      ++ci;
      continue;
    }
    const auto n_p = static_cast<int64_t>(mine.size());
    std::vector<double> neg_conf(n_p);
    for (int64_t r = 0; r < n_p; ++r) neg_conf[r] = -conf_values[mine[r]];
    // Cumulative TP/FP per threshold -> recall and precision, [threshold][rank].
    std::vector<std::vector<double>> recall(thresholds, std::vector<double>(n_p));
    std::vector<std::vector<double>> precision = recall;
    for (int64_t t = 0; t < thresholds; ++t) {
      int64_t tpc = 0, fpc = 0;
      for (int64_t r = 0; r < n_p; ++r) {
        const bool hit = tp_data[mine[r] * thresholds + t];
        tpc += hit, fpc += !hit;
        recall[t][r] = static_cast<double>(tpc) / (static_cast<double>(n_labels) + eps);
        precision[t][r] = static_cast<double>(tpc) / static_cast<double>(tpc + fpc);
      }
    }
    // Curves over confidence; the conf axis is decreasing, hence the negations.
    for (int64_t i = 0; i < kCurvePoints; ++i) {
      r_curve[ci][i] = numpy::interp(neg_x[i], neg_conf, recall[0], 0.0, recall[0].back());
      p_curve[ci][i] = numpy::interp(neg_x[i], neg_conf, precision[0], 1.0, precision[0].back());
    }
    for (int64_t t = 0; t < thresholds; ++t) ap[ci][t] = compute_ap(recall[t], precision[t]);
    {  // precision envelope over recall at the first threshold (the PR curve plot)
      const auto [mrec, mpre] = precision_envelope(recall[0], precision[0]);
      std::vector<double> row(kCurvePoints);
      for (int64_t i = 0; i < kCurvePoints; ++i) row[i] = numpy::interp(x[i], mrec, mpre, mpre.front(), mpre.back());
      prec_values.push_back(std::move(row));
    }
    ++ci;
  }

  std::vector<std::vector<double>> f1_curve(k, std::vector<double>(kCurvePoints));
  std::vector<double> mean_f1(kCurvePoints, 0.0);
  for (int64_t c = 0; c < k; ++c)
    for (int64_t i = 0; i < kCurvePoints; ++i) {
      const double p = p_curve[c][i], r = r_curve[c][i];
      f1_curve[c][i] = 2 * p * r / (p + r + eps);
      mean_f1[i] += f1_curve[c][i];
    }
  for (auto& v : mean_f1) v /= static_cast<double>(std::max<int64_t>(k, 1));
  // Precision and recall are read where the smoothed mean F1 peaks (the first peak on ties).
  const auto smoothed = smooth(mean_f1, 0.1);
  const auto best = k == 0 ? 0 : std::max_element(smoothed.begin(), smoothed.end()) - smoothed.begin();

  ApPerClass out;
  std::vector<double> p(k), r(k), f1(k), tps(k), fps(k);
  for (int64_t c = 0; c < k; ++c) {
    p[c] = p_curve[c][best], r[c] = r_curve[c][best], f1[c] = f1_curve[c][best];
    tps[c] = std::nearbyint(r[c] * static_cast<double>(counts[c]));
    fps[c] = std::nearbyint(tps[c] / (p[c] + eps) - tps[c]);
  }
  out.tp = vector_to_tensor(tps), out.fp = vector_to_tensor(fps);
  out.precision = vector_to_tensor(p), out.recall = vector_to_tensor(r), out.f1 = vector_to_tensor(f1);
  out.ap = ap;
  out.unique_classes = torch::tensor(classes, torch::kLong).view({k});
  out.p_curve = rows_to_tensor(p_curve, kCurvePoints);
  out.r_curve = rows_to_tensor(r_curve, kCurvePoints);
  out.f1_curve = rows_to_tensor(f1_curve, kCurvePoints);
  out.x = vector_to_tensor(x);
  out.prec_values =
      prec_values.empty() ? torch::zeros({1, kCurvePoints}, torch::kDouble) : rows_to_tensor(prec_values, kCurvePoints);
  return out;
}

std::vector<std::pair<std::string, double>> DetectionMetrics::results_dict() const {
  return {{"metrics/precision(B)", precision},
          {"metrics/recall(B)", recall},
          {"metrics/mAP50(B)", map50},
          {"metrics/mAP50-95(B)", map50_95},
          {"fitness", fitness}};
}

}  // namespace metrics
YOLO_END_NAMESPACE
