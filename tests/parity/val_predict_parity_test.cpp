// val and predict modes of the real checkpoint against Ultralytics 8.3.166's figures
// (../shared/reference/val_metrics.json and predictions.json, copied to tests/data/reference/).
#include <algorithm>
#include <array>
#include <fstream>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "catch.h"
#include "yolo/model.h"

namespace fs = std::filesystem;

namespace {

double iou(const std::array<double, 4>& a, const std::array<double, 4>& b) {
  const double w = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const double h = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const double inter = w * h;
  const auto area = [](const std::array<double, 4>& r) { return (r[2] - r[0]) * (r[3] - r[1]); };
  return inter / (area(a) + area(b) - inter);
}

/// Standalone val of `checkpoint_file` on the fixture's val split with the settings of
/// `reference_json`, checked against Ultralytics' figures in it.
void check_val_parity(const std::string& checkpoint_file, const std::string& reference_json) {
  // JSON is YAML: yaml-cpp reads the reference without another dependency.
  const auto reference = YAML::LoadFile(yolo::test::data_path(reference_json));
  yolo::Model model(yolo::test::data_path(checkpoint_file));
  const auto metrics = model.val(yolo::ValArgs()
                                     .data(yolo::test::data_path("fdet/data.yaml"))
                                     .imgsz(reference["imgsz"].as<int>())
                                     .batch(reference["batch"].as<double>())
                                     .conf(reference["conf"].as<double>())
                                     .iou(reference["iou"].as<double>())
                                     .workers(2)
                                     .plots(false));
  INFO("mAP50-95 " << metrics.map50_95 << ", mAP50 " << metrics.map50);
  CHECK(metrics.images == 16);
  CHECK(metrics.map50_95 == Approx(reference["mAP50-95"].as<double>()).margin(0.005));
  CHECK(metrics.map50 == Approx(reference["mAP50"].as<double>()).margin(0.005));
  CHECK(metrics.precision == Approx(reference["precision"].as<double>()).margin(0.005));
  CHECK(metrics.recall == Approx(reference["recall"].as<double>()).margin(0.005));
  const auto per_class = reference["per_class_mAP50-95"];
  REQUIRE(metrics.per_class.size() == per_class.size());
  for (const auto& row : metrics.per_class) {
    INFO("class " << row.name);
    CHECK(row.map50_95 == Approx(per_class[row.name].as<double>()).margin(0.005));
  }
}

}  // namespace

TEST_CASE("val mode reproduces Ultralytics' val_metrics.json", "[parity][val]") {
  check_val_parity("yolov8n_fdet.pt", "reference/val_metrics.json");
}

TEST_CASE("val of yolo11n_fdet.pt reproduces Ultralytics' yolo11n_val_metrics.json", "[parity][val][yolo11]") {
  check_val_parity("yolo11n_fdet.pt", "reference/yolo11n_val_metrics.json");
}

TEST_CASE("predict mode reproduces Ultralytics' predictions.json", "[parity][predict]") {
  const auto reference = YAML::LoadFile(yolo::test::data_path("reference/predictions.json"));
  yolo::Model model(yolo::test::data_path("yolov8n_fdet.pt"));
  const auto predictions = model.predict(yolo::test::data_path("fdet/images/val"),
                                         yolo::Model::predict_defaults()
                                             .imgsz(reference["imgsz"].as<int>())
                                             .conf(reference["conf"].as<double>())
                                             .iou(reference["iou"].as<double>()));
  const auto expected_all = reference["predictions"];
  REQUIRE(predictions.size() == expected_all.size());
  size_t boxes_checked = 0;
  for (const auto& prediction : predictions) {
    const std::string key = "images/val/" + fs::path(prediction.path).filename().string();
    INFO(key);
    CHECK(prediction.error.empty());
    const auto expected = expected_all[key];
    REQUIRE(expected);
    REQUIRE(prediction.boxes.size() == expected.size());
    // Match one-to-one: each predicted box takes the unmatched reference box of its class with the
    // highest IoU.
    std::vector<bool> used(expected.size(), false);
    for (const auto& box : prediction.boxes) {
      const std::array<double, 4> ours{box.x1, box.y1, box.x2, box.y2};
      int best = -1;
      double best_iou = -1;
      for (size_t j = 0; j < expected.size(); ++j) {
        if (used[j] || expected[j][5].as<int>() != box.cls) continue;
        const std::array<double, 4> theirs{expected[j][0].as<double>(), expected[j][1].as<double>(),
                                           expected[j][2].as<double>(), expected[j][3].as<double>()};
        if (const double o = iou(ours, theirs); o > best_iou) best_iou = o, best = static_cast<int>(j);
      }
      REQUIRE(best >= 0);
      CHECK(best_iou >= 0.99);
      CHECK(box.conf == Approx(expected[best][4].as<double>()).margin(1e-3));
      used[best] = true;
      ++boxes_checked;
    }
  }
  CHECK(boxes_checked > 50);
}

TEST_CASE("predict reports an unreadable image and still runs the rest", "[predict]") {
  const auto dir = fs::temp_directory_path() / "yolo_predict_bad_source";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(yolo::test::data_path("fdet/images/val/000000.jpg"), dir / "a.jpg");
  {
    std::ofstream bad(dir / "b.jpg", std::ios::binary);
    bad << "not a jpeg at all";
  }
  yolo::Model model(yolo::test::data_path("yolov8n_fdet.pt"));
  const auto predictions = model.predict(dir.string(), yolo::Model::predict_defaults().imgsz(320));
  REQUIRE(predictions.size() == 2);
  CHECK(predictions[0].error.empty());
  CHECK(!predictions[0].boxes.empty());
  CHECK_THAT(predictions[1].error, Catch::Matchers::ContainsSubstring("b.jpg"));
  CHECK(predictions[1].boxes.empty());
  CHECK_THROWS_WITH(model.predict((dir / "missing.jpg").string()),
                    Catch::Matchers::ContainsSubstring("missing.jpg"));
  fs::remove_all(dir);
}
