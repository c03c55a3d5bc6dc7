// predict and val from an exported .onnx file: yolo::Model("best.onnx") runs the export through OpenCV's
// DNN module with the task's own pre- and post-processing, and finds what the .pt model finds.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <opencv2/imgcodecs.hpp>

#include "catch.h"
#include "engine/validator.h"
#include "export/export_fixtures.h"
#include "yolo/model.h"
#include "yolo/nn/network.h"
#include "yolo_build_config.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::test::error_of;

namespace {

using TempDir = yolo::test::ExportDir;

/// `model` exported to ONNX as `args` say, next to its weights.
std::string export_onnx(yolo::Model& model, yolo::ExportArgs args) { return model.export_model(args.format("onnx")); }

/// The same boxes: one-to-one in order (both run the same NMS), class equal, corners within `pixels`, conf within 1e-4.
void check_same_boxes(const yolo::Prediction& ours, const yolo::Prediction& theirs, double pixels) {
  INFO(ours.path);
  CHECK(theirs.error.empty());
  REQUIRE(ours.boxes.size() == theirs.boxes.size());
  for (size_t k = 0; k < ours.boxes.size(); ++k) {
    const auto &a = ours.boxes[k], &b = theirs.boxes[k];
    CHECK(a.cls == b.cls);
    CHECK(a.name == b.name);
    CHECK(std::max({std::abs(a.x1 - b.x1), std::abs(a.y1 - b.y1), std::abs(a.x2 - b.x2), std::abs(a.y2 - b.y2)}) <=
          pixels);
    CHECK(a.conf == Approx(b.conf).margin(1e-4));
  }
}

/// A network as a fixed-shape export presents itself to the engine: validation then letterboxes every image to
/// an imgsz square instead of making rect batches (with their half-stride padding: 672x672 for 640x640 images).
class FixedShapeImpl : public yolo::nn::NetworkImpl {
 public:
  FixedShapeImpl(std::shared_ptr<yolo::nn::NetworkImpl> net, int64_t imgsz)
      : net_(register_module("net", std::move(net))), imgsz_(imgsz) {}
  const std::string& task() const override { return net_->task(); }
  int64_t nc() const override { return net_->nc(); }
  std::vector<double> strides() const override { return net_->strides(); }
  std::vector<torch::Tensor> forward_raw(torch::Tensor x) override { return net_->forward_raw(x); }
  torch::Tensor forward(torch::Tensor x) override { return net_->forward(x); }
  torch::Tensor decode(const std::vector<torch::Tensor>& raw) override { return net_->decode(raw); }
  std::string display_name() const override { return net_->display_name(); }
  yolo::nn::Architecture architecture() const override { return net_->architecture(); }
  std::shared_ptr<yolo::nn::NetworkImpl> rebuild(std::optional<int64_t> nc) const override {
    return std::make_shared<FixedShapeImpl>(net_->rebuild(nc), imgsz_);
  }
  void fuse() override { net_->fuse(); }
  bool is_fused() const override { return net_->is_fused(); }
  int64_t fixed_imgsz() const override { return imgsz_; }

 private:
  std::shared_ptr<yolo::nn::NetworkImpl> net_;
  int64_t imgsz_;
};

/// Writes an .onnx file that holds only Ultralytics' metadata_props (protobuf field 14), no graph.
void write_metadata_only_onnx(const fs::path& path) {
  auto varint = [](std::string& out, uint64_t v) {
    for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
    out += static_cast<char>(v);
  };
  auto field = [&](std::string& out, int number, const std::string& payload) {
    varint(out, static_cast<uint64_t>(number) << 3 | 2);
    varint(out, payload.size());
    out += payload;
  };
  std::string model;
  varint(model, 1 << 3);  // ir_version 8
  varint(model, 8);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"task", "detect"}, {"names", "{0: 'a'}"}, {"imgsz", "[64, 64]"}, {"stride", "32"}, {"batch", "1"}}) {
    std::string entry;
    field(entry, 1, key);
    field(entry, 2, value);
    field(model, 14, entry);
  }
  std::ofstream(path, std::ios::binary) << model;
}

}  // namespace

