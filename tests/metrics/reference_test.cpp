// Our metrics against figures Ultralytics 8.3.166 produced (tests/data/metrics/generate.py).
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "catch.h"
#include "metrics/det_metrics.h"
#include "metrics/fixture.h"
#include "metrics/nms.h"

using namespace yolo::metrics;
using yolo::test::read_fixture;

namespace {

void check_close(const torch::Tensor& got, const torch::Tensor& expected, double tolerance) {
  REQUIRE(got.sizes() == expected.sizes());
  const auto diff = (got.to(torch::kDouble) - expected).abs().max().item<double>();
  CHECK(diff <= tolerance);
}

/// DetMetrics' means, in Ultralytics' order: mp, mr, map50, map, map75, fitness.
void check_means(const DetectionMetrics& m, const torch::Tensor& means) {
  CHECK(m.precision == Approx(means[0].item<double>()).margin(1e-9));
  CHECK(m.recall == Approx(means[1].item<double>()).margin(1e-9));
  CHECK(m.map50 == Approx(means[2].item<double>()).margin(1e-9));
  CHECK(m.map50_95 == Approx(means[3].item<double>()).margin(1e-9));
  CHECK(m.map75 == Approx(means[4].item<double>()).margin(1e-9));
  CHECK(m.fitness == Approx(means[5].item<double>()).margin(1e-9));
}

}  // namespace

TEST_CASE("ap_per_class matches Ultralytics on a seeded random case", "[metrics]") {
  auto f = read_fixture("ap_per_class.txt");
  auto r = ap_per_class(f["tp"].to(torch::kBool), f["conf"].to(torch::kFloat32), f["pred_cls"].to(torch::kFloat32),
                        f["target_cls"].to(torch::kFloat32));
  CHECK(torch::equal(r.unique_classes, f["expected_classes"].to(torch::kLong)));
  check_close(r.ap, f["expected_ap"], 1e-9);
  check_close(r.precision, f["expected_p"], 1e-9);
  check_close(r.recall, f["expected_r"], 1e-9);
  check_close(r.f1, f["expected_f1"], 1e-9);
  check_close(r.tp, f["expected_tp"], 0);
  check_close(r.fp, f["expected_fp"], 0);
  auto columns = f["curve_columns"].to(torch::kLong);
  check_close(r.p_curve.index_select(1, columns), f["expected_p_curve"], 1e-9);
  check_close(r.r_curve.index_select(1, columns), f["expected_r_curve"], 1e-9);
  check_close(r.f1_curve.index_select(1, columns), f["expected_f1_curve"], 1e-9);
  check_close(r.prec_values.index_select(1, columns), f["expected_prec_values"], 1e-9);

  // DetMetrics' means over the same statistics: mp, mr, map50, map, map75, fitness.
  DetectionStats stats(7);
  stats = DetectionStats::from_tensors(
      7, {f["tp"].to(torch::kBool), f["conf"].to(torch::kFloat32), f["pred_cls"].to(torch::kLong),
          f["target_cls"].to(torch::kLong), torch::zeros({0}, torch::kLong), torch::tensor({1}, torch::kLong)});
  auto m = stats.compute();
  check_means(m, f["expected_means"]);
}

TEST_CASE("DetectionStats matches Ultralytics' validator statistics on boxes", "[metrics]") {
  auto f = read_fixture("detection_stats.txt");
  auto preds = f["preds"].to(torch::kFloat32), labels = f["labels"].to(torch::kFloat32);
  DetectionStats stats(3);
  const auto images = static_cast<int64_t>(labels.select(1, 0).max().item<double>()) + 1;
  for (int64_t img = 0; img < std::max<int64_t>(images, 24); ++img) {
    auto p = preds.index({preds.select(1, 0) == img}).narrow(1, 1, 6);
    auto l = labels.index({labels.select(1, 0) == img}).narrow(1, 1, 5);
    stats.add_image(p, l);
  }
  auto m = stats.compute();
  check_means(m, f["expected_means"]);
  auto rows = f["expected_per_class"];  // class, images, instances, p, r, ap50, ap50-95
  REQUIRE(m.per_class.size() == static_cast<size_t>(rows.size(0)));
  for (int64_t i = 0; i < rows.size(0); ++i) {
    const auto& c = m.per_class[static_cast<size_t>(i)];
    CHECK(c.class_id == static_cast<int64_t>(rows[i][0].item<double>()));
    CHECK(c.images == static_cast<int64_t>(rows[i][1].item<double>()));
    CHECK(c.instances == static_cast<int64_t>(rows[i][2].item<double>()));
    CHECK(c.precision == Approx(rows[i][3].item<double>()).margin(1e-9));
    CHECK(c.recall == Approx(rows[i][4].item<double>()).margin(1e-9));
    CHECK(c.map50 == Approx(rows[i][5].item<double>()).margin(1e-9));
    CHECK(c.map50_95 == Approx(rows[i][6].item<double>()).margin(1e-9));
  }
}

TEST_CASE("non_max_suppression matches Ultralytics with torchvision", "[metrics]") {
  auto f = read_fixture("nms.txt");
  auto prediction = f["prediction"].to(torch::kFloat32);
  std::map<std::string, NmsOptions> cases;
  cases["default"].conf = 0.25, cases["default"].iou = 0.7, cases["default"].max_det = 60;
  cases["multi"].conf = 0.1, cases["multi"].iou = 0.5, cases["multi"].multi_label = true, cases["multi"].max_det = 40;
  cases["agnostic"].conf = 0.2, cases["agnostic"].iou = 0.45, cases["agnostic"].agnostic = true;
  cases["agnostic"].max_det = 60;
  cases["classes"].conf = 0.05, cases["classes"].iou = 0.6, cases["classes"].classes = {0, 2};
  cases["classes"].multi_label = true, cases["classes"].max_det = 60;
  for (const auto& [name, options] : cases) {
    INFO(name);
    auto out = non_max_suppression(prediction, options);
    auto expected = f["expected_" + name];
    for (int64_t img = 0; img < prediction.size(0); ++img) {
      auto want = expected.index({expected.select(1, 0) == img}).narrow(1, 1, 6);
      REQUIRE(out[img].sizes() == want.sizes());
      check_close(out[img].narrow(1, 0, 5), want.narrow(1, 0, 5), 1e-4);
      CHECK(torch::equal(out[img].select(1, 5).to(torch::kDouble), want.select(1, 5)));
    }
  }
}
