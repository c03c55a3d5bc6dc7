// What a training run leaves to look at, written by the loggers on the callback seam: results.csv and
// metrics.jsonl, TensorBoard events (read back with the independent decoder of tests/loggers), the plots and
// batch pictures at Ultralytics' sizes; plots=False writes none; every event fires, in order, with the lr.
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "catch.h"
#include "loggers/proto_reader.h"
#include "loggers/records.h"
#include "yolo/model.h"

namespace fs = std::filesystem;
using yolo::test::decode_message;
using yolo::test::fields_of;

namespace {

fs::path fresh_dir(const std::string& name) { return yolo::test::fresh_dir("run_loggers_" + name); }

std::string first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

/// The picture at `path` decodes and has this size (width x height); 0 leaves a side unchecked.
void check_picture(const fs::path& path, int width, int height) {
  INFO(path.string());
  REQUIRE(fs::exists(path));
  const cv::Mat image = cv::imread(path.string(), cv::IMREAD_COLOR);
  REQUIRE_FALSE(image.empty());
  if (width) CHECK(image.cols == width);
  if (height) CHECK(image.rows == height);
}

/// Every picture and TensorBoard file in a run folder.
std::set<std::string> pictures_in(const fs::path& run) {
  std::set<std::string> found;
  for (const auto& entry : fs::directory_iterator(run)) {
    const auto name = entry.path().filename().string(), ext = entry.path().extension().string();
    if (ext == ".png" || ext == ".jpg" || name.rfind("events.out.tfevents.", 0) == 0 || name == "val_state.json")
      found.insert(name);
  }
  return found;
}

/// What a TensorBoard event file holds: scalar tags with their steps, image tags, whether a graph is there.
struct EventFile {
  std::map<std::string, std::vector<int64_t>> scalars;
  std::map<std::string, cv::Size> images;
  bool graph = false;
};

EventFile read_events(const fs::path& run) {
  fs::path path;
  for (const auto& entry : fs::directory_iterator(run))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) path = entry.path();
  REQUIRE(!path.empty());
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EventFile file;
  for (const auto& record : yolo::test::read_tfrecords(bytes.str())) {
    const auto event = decode_message(record);
    if (!fields_of(event, 4).empty()) file.graph = true;
    const auto summary = fields_of(event, 5);
    if (summary.empty()) continue;
    const auto steps = fields_of(event, 2);  // protobuf leaves out a zero
    const auto step = steps.empty() ? 0 : static_cast<int64_t>(steps[0].varint);
    for (const auto& value : fields_of(decode_message(summary[0].bytes), 1)) {
      const auto fields = decode_message(value.bytes);
      const auto tag = fields_of(fields, 1).at(0).bytes;
      if (!fields_of(fields, 2).empty()) file.scalars[tag].push_back(step);
      if (const auto image = fields_of(fields, 4); !image.empty()) {
        const auto picture = decode_message(image[0].bytes);
        const std::string png = fields_of(picture, 4).at(0).bytes;
        const cv::Mat decoded = cv::imdecode(std::vector<uchar>(png.begin(), png.end()), cv::IMREAD_COLOR);
        REQUIRE_FALSE(decoded.empty());
        file.images[tag] = decoded.size();
      }
    }
  }
  return file;
}

std::vector<std::string> csv_header(const fs::path& csv) {
  std::vector<std::string> names;
  std::stringstream line(first_line(csv));
  for (std::string cell; std::getline(line, cell, ',');) names.push_back(cell);
  return names;
}

/// Every column but `epoch` is a TensorBoard scalar with one point per epoch, at steps 1..epochs.
void check_scalars_match_csv(const EventFile& events, const fs::path& csv, int64_t epochs) {
  std::vector<int64_t> steps;
  for (int64_t e = 1; e <= epochs; ++e) steps.push_back(e);
  for (const auto& column : csv_header(csv)) {
    if (column == "epoch") continue;
    INFO(column);
    REQUIRE(events.scalars.count(column) == 1);
    CHECK(events.scalars.at(column) == steps);
  }
}