TEST_CASE("val of the exported reference detector through OpenCV DNN gives the .pt model's mAP", "[export][dnn][val]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("run_val");
  yolo::Model pt(dir.copy("yolov8n_fdet.pt", "best.pt"));
  const auto onnx_path = export_onnx(pt, pt.export_defaults());  // batch 1, imgsz 640 (its training imgsz)
  yolo::Model onnx(onnx_path);
  CHECK(onnx.task() == "detect");
  CHECK(onnx.names() == pt.names());
  const auto reference = YAML::LoadFile(yolo::test::data_path("reference/val_metrics.json"));
  const auto args = yolo::ValArgs()
                        .data(yolo::test::data_path("fdet/data.yaml"))
                        .batch(reference["batch"].as<double>())  // 16 images a batch; the export takes them 1 at a time
                        .conf(reference["conf"].as<double>())
                        .iou(reference["iou"].as<double>())
                        .workers(2)
                        .plots(false);
  // As Ultralytics validates a fixed-shape export: every image letterboxed to the export's 640x640 square. The .pt
  // model validates on rect batches, which pad these 640x640 images to 672x672: another input, another mAP. So
  // the .pt model is also validated on 640x640 squares, and its rect figure is Ultralytics' reference.
  const auto theirs = onnx.val(args);  // imgsz 640: the export's, as its default
  const auto ours = yolo::engine::validate(
      yolo::nn::Network(std::shared_ptr<yolo::nn::NetworkImpl>(std::make_shared<FixedShapeImpl>(pt.module(), 640))), args);
  const auto rect = pt.val(args);
  // Measured here: mAP50-95 .onnx 0.698823, .pt on the same squares 0.698823, .pt on rect batches 0.70745 (=
  // Ultralytics' reference 0.70745).
  INFO(".pt on squares: mAP50-95 " << ours.map50_95 << " mAP50 " << ours.map50 << "; .onnx: mAP50-95 "
                                   << theirs.map50_95 << " mAP50 " << theirs.map50 << "; .pt on rect batches: mAP50-95 "
                                   << rect.map50_95);
  CHECK(theirs.images == 16);
  CHECK(theirs.map50_95 == Approx(ours.map50_95).margin(0.002));
  CHECK(theirs.map50 == Approx(ours.map50).margin(0.002));
  CHECK(theirs.precision == Approx(ours.precision).margin(0.002));
  CHECK(theirs.recall == Approx(ours.recall).margin(0.002));
  CHECK(rect.map50_95 == Approx(reference["mAP50-95"].as<double>()).margin(0.005));
  CHECK(std::abs(theirs.map50_95 - rect.map50_95) <= 0.02);  // the canvas's effect, small on this model
}

TEST_CASE("predict through the exported detector finds the .pt model's boxes and letterboxes to the export's square",
          "[export][dnn][predict]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("run_predict");
  yolo::Model pt(dir.copy("yolov8n_fdet.pt", "best.pt"));
  const auto onnx_path = export_onnx(pt, pt.export_defaults().imgsz(320));
  yolo::Model onnx(onnx_path);
  const auto args = yolo::Model::predict_defaults().imgsz(320);
  const auto source = yolo::test::data_path("fdet/images/val");
  const auto ours = pt.predict(source, args);
  const auto theirs = onnx.predict(source, yolo::Model::predict_defaults());  // imgsz 320: the export's
  REQUIRE(theirs.size() == 16);
  size_t boxes = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    check_same_boxes(ours[i], theirs[i], 0.01);
    boxes += ours[i].boxes.size();
  }
  CHECK(boxes > 30);

  // A 640x400 image: the export takes 320x320 squares only, where the .pt pads to 320x224. The .pt pads to
  // squares too in a batch of unequal shapes, and then both see the same input.
  const cv::Mat full = cv::imread(source + "/000003.jpg", cv::IMREAD_COLOR);
  const cv::Mat wide = full(cv::Rect(0, 100, 640, 400)).clone();
  const auto square = pt.predict({wide, full}, yolo::Model::predict_defaults().imgsz(320).batch(2));
  const auto exported = onnx.predict({wide}, yolo::Model::predict_defaults());
  REQUIRE(exported.size() == 1);
  CHECK_FALSE(square[0].boxes.empty());
  check_same_boxes(square[0], exported[0], 0.01);
}

