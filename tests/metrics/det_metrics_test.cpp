#include "metrics/det_metrics.h"

#include <torch/torch.h>

#include "catch.h"
#include "metrics/confusion_matrix.h"

using namespace yolo::metrics;

namespace {

torch::Tensor ten_thresholds(const std::vector<bool>& per_prediction) {
  auto t = torch::zeros({static_cast<int64_t>(per_prediction.size()), 10}, torch::kBool);
  for (size_t i = 0; i < per_prediction.size(); ++i) t[static_cast<int64_t>(i)].fill_(per_prediction[i]);
  return t;
}

}  // namespace

TEST_CASE("compute_ap: 101-point interpolation with Ultralytics' sentinels", "[metrics]") {
  // Reference figures from ultralytics.utils.metrics.compute_ap.
  CHECK(compute_ap({1.0}, {1.0}) == Approx(0.995).margin(1e-12));  // a perfect detector
  CHECK(compute_ap({0.5}, {1.0}) == Approx(0.75).margin(1e-12));
  CHECK(compute_ap({0.5, 0.5, 1.0}, {1.0, 0.5, 2.0 / 3.0}) == Approx(0.8283333333333331).margin(1e-12));
}

TEST_CASE("ap_per_class: one perfect prediction", "[metrics]") {
  auto r = ap_per_class(torch::ones({1, 10}, torch::kBool), torch::tensor({0.9f}), torch::tensor({0.0f}),
                        torch::tensor({0.0f}));
  REQUIRE(r.ap.sizes() == torch::IntArrayRef({1, 10}));
  CHECK(r.ap.min().item<double>() == Approx(0.995).margin(1e-12));
  CHECK(r.precision[0].item<double>() == Approx(1.0));
  CHECK(r.recall[0].item<double>() == Approx(1.0));
}

TEST_CASE("ap_per_class: two classes with known TP/FP sequences", "[metrics]") {
  // class 0: TP 0.9, FP 0.8, TP 0.7 with 2 labels; class 1: FP 0.6, TP 0.5 with 2 labels.
  auto tp = ten_thresholds({true, false, true, false, true});
  auto conf = torch::tensor({0.9f, 0.8f, 0.7f, 0.6f, 0.5f});
  auto r = ap_per_class(tp, conf, torch::tensor({0.f, 0.f, 0.f, 1.f, 1.f}), torch::tensor({0.f, 0.f, 1.f, 1.f}));
  // Hand computation: class 0 recall (.5, .5, 1), precision (1, .5, 2/3) -> 0.82833; class 1 reaches recall
  // .5 at precision .5 -> 0.375. Ultralytics gives the same, and P/R/TP/FP at the max-F1 confidence below.
  CHECK(r.ap[0][0].item<double>() == Approx(0.8283333333333331).margin(1e-12));
  CHECK(r.ap[1][9].item<double>() == Approx(0.375).margin(1e-12));
  CHECK(r.precision[0].item<double>() == Approx(2.0 / 3.0).margin(1e-6));
  CHECK(r.precision[1].item<double>() == Approx(0.5).margin(1e-6));
  CHECK(r.recall[0].item<double>() == Approx(1.0).margin(1e-6));
  CHECK(r.recall[1].item<double>() == Approx(0.5).margin(1e-6));
  CHECK(r.tp[0].item<double>() == 2.0);
  CHECK(r.fp[1].item<double>() == 1.0);
}

TEST_CASE("match_predictions: greedy per-prediction best label, lowest index wins a label", "[metrics]") {
  // labels x predictions. Prediction 3 has the wrong class. Checked against Ultralytics' match_predictions.
  auto iou = torch::tensor({{0.93f, 0.0f, 0.0f, 0.99f}, {0.0f, 0.57f, 0.82f, 0.0f}});
  auto correct =
      match_predictions(torch::tensor({0.f, 0.f, 0.f, 1.f}), torch::tensor({0.f, 0.f}), iou, coco_iou_thresholds());
  auto expected = torch::tensor({{1, 1, 1, 1, 1, 1, 1, 1, 1, 0},
                                 {1, 1, 0, 0, 0, 0, 0, 0, 0, 0},
                                 {0, 0, 1, 1, 1, 1, 1, 0, 0, 0},
                                 {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}})
                      .to(torch::kBool);
  CHECK(torch::equal(correct, expected));
  CHECK(
      match_predictions(torch::zeros({0}), torch::tensor({0.f}), torch::zeros({1, 0}), coco_iou_thresholds()).sizes() ==
      torch::IntArrayRef({0, 10}));
}