/// Records the events in the order they fire, with the lr of batch events.
struct EventLog {
  std::vector<std::string> names;
  std::vector<std::array<double, 3>> batch_lr;
  long batches = 0;
  void attach(yolo::Model& model) {
    for (const auto& event : yolo::callback_events())
      model.add_callback(event, [this](yolo::TrainEvent& e) {
        names.push_back(e.name);
        if (e.name == "on_train_batch_end") batch_lr.push_back(e.lr), batches = e.batches;
      });
  }
  size_t count(const std::string& name) const { return std::count(names.begin(), names.end(), name); }
};

}  // namespace

TEST_CASE("a detection run writes every log, plot and TensorBoard event, callbacks fire in order with the lr",
          "[engine][train][loggers]") {
  const auto project = fresh_dir("detect");
  yolo::Model model("yolov8n.yaml");
  EventLog log;
  log.attach(model);
  // 16 train and 16 val images, batch 2: 8 iterations an epoch, validation batches of 4 (three are drawn).
  const auto results = model.train(yolo::TrainArgs()
                                       .data(yolo::test::data_path("fdet/data.yaml"))
                                       .epochs(2)
                                       .imgsz(64)
                                       .batch(2)
                                       .workers(1)
                                       .project(project.string())
                                       .name("run")
                                       .plots(true)
                                       .tensorboard(true));
  const fs::path run = results.save_dir;

  CHECK(first_line(run / "results.csv") ==
        "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
        "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2");
  const auto rows = yolo::loggers::read_results_csv((run / "results.csv").string());
  const auto records = yolo::loggers::read_metrics_jsonl((run / "metrics.jsonl").string());
  REQUIRE(rows.size() == 2);
  REQUIRE(records.size() == 2);
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(records[i].epoch == rows[i].epoch);
    REQUIRE(records[i].values.size() == rows[i].values.size());
    for (size_t k = 0; k < rows[i].values.size(); ++k) {
      CHECK(records[i].values[k].first == rows[i].values[k].first);
      CHECK(records[i].values[k].second == Approx(rows[i].values[k].second).epsilon(1e-5));
    }
  }

  check_picture(run / "results.png", 2400, 1200);
  check_picture(run / "confusion_matrix.png", 3000, 2250);
  check_picture(run / "confusion_matrix_normalized.png", 3000, 2250);
  for (const auto* curve : {"BoxPR_curve.png", "BoxF1_curve.png", "BoxP_curve.png", "BoxR_curve.png"})
    check_picture(run / curve, 2250, 1500);
  check_picture(run / "labels.jpg", 1600, 1600);
  for (int i = 0; i < 3; ++i) {
    check_picture(run / fmt::format("train_batch{}.jpg", i), 0, 0);
    check_picture(run / fmt::format("val_batch{}_labels.jpg", i), 0, 0);
    check_picture(run / fmt::format("val_batch{}_pred.jpg", i), 0, 0);
  }
  CHECK_FALSE(fs::exists(run / "train_batch3.jpg"));
  CHECK_FALSE(fs::exists(run / "val_batch3_pred.jpg"));
  CHECK(fs::exists(run / "val_state.json"));

  const auto events = read_events(run);
  check_scalars_match_csv(events, run / "results.csv", 2);
  for (const auto* loss : {"batch/box_loss", "batch/cls_loss", "batch/dfl_loss"}) {
    INFO(loss);
    CHECK(events.scalars.count(loss) == 1);  // per iteration, at least after each epoch's last batch
    if (events.scalars.count(loss)) CHECK(events.scalars.at(loss).back() == 15);
  }
  for (const auto* image : {"train_batch0", "train_batch2", "val_batch0_labels", "val_batch2_pred"}) {
    INFO(image);
    CHECK(events.images.count(image) == 1);
  }
  CHECK(events.images.at("val_batch0_pred") == cv::imread((run / "val_batch0_pred.jpg").string()).size());
  CHECK(events.graph);

  // Callbacks: the run's events in Ultralytics' order; batch events carry the warmup's learning rates.
  REQUIRE(log.names.size() > 4);
  CHECK(log.names[0] == "on_pretrain_routine_start");
  CHECK(log.names[1] == "on_pretrain_routine_end");
  CHECK(log.names[2] == "on_train_start");
  CHECK(log.names[3] == "on_train_epoch_start");
  CHECK(log.names[4] == "on_train_batch_start");
  CHECK(log.names[5] == "on_train_batch_end");
  CHECK(log.names.back() == "on_train_end");
  CHECK(log.batches == 8);
  CHECK(log.count("on_train_batch_start") == 16);
  CHECK(log.count("on_train_batch_end") == 16);
  CHECK(log.count("on_val_start") == 3);  // each epoch, then best.pt
  CHECK(log.count("on_val_end") == 3);
  CHECK(log.count("on_fit_epoch_end") == 2);
  std::vector<std::string> epoch_events;
  for (const auto& name : log.names)
    if (name != "on_train_batch_start" && name != "on_train_batch_end") epoch_events.push_back(name);
  const std::vector<std::string> expected{
      "on_pretrain_routine_start", "on_pretrain_routine_end", "on_train_start",
      "on_train_epoch_start", "on_train_epoch_end", "on_val_start", "on_val_end", "on_model_save", "on_fit_epoch_end",
      "on_train_epoch_start", "on_train_epoch_end", "on_val_start", "on_val_end", "on_model_save", "on_fit_epoch_end",
      "on_val_start", "on_val_end", "on_train_end"};
  CHECK(epoch_events == expected);
  // Warmup (optimizer=auto: warmup_bias_lr 0): every group's lr rises from 0 over the 16 iterations.
  REQUIRE(log.batch_lr.size() == 16);
  for (size_t g = 0; g < 3; ++g) {
    CHECK(log.batch_lr.front()[g] < log.batch_lr.back()[g]);
    CHECK(log.batch_lr.back()[g] > 0);
  }
  fs::remove_all(project);
}

