// Every plot drawn from realistic inputs (Ultralytics' results.csv of a 30-epoch yolo11n run, the ap_per_class
// reference fixture, a confusion matrix filled by metrics::ConfusionMatrix, the fdet labels and images) and read
// back: each file decodes at its expected size. Set YOLO_KEEP_PLOTS=DIR to keep the pictures for a look.
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <unistd.h>

#include "catch.h"
#include "metrics/ap.h"
#include "metrics/confusion_matrix.h"
#include "metrics/fixture.h"
#include "plots/chart.h"
#include "plots/from_metrics.h"
#include "plots/mosaic.h"
#include "plots/plots.h"
#include "plots/val_state.h"

namespace fs = std::filesystem;
using namespace yolo::plots;

namespace {

const std::vector<std::string> kNames{"tshirt", "trouser", "pullover", "dress", "coat",
                                      "sandal", "shirt",   "sneaker",  "bag",   "boot"};

/// Output folder: YOLO_KEEP_PLOTS when set (kept), else a temporary one removed by the test.
struct PlotDir {
  fs::path path;
  bool keep = false;
  explicit PlotDir(const std::string& name) {
    if (const char* keep_dir = std::getenv("YOLO_KEEP_PLOTS")) {
      path = fs::path(keep_dir) / name, keep = true;
    } else {
      path = fs::temp_directory_path() / ("yolo_plots_" + name + "_" + std::to_string(::getpid()));
      fs::remove_all(path);
    }
    fs::create_directories(path);
  }
  ~PlotDir() {
    if (!keep) fs::remove_all(path);
  }
  std::string operator/(const std::string& file) const { return (path / file).string(); }
};

/// The picture at `path`, which must decode at `width` x `height` and not be blank.
cv::Mat check_image(const std::string& path, int width, int height) {
  const cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  REQUIRE_FALSE(image.empty());
  CHECK(image.cols == width);
  CHECK(image.rows == height);
  cv::Mat grey;
  cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  double lo = 0, hi = 0;
  cv::minMaxLoc(grey, &lo, &hi);
  CHECK(hi - lo > 100);  // something is drawn on the white page
  return image;
}

/// Pixels close to `colour` (BGR) inside `area`.
int count_colour(const cv::Mat& image, const cv::Scalar& colour, cv::Rect area = {}) {
  if (area.area() == 0) area = cv::Rect(0, 0, image.cols, image.rows);
  cv::Mat mask;
  cv::inRange(image(area), colour - cv::Scalar(40, 40, 40), colour + cv::Scalar(40, 40, 40), mask);
  return cv::countNonZero(mask);
}

Curves reference_curves() {
  auto f = yolo::test::read_fixture("ap_per_class.txt");
  const auto r = yolo::metrics::ap_per_class(f["tp"].to(torch::kBool), f["conf"].to(torch::kFloat32),
                                             f["pred_cls"].to(torch::kFloat32), f["target_cls"].to(torch::kFloat32));
  return curves_from(r, kNames);
}

Confusion filled_confusion() {
  // Ten classes, 40 images: every label found, most with the right class, some missed, some background boxes.
  torch::manual_seed(3);
  yolo::metrics::ConfusionMatrix matrix(10);
  for (int image = 0; image < 40; ++image) {
    const auto n = 1 + image % 5;
    auto xy = torch::rand({n, 2}) * 400, wh = torch::rand({n, 2}) * 100 + 40;
    auto cls = torch::randint(0, 10, {n, 1}).to(torch::kFloat);
    auto labels = torch::cat({cls, xy, xy + wh}, 1);
    auto predicted = torch::where(torch::rand({n, 1}) < 0.8, cls, torch::randint(0, 10, {n, 1}).to(torch::kFloat));
    auto preds = torch::cat({xy + 3, xy + wh - 3, torch::rand({n, 1}) * 0.7 + 0.3, predicted}, 1);
    preds = preds.index({torch::rand({n}) < 0.9});   // some labels missed
    if (image % 4 == 0) preds = torch::cat({preds, torch::tensor({{500.f, 500.f, 600.f, 600.f, 0.9f, 2.f}})});
    matrix.process_batch(preds, labels);
  }
  return confusion_from(matrix, kNames);
}

std::vector<std::vector<std::array<float, 5>>> read_labels(const std::string& split, int count) {
  std::vector<std::vector<std::array<float, 5>>> all;
  for (int i = 0; i < count; ++i) {
    std::ifstream in(yolo::test::data_path(fmt::format("fdet/labels/{}/{:06d}.txt", split, i)));
    std::vector<std::array<float, 5>> rows;
    for (std::array<float, 5> r; in >> r[0] >> r[1] >> r[2] >> r[3] >> r[4];) rows.push_back(r);
    all.push_back(rows);
  }
  return all;
}

}  // namespace