TEST_CASE("DetectionStats: merged halves equal the whole, through tensors too", "[metrics]") {
  torch::manual_seed(5);
  DetectionStats whole(3), first(3), second(3);
  for (int img = 0; img < 8; ++img) {
    auto xy = torch::rand({4, 2}) * 300;
    auto labels = torch::cat({torch::randint(0, 3, {4, 1}).to(torch::kFloat32), xy, xy + 50}, 1);
    auto jitter = labels.narrow(1, 1, 4) + torch::randn({4, 4}) * 6;
    auto preds = torch::cat({jitter, torch::rand({4, 1}), labels.narrow(1, 0, 1)}, 1);
    whole.add_image(preds, labels);
    (img < 4 ? first : second).add_image(preds, labels);
  }
  auto expected = whole.compute();
  DetectionStats merged = first;
  merged.merge(second);
  auto got = merged.compute();
  CHECK(got.map50_95 == expected.map50_95);
  CHECK(got.precision == expected.precision);
  CHECK(got.images == 8);
  CHECK(got.instances == 32);

  auto a = first.to_tensors(), b = second.to_tensors();
  std::vector<torch::Tensor> gathered;
  for (size_t i = 0; i < a.size(); ++i) gathered.push_back(torch::cat({a[i], b[i]}));
  auto from = DetectionStats::from_tensors(3, gathered).compute();
  CHECK(from.map50 == expected.map50);
  CHECK(from.images == 8);
  REQUIRE(from.per_class.size() == expected.per_class.size());
  for (size_t i = 0; i < from.per_class.size(); ++i) CHECK(from.per_class[i].images == expected.per_class[i].images);
}

TEST_CASE("DetectionStats: no labels and no predictions give zeros, not NaN", "[metrics]") {
  DetectionStats stats(2);
  stats.add_image(torch::zeros({0, 6}), torch::zeros({0, 5}));
  auto m = stats.compute();
  CHECK(m.map50_95 == 0.0);
  CHECK(m.fitness == 0.0);
  CHECK(m.per_class.empty());
  CHECK(m.results_dict().size() == 5);
  CHECK(m.results_dict()[3].first == "metrics/mAP50-95(B)");
}

TEST_CASE("ConfusionMatrix: counts of a tiny case", "[metrics]") {
  // Figures from Ultralytics' ConfusionMatrix.process_batch on the same boxes.
  ConfusionMatrix cm(2);
  auto preds = torch::tensor({{0.f, 0.f, 10.f, 10.f, 0.9f, 0.f},    // matches label 0 (class 0)
                              {20.f, 20.f, 30.f, 30.f, 0.8f, 1.f},  // matches label 1 with the wrong class
                              {50.f, 50.f, 60.f, 60.f, 0.7f, 1.f},  // background
                              {0.f, 0.f, 10.f, 10.f, 0.1f, 0.f}});  // below conf 0.25
  auto labels =
      torch::tensor({{0.f, 0.f, 0.f, 10.f, 10.f}, {0.f, 20.f, 20.f, 30.f, 31.f}, {1.f, 80.f, 80.f, 90.f, 90.f}});
  cm.process_batch(preds, labels);
  auto expected = torch::tensor({{1, 0, 0}, {1, 0, 1}, {0, 1, 0}}, torch::kLong);
  CHECK(torch::equal(cm.matrix(), expected));
  CHECK(torch::equal(cm.true_positives(), torch::tensor({1, 0}, torch::kLong)));
  CHECK(torch::equal(cm.false_positives(), torch::tensor({0, 2}, torch::kLong)));

  ConfusionMatrix empty(2);
  empty.process_batch(torch::zeros({0, 6}), labels);  // every label missed
  empty.process_batch(preds, torch::zeros({0, 5}));   // every confident prediction is background
  CHECK(torch::equal(empty.matrix(), torch::tensor({{0, 0, 1}, {0, 0, 2}, {2, 1, 0}}, torch::kLong)));
}

TEST_CASE("format_metrics_table: Ultralytics' header and rows", "[metrics]") {
  DetectionMetrics m;
  m.precision = 0.5, m.recall = 0.25, m.map50 = 0.995, m.map50_95 = 0.123456;
  m.per_class.push_back({0, 3, 7, 1.0, 0.0, 0.00012345, 0.6666666});
  const auto table = format_metrics_table(m, {"person"}, 12, 345, true);
  // Lines printed by Python with Ultralytics' formats.
  CHECK(table ==
        "                 Class     Images  Instances      Box(P          R      mAP50  mAP50-95)\n"
        "                   all         12        345        0.5       0.25      0.995      0.123\n"
        "                person          3          7          1          0   0.000123      0.667\n");
  CHECK(format_metrics_table(m, {"person"}, 12, 345, false).find("person") == std::string::npos);
}