TEST_CASE("a classification run writes its logs, plots and TensorBoard events", "[engine][train][loggers][classify]") {
  const auto project = fresh_dir("classify");
  const auto results = yolo::Model("yolov8n-cls.yaml")
                           .train(yolo::TrainArgs()
                                      .data(yolo::test::data_path("fcls"))
                                      .epochs(1)
                                      .imgsz(32)
                                      .batch(32)
                                      .workers(2)
                                      .project(project.string())
                                      .name("run")
                                      .plots(true)
                                      .tensorboard(true));
  const fs::path run = results.save_dir;
  CHECK(first_line(run / "results.csv") ==
        "epoch,time,train/loss,metrics/accuracy_top1,metrics/accuracy_top5,val/loss,lr/pg0,lr/pg1,lr/pg2");
  CHECK(yolo::loggers::read_metrics_jsonl((run / "metrics.jsonl").string()).size() == 1);
  check_picture(run / "results.png", 1200, 1200);
  check_picture(run / "confusion_matrix.png", 3000, 2250);
  check_picture(run / "confusion_matrix_normalized.png", 3000, 2250);
  for (int i = 0; i < 3; ++i) {
    check_picture(run / fmt::format("train_batch{}.jpg", i), 0, 0);
    check_picture(run / fmt::format("val_batch{}_labels.jpg", i), 0, 0);
    check_picture(run / fmt::format("val_batch{}_pred.jpg", i), 0, 0);
  }
  for (const auto* detection_only : {"BoxPR_curve.png", "labels.jpg"}) CHECK_FALSE(fs::exists(run / detection_only));

  const auto events = read_events(run);
  check_scalars_match_csv(events, run / "results.csv", 1);
  CHECK(events.scalars.count("batch/loss") == 1);
  CHECK(events.images.count("val_batch0_pred") == 1);
  CHECK(events.graph);
  fs::remove_all(project);
}

TEST_CASE("plots=False writes no picture, tensorboard=False no event file", "[engine][train][loggers]") {
  const auto project = fresh_dir("noplots");
  const auto results = yolo::Model("yolov8n.yaml")
                           .train(yolo::TrainArgs()
                                      .data(yolo::test::data_path("fdet/data.yaml"))
                                      .epochs(1)
                                      .imgsz(64)
                                      .batch(8)
                                      .workers(1)
                                      .project(project.string())
                                      .name("run")
                                      .plots(false));
  const fs::path run = results.save_dir;
  CHECK(pictures_in(run).empty());
  CHECK(fs::exists(run / "results.csv"));
  CHECK(fs::exists(run / "metrics.jsonl"));
  fs::remove_all(project);
}