TEST_CASE("a classification export predicts the .pt model's and Ultralytics' top-5 and validates the same",
          "[export][dnn][classify]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("run_classify");
  yolo::Model pt(dir.copy("yolov8n_cls_fmnist.pt", "best.pt"));
  yolo::Model onnx(export_onnx(pt, pt.export_defaults()));  // imgsz 32, the checkpoint's
  CHECK(onnx.task() == "classify");
  CHECK(onnx.names() == pt.names());
  const auto source = yolo::test::data_path("fcls/val/*/*.png");
  const auto ours = pt.predict(source, yolo::Model::predict_defaults());
  const auto theirs = onnx.predict(source, yolo::Model::predict_defaults());
  REQUIRE(theirs.size() == 200);
  REQUIRE(ours.size() == 200);
  const auto reference = YAML::LoadFile(yolo::test::data_path("reference/cls_predictions.json"))["predictions"];
  std::map<std::string, std::vector<int>> reference_top5;
  for (const auto& row : reference) reference_top5[row["path"].as<std::string>()] = row["top5"].as<std::vector<int>>();
  double largest_error = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO(theirs[i].path);
    REQUIRE(ours[i].path == theirs[i].path);
    CHECK(theirs[i].probs.top5 == ours[i].probs.top5);
    CHECK(theirs[i].probs.top5_names == ours[i].probs.top5_names);
    CHECK(theirs[i].probs.top5 == reference_top5.at(fs::relative(theirs[i].path, yolo::test::data_path("fcls")).string()));
    for (size_t c = 0; c < ours[i].probs.data.size(); ++c)
      largest_error = std::max(largest_error, double{std::abs(ours[i].probs.data[c] - theirs[i].probs.data[c])});
  }
  INFO("largest probability difference " << largest_error);
  CHECK(largest_error <= 1e-4);

  const auto args = yolo::ValArgs().data(yolo::test::data_path("fcls")).batch(32).workers(2).plots(false);
  const auto val_pt = pt.val(args), val_onnx = onnx.val(args);
  CHECK(val_onnx.images == 200);
  CHECK(val_onnx.top1 == val_pt.top1);
  CHECK(val_onnx.top5 == val_pt.top5);
  CHECK(val_onnx.top1 == Approx(0.75).margin(1e-9));  // Ultralytics' cls_val_metrics.json
}

TEST_CASE("an .onnx model runs only at its exported imgsz and refuses train and resume and export and load",
          "[export][dnn]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("run_errors");
  yolo::Model pt(dir.copy("yolov8n_fdet.pt", "best.pt"));
  const auto path = export_onnx(pt, pt.export_defaults().imgsz(64).batch(2));
  yolo::Model onnx(path);
  CHECK(onnx.module()->fixed_imgsz() == 64);
  CHECK_THAT(onnx.info(), ContainsSubstring("best.onnx summary"));
  const auto image = yolo::test::data_path("fdet/images/val/000000.jpg");
  CHECK_THAT(error_of([&] { onnx.predict(image, yolo::Model::predict_defaults().imgsz(320)); }),
             ContainsSubstring("imgsz=320: best.onnx was exported with a fixed input of 64x64; run it with imgsz=64"));
  CHECK_THAT(error_of([&] { onnx.val(yolo::ValArgs().data(yolo::test::data_path("fdet/data.yaml")).imgsz(320)); }),
             ContainsSubstring("best.onnx was exported with a fixed input of 64x64"));
  CHECK_NOTHROW(onnx.predict(image, yolo::Model::predict_defaults().batch(3)));  // any batch: run 2 at a time
  CHECK_THAT(error_of([&] { onnx.train(yolo::TrainArgs().data(yolo::test::data_path("fdet/data.yaml"))); }),
             ContainsSubstring("an exported ONNX model runs predict and val only; train from its .pt checkpoint"));
  CHECK_THAT(error_of([&] { pt.train(yolo::TrainArgs().resume(path)); }),
             ContainsSubstring("an ONNX export cannot be resumed"));
  CHECK_THAT(error_of([&] { onnx.export_model(yolo::ExportArgs().format("onnx").batch(1)); }),
             ContainsSubstring("is already an exported ONNX model; export from its .pt checkpoint"));
  CHECK_THAT(error_of([&] { yolo::Model("yolov8n.yaml").load(path); }),
             ContainsSubstring("an exported ONNX model has no weights to load"));
  // OpenCV 4.6 reads no fp16 tensors: a half=True export is refused when loaded, saying what to export.
  const auto half = export_onnx(pt, pt.export_defaults().imgsz(64).half(true));
  CHECK_THAT(error_of([&] { yolo::Model model(half); }),
             ContainsSubstring("It is a half=True export: export with half=False"));
}

