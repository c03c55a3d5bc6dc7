#include "plots/from_metrics.h"

#include <algorithm>

#include "yolo/metrics/ap.h"
#include "yolo/metrics/confusion_matrix.h"
#include "yolo/utils/error.h"

namespace yolo::plots {
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
  YOLO_CHECK(m.size(0) == static_cast<int64_t>(names.size()) + 1,
             "confusion matrix of {} rows for {} class names (expected one more, for background)", m.size(0),
             names.size());
  return {names, to_rows(m), true};
}

}  // namespace yolo::plots