TEST_CASE("nice_ticks and tick_labels pick round values", "[plots]") {
  const auto ticks = nice_ticks(0, 1, 6);
  REQUIRE(ticks.size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(ticks[i] == Approx(0.2 * i));
  CHECK(tick_labels(nice_ticks(0, 1, 6)) == std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
  CHECK(tick_labels(nice_ticks(-0.1, 1.05, 5)) == std::vector<std::string>{"0.00", "0.25", "0.50", "0.75", "1.00"});
  CHECK(tick_labels(nice_ticks(0.5, 31.5, 6)) == std::vector<std::string>{"5", "10", "15", "20", "25", "30"});
  CHECK(tick_labels(nice_ticks(1.2, 5.3, 5)) == std::vector<std::string>{"2", "3", "4", "5"});
  // Learning rates and tiny losses: short scientific labels, not 0.000012-style strings.
  CHECK(tick_labels(nice_ticks(0.00012, 0.00018, 4)) ==
        std::vector<std::string>{"1.2e-04", "1.4e-04", "1.6e-04", "1.8e-04"});
  CHECK(tick_labels(nice_ticks(0, 0.00004, 5)) == std::vector<std::string>{"0", "1e-05", "2e-05", "3e-05", "4e-05"});
}

TEST_CASE("gaussian_smooth matches scipy.ndimage.gaussian_filter1d", "[plots]") {
  // scipy.ndimage.gaussian_filter1d([0, 1, 4, 9, 16, 25, 36, 49], sigma=3)
  const auto y = gaussian_smooth({0, 1, 4, 9, 16, 25, 36, 49}, 3);
  const std::vector<double> expected{6.81085897, 8.28484031, 11.09559081, 14.94172105,
                                     19.33193181, 23.60347546, 27.016014, 28.91556758};
  REQUIRE(y.size() == expected.size());
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(expected[i]).epsilon(1e-4));
}

TEST_CASE("results.png: detection grid from Ultralytics' results.csv, classification grid", "[plots]") {
  PlotDir dir("results");
  plot_results(yolo::loggers::read_results_csv(yolo::test::data_path("plots/results.csv")), dir / "results.png");
  const auto detect = check_image(dir / "results.png", 2400, 1200);
  CHECK(count_colour(detect, cycle_colour(0)) > 2000);  // raw lines (blue)
  CHECK(count_colour(detect, cycle_colour(1)) > 2000);  // smoothed lines (orange)

  std::vector<yolo::loggers::EpochRecord> cls;
  for (int e = 1; e <= 12; ++e)
    cls.push_back({e, {{"time", 5.6 * e}, {"train/loss", 2.3 / (1 + 0.3 * e)}, {"metrics/accuracy_top1", 0.3 + 0.04 * e},
                       {"metrics/accuracy_top5", 0.8 + 0.015 * e}, {"val/loss", 2.2 / (1 + 0.25 * e)}, {"lr/pg0", 0.001}}});
  plot_results(cls, dir / "results_classify.png");
  check_image(dir / "results_classify.png", 1200, 1200);
  CHECK_THAT(yolo::test::error_of([&] { plot_results({}, dir / "empty.png"); }),
             Catch::Matchers::ContainsSubstring("no epochs"));
}

TEST_CASE("PR, F1, P and R curves from the reference ap_per_class", "[plots]") {
  PlotDir dir("curves");
  const auto curves = reference_curves();
  REQUIRE(curves.names.size() == 5);  // classes 0..4 have labels
  CHECK(curves.names[0] == "tshirt");
  plot_pr_curve(curves, dir / "BoxPR_curve.png");
  const auto pr = check_image(dir / "BoxPR_curve.png", 2250, 1500);
  CHECK(count_colour(pr, cv::Scalar(255, 0, 0)) > 3000);  // the bold mean curve
  plot_metric_curve(curves, CurveMetric::F1, dir / "BoxF1_curve.png");
  plot_metric_curve(curves, CurveMetric::Precision, dir / "BoxP_curve.png");
  plot_metric_curve(curves, CurveMetric::Recall, dir / "BoxR_curve.png");
  for (const char* f : {"BoxF1_curve.png", "BoxP_curve.png", "BoxR_curve.png"}) check_image(dir / f, 2250, 1500);

  Curves broken = curves;
  broken.pr.pop_back();
  CHECK_THAT(yolo::test::error_of([&] { plot_pr_curve(broken, dir / "x.png"); }),
             Catch::Matchers::ContainsSubstring("4 curves for 5 classes"));
}

TEST_CASE("Confusion matrices with class names and background", "[plots]") {
  PlotDir dir("confusion");
  const auto confusion = filled_confusion();
  REQUIRE(confusion.matrix.size() == 11);
  plot_confusion_matrix(confusion, false, dir / "confusion_matrix.png");
  plot_confusion_matrix(confusion, true, dir / "confusion_matrix_normalized.png");
  check_image(dir / "confusion_matrix.png", 3000, 2250);
  const auto normalized = check_image(dir / "confusion_matrix_normalized.png", 3000, 2250);
  CHECK(count_colour(normalized, cv::Scalar(107, 48, 8)) > 1000);  // the darkest blue on the diagonal

  Confusion classify{{"cat", "dog", "bird"}, {{8, 1, 0}, {2, 9, 1}, {0, 0, 9}}, false};
  plot_confusion_matrix(classify, true, dir / "confusion_matrix_classify.png");
  check_image(dir / "confusion_matrix_classify.png", 3000, 2250);
  classify.background = true;
  CHECK_THAT(yolo::test::error_of([&] { plot_confusion_matrix(classify, true, dir / "x.png"); }),
             Catch::Matchers::ContainsSubstring("3 rows for 3 classes and background"));
}

TEST_CASE("labels.jpg from the fdet training labels", "[plots]") {
  PlotDir dir("labels");
  std::vector<LabelBox> boxes;
  for (const auto& image : read_labels("train", 16))
    for (const auto& r : image) boxes.push_back({static_cast<int>(r[0]), r[1], r[2], r[3], r[4]});
  REQUIRE(boxes.size() > 30);
  plot_labels(boxes, kNames, dir / "labels.jpg");
  check_image(dir / "labels.jpg", 1600, 1600);
}

TEST_CASE("Batch mosaics: detection labels and predictions, classification", "[plots]") {
  PlotDir dir("mosaic");
  const auto labels = read_labels("val", 16);
  std::vector<MosaicTile> truth, predicted, crops, top;
  for (int i = 0; i < 16; ++i) {
    const auto path = yolo::test::data_path(fmt::format("fdet/images/val/{:06d}.jpg", i));
    cv::Mat image = cv::imread(path);
    REQUIRE_FALSE(image.empty());
    MosaicTile t{image, fs::path(path).filename().string(), {}, {}}, p = t;
    for (size_t k = 0; k < labels[i].size(); ++k) {
      const auto& r = labels[i][k];
      const float x1 = (r[1] - r[3] / 2) * image.cols, y1 = (r[2] - r[4] / 2) * image.rows;
      const float x2 = (r[1] + r[3] / 2) * image.cols, y2 = (r[2] + r[4] / 2) * image.rows;
      t.boxes.push_back({x1, y1, x2, y2, static_cast<int>(r[0])});
      p.boxes.push_back({x1 + 4, y1 - 3, x2 + 2, y2 + 5, static_cast<int>(r[0]), 0.95f - 0.1f * (k % 8)});
      if (crops.size() < 16) {  // classification: the item cut out at 32x32, as in the fcls dataset
        cv::Mat crop;
        cv::resize(image(cv::Rect(cv::Point(x1, y1), cv::Point(x2, y2)) & cv::Rect(0, 0, image.cols, image.rows)), crop,
                   {32, 32});
        const int cls = static_cast<int>(r[0]);
        crops.push_back({crop, "", {}, {{cls, -1.f}}});
        top.push_back({crop, "", {}, {{cls, 0.91f}, {(cls + 3) % 10, 0.06f}}});
      }
    }
    truth.push_back(t), predicted.push_back(p);
  }
  save_mosaic(truth, kNames, dir / "val_batch0_labels.jpg");
  save_mosaic(predicted, kNames, dir / "val_batch0_pred.jpg");
  check_image(dir / "val_batch0_labels.jpg", 1920, 1920);  // 4x4 tiles of 640 scaled to fit 1920
  const auto pred = check_image(dir / "val_batch0_pred.jpg", 1920, 1920);
  save_mosaic(crops, kNames, dir / "val_batch0_labels_classify.jpg");
  save_mosaic(top, kNames, dir / "val_batch0_pred_classify.jpg");
  check_image(dir / "val_batch0_labels_classify.jpg", 640, 640);  // 32x32 tiles scaled up to 160
  check_image(dir / "val_batch0_pred_classify.jpg", 640, 640);
  // Fewer than 16 images: a smaller grid.
  const auto three = draw_mosaic({truth[0], truth[1], truth[2]}, kNames);
  CHECK(three.cols == 1280);
  CHECK(three.rows == 1280);
  CHECK_THAT(yolo::test::error_of([&] { save_mosaic(truth, kNames, (dir.path / "missing" / "x.jpg").string()); }),
             Catch::Matchers::ContainsSubstring("could not write"));
}

TEST_CASE("Validation state round trip and `yolo plot` redraws a run folder", "[plots]") {
  PlotDir dir("run");
  ValidationState state;
  state.curves = reference_curves();
  state.confusion = filled_confusion();
  save_validation_state(dir / "val_state.json", state);
  const auto back = load_validation_state(dir / "val_state.json");
  CHECK(back.task == "detect");
  CHECK(back.curves.names == state.curves.names);
  CHECK(back.confusion.names == kNames);
  CHECK(back.confusion.matrix == state.confusion.matrix);
  REQUIRE(back.curves.pr.size() == state.curves.pr.size());
  REQUIRE(back.curves.x.size() == 1000);
  for (size_t k = 0; k < back.curves.pr.size(); ++k)
    for (size_t i = 0; i < back.curves.x.size(); i += 37) {
      CHECK(back.curves.pr[k][i] == Approx(state.curves.pr[k][i]).margin(1e-5));
      CHECK(back.curves.f1[k][i] == Approx(state.curves.f1[k][i]).margin(1e-5));
    }
  CHECK(back.curves.ap50 == state.curves.ap50);  // written in full

  fs::copy_file(yolo::test::data_path("plots/results.csv"), dir.path / "results.csv",
                fs::copy_options::overwrite_existing);
#ifdef YOLO_CLI_PATH
  const auto command = fmt::format("\"{}\" plot \"{}\" > \"{}\" 2>&1", YOLO_CLI_PATH, dir.path.string(), dir / "out.txt");
  REQUIRE(std::system(command.c_str()) == 0);
  for (const auto& [file, w, h] : std::vector<std::tuple<std::string, int, int>>{
           {"results.png", 2400, 1200}, {"confusion_matrix.png", 3000, 2250},
           {"confusion_matrix_normalized.png", 3000, 2250}, {"BoxPR_curve.png", 2250, 1500},
           {"BoxF1_curve.png", 2250, 1500}, {"BoxP_curve.png", 2250, 1500}, {"BoxR_curve.png", 2250, 1500}})
    check_image(dir / file, w, h);
  const auto missing = fmt::format("\"{}\" plot \"{}\" > \"{}\" 2>&1", YOLO_CLI_PATH, (dir.path / "nope").string(),
                                   dir / "err.txt");
  CHECK(std::system(missing.c_str()) != 0);
  std::ifstream err(dir / "err.txt");
  const std::string message((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK_THAT(message, Catch::Matchers::ContainsSubstring("is not a folder"));
#else
  const auto written = redraw_run_plots(dir.path.string());
  CHECK(written.size() == 7);
#endif

  std::ofstream(dir / "bad_state.json") << R"({"task": "detect", "names": ["a"]})";
  CHECK_THAT(yolo::test::error_of([&] { load_validation_state(dir / "bad_state.json"); }),
             Catch::Matchers::ContainsSubstring("the key \"background\" is missing"));
}