TEST_CASE("an .onnx file without a graph or a build without OpenCV DNN is a clear error", "[export][dnn]") {
  const TempDir dir("run_no_graph");
  const auto path = dir.path / "metadata_only.onnx";
  write_metadata_only_onnx(path);
  const auto error = error_of([&] { yolo::Model model(path.string()); });
  CHECK_THAT(error, ContainsSubstring(path.string()));
  if (!YOLO_HAVE_OPENCV_DNN) {
    CHECK_THAT(error, ContainsSubstring("no OpenCV DNN module to run ONNX models (Debian: apt install libopencv-dnn-dev"));
  } else {
    CHECK_THAT(error, ContainsSubstring("OpenCV"));
  }
  CHECK_THAT(error_of([&] { yolo::Model model((dir.path / "missing.onnx").string()); }),
             ContainsSubstring("missing.onnx: cannot open the ONNX file"));
}

#ifdef YOLO_CLI_PATH
TEST_CASE("yolo predict and yolo val take model=best.onnx", "[export][dnn][cli]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("run_cli");
  const auto weights = dir.copy("yolov8n_fdet.pt", "best.pt");
  auto run = [&](const std::string& arguments) {
    const auto log = (dir.path / "log").string();
    const int status =
        std::system(("cd " + dir.path.string() + " && " + YOLO_CLI_PATH + " " + arguments + " > " + log + " 2>&1").c_str());
    std::ifstream in(log);
    return std::make_pair(WEXITSTATUS(status), std::string(std::istreambuf_iterator<char>(in), {}));
  };
  const auto [export_status, export_output] = run("export model=" + weights + " format=onnx imgsz=320");
  INFO(export_output);
  REQUIRE(export_status == 0);
  const auto onnx = (dir.path / "best.onnx").string();
  const auto source = yolo::test::data_path("fdet/images/val");
  const auto [pt_status, pt_output] = run("predict model=" + weights + " source=" + source + " imgsz=320 save=False");
  const auto [status, output] = run("detect predict model=" + onnx + " source=" + source);
  INFO(output);
  CHECK(pt_status == 0);
  CHECK(status == 0);
  // The CLI's last line: "16 images, N detections".
  const auto summary = [](const std::string& text) {
    const auto at = text.rfind("16 images, ");
    return at == std::string::npos ? std::string("(none)") : text.substr(at);
  };
  CHECK_THAT(summary(output), ContainsSubstring(" detections"));
  CHECK(summary(output) == summary(pt_output));
  CHECK(fs::exists(dir.path / "runs/detect/predict/000000.jpg"));  // the CLI saves, as with a .pt

  const auto [val_status, val_output] = run("val model=" + onnx + " data=" + yolo::test::data_path("fdet/data.yaml"));
  INFO(val_output);
  CHECK(val_status == 0);
  CHECK_THAT(val_output, ContainsSubstring("mAP50-95 0."));
  const auto [info_status, info_output] = run("info model=" + onnx);
  CHECK(info_status == 0);
  CHECK_THAT(info_output, ContainsSubstring("best.onnx summary"));
  const auto [bad_status, bad_output] = run("train model=" + onnx + " data=" + yolo::test::data_path("fdet/data.yaml"));
  CHECK(bad_status != 0);
  CHECK_THAT(bad_output, ContainsSubstring("train from its .pt checkpoint"));
}
#endif
