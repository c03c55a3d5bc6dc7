// ONNX export checked by ONNX's own checker (libonnx) and run by OpenCV's DNN module against our
// LibTorch forward and Ultralytics' reference output. ONNX Runtime runs the same exports in
// python/tests/test_export_onnx.py.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "catch.h"
#include "data/augment.h"
#include "export/dnn_model.h"
#include "export/export_fixtures.h"
#include "export/exporter.h"
#include "export/onnx_export.h"
#include "export/onnx_metadata.h"
#include "export/python_literal.h"
#include "io/checkpoint.h"
#include "metrics/nms.h"
#include "nn/torchvision.h"
#include "parity/reference_input.h"
#include "yolo/model.h"
#include "yolo/nn/model.h"
#include "yolo_build_config.h"
#if YOLO_HAVE_ONNX
#include "export/onnx/emitters.h"
#endif

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::test::error_of;

namespace {

using TempDir = yolo::test::ExportDir;

torch::Tensor our_forward(yolo::Model& model, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  auto net = model.module();
  net->eval();
  return net->forward(images);
}

/// The stride of each anchor of a [B, 4 + nc, A] output for h x w inputs (YOLOv8: levels 8, 16, 32).
torch::Tensor anchor_strides(int64_t h, int64_t w) {
  std::vector<torch::Tensor> levels;
  for (int64_t s : {8, 16, 32}) levels.push_back(torch::full({(h / s) * (w / s)}, static_cast<double>(s)));
  return torch::cat(levels);
}

/// Scores or probabilities within `score_tolerance`; box coordinates (the first 4 rows of a [B, 4 + nc, A]
/// output, in pixels) within `box_tolerance` in grid units: the network predicts distances in cells, and a
/// coordinate is that times the anchor's stride.
void check_close(const torch::Tensor& ours, const torch::Tensor& theirs, double score_tolerance,
                 double box_tolerance, int64_t h = 0, int64_t w = 0) {
  REQUIRE(ours.sizes() == theirs.sizes());
  if (ours.dim() == 3) {
    const auto strides = anchor_strides(h, w);
    REQUIRE(strides.size(0) == ours.size(2));
    const auto boxes = (ours.narrow(1, 0, 4) - theirs.narrow(1, 0, 4)).abs();
    const auto scores = (ours.narrow(1, 4, ours.size(1) - 4) - theirs.narrow(1, 4, ours.size(1) - 4)).abs();
    INFO("max abs error: boxes " << boxes.max().item<double>() << " px (" << (boxes / strides).max().item<double>()
                                 << " grid units), scores " << scores.max().item<double>());
    CHECK((boxes / strides).max().item<double>() <= box_tolerance);
    CHECK(scores.max().item<double>() <= score_tolerance);
  } else {
    INFO("max abs error: " << (ours - theirs).abs().max().item<double>());
    CHECK((ours - theirs).abs().max().item<double>() <= score_tolerance);
  }
}

/// The 16 val images of tests/data/fdet as the predictor prepares them: letterboxed to imgsz, RGB, [0, 1].
torch::Tensor val_batch(int64_t imgsz, std::vector<cv::Size>* sizes) {
  std::vector<torch::Tensor> images;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(yolo::test::data_path("fdet/images/val"))) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const cv::Mat bgr = cv::imread(file.string(), cv::IMREAD_COLOR);
    REQUIRE_FALSE(bgr.empty());
    sizes->push_back(bgr.size());
    cv::Mat rgb;
    cv::cvtColor(yolo::data::letterbox(bgr, {imgsz, imgsz}).image, rgb, cv::COLOR_BGR2RGB);
    images.push_back(torch::from_blob(rgb.data, {imgsz, imgsz, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat) /
                     255);
  }
  return torch::stack(images);
}

}  // namespace

TEST_CASE("export writes best.onnx next to the weights with Ultralytics' metadata, ONNX's checker accepts it",
          "[export]") {
  if (!YOLO_HAVE_ONNX) {
    const TempDir dir("no_onnx");
    CHECK_THAT(error_of([&] { yolo::Model(dir.copy("yolov8n_fdet.pt", "best.pt")).export_model(
                                  yolo::ExportArgs().format("onnx")); }),
               ContainsSubstring("cannot write ONNX"));
    YOLO_SKIP(YOLO_NO_ONNX_REASON);
  }
  const TempDir dir("metadata");
  yolo::Model model(dir.copy("yolov8n_fdet.pt", "best.pt"));
  const auto path = model.export_model(model.export_defaults().format("onnx"));
  CHECK(path == (dir.path / "best.onnx").string());
  CHECK_NOTHROW(yolo::exporter::check_onnx_file(path));

  const auto metadata = yolo::exporter::read_onnx_metadata(path);
  CHECK(metadata.task == "detect");
  CHECK(metadata.names == model.names());
  CHECK(metadata.imgsz == std::vector<int64_t>{640, 640});
  CHECK(metadata.stride == 32);
  CHECK(metadata.batch == 1);
  CHECK_FALSE(metadata.dynamic);
  CHECK_FALSE(metadata.half);
  CHECK(metadata.props.at("author") == "yolocpp");
  CHECK_THAT(metadata.props.at("description"), ContainsSubstring("yolocpp YOLOv8n model trained on"));
  CHECK(metadata.props.at("args") == "{'batch': 1, 'half': False, 'dynamic': False, 'simplify': True, 'opset': 17, "
                                     "'nms': False}");
  CHECK(metadata.props.count("date") == 1);
  CHECK(metadata.props.count("version") == 1);
}

TEST_CASE("OpenCV DNN runs the exported YOLOv8 and YOLO11 detectors as our forward and as Ultralytics' output",
          "[export][dnn]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("dnn_detect");
  const std::string checkpoint = GENERATE(as<std::string>{}, "yolov8n_fdet.pt", "yolo11n_fdet.pt");
  INFO(checkpoint);
  yolo::Model model(dir.copy(checkpoint, "best.pt"));
  yolo::exporter::OpenCvDnnModel dnn(model.export_model(yolo::ExportArgs().format("onnx").imgsz(640).batch(1)));
  const auto image = yolo::test::load_reference_image(yolo::test::data_path("fdet/images/val/000000.jpg")).unsqueeze(0);
  const auto theirs = dnn.forward(image);
  check_close(our_forward(model, image), theirs, 1e-4, 1e-4, 640, 640);
  // Ultralytics 8.3.166's own forward of this image, with the reference's tolerances (1e-2 pixels).
  const auto reference = yolo::test::read_npy_float32(yolo::test::data_path(
      checkpoint == "yolov8n_fdet.pt" ? "reference/forward_val0.npy" : "reference/forward_yolo11n_val0.npy"));
  CHECK((reference.narrow(1, 0, 4) - theirs.narrow(1, 0, 4)).abs().max().item<double>() <= 1e-2);
  CHECK((reference.narrow(1, 4, 10) - theirs.narrow(1, 4, 10)).abs().max().item<double>() <= 1e-4);
}

TEST_CASE("predict through OpenCV DNN finds what predict through LibTorch finds on every val image",
          "[export][dnn]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("dnn_predict");
  yolo::Model model(dir.copy("yolov8n_fdet.pt", "best.pt"));
  constexpr int64_t imgsz = 320;
  yolo::exporter::OpenCvDnnModel dnn(model.export_model(yolo::ExportArgs().format("onnx").imgsz(imgsz).batch(3)));
  std::vector<cv::Size> sizes;
  const auto batch = val_batch(imgsz, &sizes);
  // 16 images through a model of batch 3: the runner takes them in chunks of 3, the last one padded.
  const auto theirs = yolo::metrics::non_max_suppression(dnn.forward(batch));
  const auto ours = yolo::metrics::non_max_suppression(our_forward(model, batch));
  REQUIRE(theirs.size() == 16);
  size_t boxes = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO("image " << i);
    REQUIRE(theirs[i].sizes() == ours[i].sizes());
    if (ours[i].size(0) == 0) continue;
    const yolo::metrics::ImageShape original{sizes[i].height, sizes[i].width};
    const auto a = yolo::metrics::scale_boxes({imgsz, imgsz}, ours[i].narrow(1, 0, 4), original);
    const auto b = yolo::metrics::scale_boxes({imgsz, imgsz}, theirs[i].narrow(1, 0, 4), original);
    CHECK((a - b).abs().max().item<double>() <= 1e-2);
    CHECK((ours[i].select(1, 4) - theirs[i].select(1, 4)).abs().max().item<double>() <= 1e-4);
    CHECK(torch::equal(ours[i].select(1, 5), theirs[i].select(1, 5)));
    boxes += static_cast<size_t>(ours[i].size(0));
  }
  INFO(boxes << " detections");
  CHECK(boxes > 30);
}

TEST_CASE("classification exports run in OpenCV DNN as our forward", "[export][dnn]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("dnn_classify");
  const auto source = GENERATE(as<std::string>{}, "yolov8n_cls_fmnist.pt", "yolov8n-cls.yaml", "yolo11n-cls.yaml");
  INFO(source);
  const bool checkpoint = source == "yolov8n_cls_fmnist.pt";
  yolo::Model model(checkpoint ? dir.copy(source, "cls.pt") : source);
  const int imgsz = checkpoint ? 32 : 64;
  auto args = yolo::ExportArgs().format("onnx").imgsz(imgsz).batch(2).opset(checkpoint ? 12 : 17);
  const auto path = model.export_model(args);  // a YAML-built model exports into the working directory
  const fs::path moved = dir.path / "model.onnx";
  fs::rename(path, moved);
  CHECK_NOTHROW(yolo::exporter::check_onnx_file(moved.string()));
  yolo::exporter::OpenCvDnnModel dnn(moved.string());
  CHECK(dnn.metadata().task == "classify");
  CHECK(dnn.metadata().stride == 1);
  torch::manual_seed(0);
  const auto images = torch::rand({3, 3, imgsz, imgsz});  // 3 images through a batch-2 model: 2 + 1 padded
  const auto probabilities = dnn.forward(images);
  CHECK(probabilities.size(0) == 3);
  CHECK(probabilities.size(1) == model.module()->nc());
  check_close(our_forward(model, images), probabilities, 1e-4, 0);
}

TEST_CASE("every opset from 12 to 20, fp16 and dynamic shapes pass ONNX's checker", "[export]") {
  if (!YOLO_HAVE_ONNX) YOLO_SKIP(YOLO_NO_ONNX_REASON);
  const TempDir dir("opsets");
  yolo::Model model(dir.copy("yolov8n_fdet.pt", "best.pt"));
  for (int opset = 12; opset <= 20; ++opset) {
    INFO("opset " << opset);
    const auto path = model.export_model(yolo::ExportArgs().format("onnx").imgsz(64).batch(1).opset(opset));
    CHECK_NOTHROW(yolo::exporter::check_onnx_file(path));
  }
  const auto path = model.export_model(yolo::ExportArgs().format("onnx").imgsz(64).batch(1).half(true).dynamic(true));
  CHECK_NOTHROW(yolo::exporter::check_onnx_file(path));
  const auto metadata = yolo::exporter::read_onnx_metadata(path);
  CHECK(metadata.half);
  CHECK(metadata.dynamic);
}

TEST_CASE("OpenCV 4.6 DNN refuses fp16 and dynamic exports, saying how to export instead", "[export][dnn]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("dnn_half");
  yolo::Model model(dir.copy("yolov8n_fdet.pt", "best.pt"));
  // OpenCV 4.6 reads no fp16 tensors and no shape computations on unknown sizes (ONNX Runtime runs both).
  const auto half = model.export_model(yolo::ExportArgs().format("onnx").imgsz(64).batch(1).half(true));
  CHECK_THAT(error_of([&] { yolo::exporter::OpenCvDnnModel dnn(half); }),
             ContainsSubstring("It is a half=True export: export with half=False"));
  const auto dynamic = model.export_model(yolo::ExportArgs().format("onnx").imgsz(64).batch(1).dynamic(true));
  CHECK_THAT(error_of([&] { yolo::exporter::OpenCvDnnModel dnn(dynamic); }),
             ContainsSubstring("It is a dynamic=True export: export with dynamic=False"));
}

TEST_CASE("export refuses what it cannot write, listing what it can", "[export]") {
  const TempDir dir("errors");
  yolo::Model model(dir.copy("yolov8n_fdet.pt", "best.pt"));
  auto onnx = [] { return yolo::ExportArgs().format("onnx").batch(1); };
  CHECK_THAT(error_of([&] { model.export_model(yolo::ExportArgs().batch(1)); }),
             ContainsSubstring("format=torchscript is an Ultralytics export format that yolocpp does not write; "
                               "supported formats: onnx"));
  CHECK_THAT(error_of([&] { model.export_model(onnx().format("onxx")); }),
             ContainsSubstring("Invalid export format='onxx'. Did you mean 'onnx'?"));
  CHECK_THAT(error_of([&] { model.export_model(onnx().format("TensorRT")); }),
             ContainsSubstring("format=engine needs TensorRT"));
  CHECK_THAT(error_of([&] { model.export_model(onnx().opset(21)); }), ContainsSubstring("opsets 12 to 20"));
  CHECK_THAT(error_of([&] { model.export_model(onnx().opset(11)); }), ContainsSubstring("opsets 12 to 20"));
  CHECK_THAT(error_of([&] { model.export_model(onnx().nms(true)); }),
             ContainsSubstring("argument 'nms=true' is not supported for format=onnx; the ONNX export takes batch, "
                               "dynamic, half, opset, simplify"));
  CHECK_THAT(error_of([&] { model.export_model(onnx().batch(-1)); }), ContainsSubstring("whole number >= 1"));
  CHECK_FALSE(fs::exists(dir.path / "best.onnx"));
#if YOLO_HAVE_ONNX
  // A module without an emitter names itself and the modules that have one.
  onnx::GraphProto graph;
  yolo::exporter::Graph writer(graph, yolo::exporter::OnnxOptions{});
  torch::nn::GRU gru(4, 4);
  CHECK_THAT(error_of([&] { yolo::exporter::emit(writer, *gru, {"x"}); }),
             ContainsSubstring("no emitter for module torch::nn::GRUImpl"));
  CHECK_THAT(error_of([&] { yolo::exporter::emit(writer, *gru, {"x"}); }), ContainsSubstring("Conv, Conv2d, DFL, Detect"));
#endif
}

TEST_CASE("export rounds imgsz up to a multiple of the largest stride, as Ultralytics", "[export]") {
  if (!YOLO_HAVE_ONNX) YOLO_SKIP(YOLO_NO_ONNX_REASON);
  const TempDir dir("imgsz");
  yolo::Model model(dir.copy("yolov8n_fdet.pt", "best.pt"));
  const auto path = model.export_model(yolo::ExportArgs().format("onnx").imgsz(100).batch(1));
  CHECK(yolo::exporter::read_onnx_metadata(path).imgsz == std::vector<int64_t>{128, 128});
}

TEST_CASE("metadata literals are written and read in Python's forms", "[export]") {
  using namespace yolo::exporter;
  CHECK(python_repr("person") == "'person'");
  CHECK(python_repr("it's") == "\"it's\"");
  CHECK(python_repr("a'b\"c\\") == "'a\\'b\"c\\\\'");
  CHECK(python_repr("tab\there") == "'tab\\there'");
  CHECK(names_literal({"person", "traffic light", "it's"}) == "{0: 'person', 1: 'traffic light', 2: \"it's\"}");
  const std::vector<std::string> names{"a'b\"c\\", "tab\there", "caf\xc3\xa9", "x: y, z"};
  CHECK(parse_names_literal(names_literal(names)) == names);
  CHECK(parse_names_literal("{1: 'b', 0: 'a'}") == std::vector<std::string>{"a", "b"});
  CHECK(parse_names_literal("['a', \"b\"]") == std::vector<std::string>{"a", "b"});
  CHECK(parse_int_list_literal("[640, 480]") == std::vector<int64_t>{640, 480});
  CHECK(parse_int_list_literal("(320, 320)") == std::vector<int64_t>{320, 320});
  CHECK(parse_int_list_literal("32") == std::vector<int64_t>{32});
  const auto args = parse_flat_dict_literal("{'batch': 1, 'half': False, 'opset': None, 'format': 'onnx'}");
  CHECK(args.at("batch") == "1");
  CHECK(args.at("half") == "False");
  CHECK(args.at("opset") == "None");
  CHECK(args.at("format") == "onnx");
  CHECK_THAT(error_of([] { parse_names_literal("{0: 'a', 2: 'c'}"); }), ContainsSubstring("without gaps"));
  CHECK_THAT(error_of([] { parse_names_literal("{0: 'a'"); }), ContainsSubstring("expected '}'"));
  CHECK_THAT(error_of([] { parse_int_list_literal("[640, x]"); }), ContainsSubstring("'x' is not an int"));
}

TEST_CASE("reading metadata from a file that is not an exported model is a clear error", "[export]") {
  const TempDir dir("bad_onnx");
  CHECK_THAT(error_of([&] { yolo::exporter::read_onnx_metadata((dir.path / "missing.onnx").string()); }),
             ContainsSubstring("missing.onnx: cannot open"));
  {
    std::ofstream(dir.path / "text.onnx") << "this is not a protobuf at all";
  }
  CHECK_THAT(error_of([&] { yolo::exporter::read_onnx_metadata((dir.path / "text.onnx").string()); }),
             ContainsSubstring("text.onnx"));
  CHECK_THAT(error_of([&] { yolo::exporter::read_onnx_metadata(yolo::test::data_path("yolov8n_fdet.pt")); }),
             ContainsSubstring("yolov8n_fdet.pt"));
  if (!YOLO_HAVE_ONNX) return;
  // A valid model without Ultralytics' keys.
  yolo::Model model(dir.copy("yolov8n_fdet.pt", "best.pt"));
  const auto path = model.export_model(yolo::ExportArgs().format("onnx").imgsz(64).batch(1));
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(dir.path / "truncated.onnx", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  CHECK_THAT(error_of([&] { yolo::exporter::read_onnx_metadata((dir.path / "truncated.onnx").string()); }),
             ContainsSubstring("truncated"));
}

#ifdef YOLO_CLI_PATH
TEST_CASE("yolo export model=best.pt format=onnx writes best.onnx and prints its path", "[export][cli]") {
  if (!YOLO_HAVE_ONNX) YOLO_SKIP(YOLO_NO_ONNX_REASON);
  const TempDir dir("cli");
  const auto weights = dir.copy("yolov8n_fdet.pt", "best.pt");
  const auto log = (dir.path / "log").string();
  auto run = [&](const std::string& arguments) {
    const int status = std::system((std::string(YOLO_CLI_PATH) + " " + arguments + " > " + log + " 2>&1").c_str());
    std::ifstream in(log);
    return std::make_pair(WEXITSTATUS(status), std::string(std::istreambuf_iterator<char>(in), {}));
  };
  const auto [status, output] = run("export model=" + weights + " format=onnx imgsz=96 dynamic");
  INFO(output);
  CHECK(status == 0);
  CHECK_THAT(output, ContainsSubstring((dir.path / "best.onnx").string()));
  const auto metadata = yolo::exporter::read_onnx_metadata((dir.path / "best.onnx").string());
  CHECK(metadata.imgsz == std::vector<int64_t>{96, 96});
  CHECK(metadata.batch == 1);  // export's default, not train's 16
  CHECK(metadata.dynamic);
  const auto [bad_status, bad_output] = run("export model=" + weights);
  CHECK(bad_status == 2);
  CHECK_THAT(bad_output, ContainsSubstring("supported formats: onnx"));
}
#endif

TEST_CASE("torchvision classifiers export and run in OpenCV DNN as our forward and torchvision's logits",
          "[export][dnn][torchvision]") {
  REQUIRE_ONNX_AND_DNN();
  const TempDir dir("torchvision");
  const std::string arch = GENERATE(as<std::string>{}, "resnet18", "resnext50_32x4d", "densenet_g12");
  INFO(arch);
  const bool densenet = arch == "densenet_g12";
  torch::manual_seed(0);
  // One block per stage keeps the ResNets small; BasicBlock, Bottleneck, groups and projections all occur.
  yolo::nn::TorchvisionClassifier model(
      densenet ? yolo::nn::TorchvisionOptions("densenet121").growth_rate(12).num_init_features(24).block_config(
                     {6, 12, 24, 16}).num_classes(10)
               : yolo::nn::TorchvisionOptions(arch).layers({1, 1, 1, 1}).num_classes(10));
  if (densenet) {
    const auto path = yolo::test::data_path("torchvision/densenet_g12_nc10.pth");
    yolo::nn::load_torchvision_state(*model, yolo::io::load_checkpoint(path).model_state(), path);
  } else {
    // Batch-norm statistics away from the identity, so that folding them into the convolutions shows.
    torch::NoGradGuard no_grad;
    for (const auto& module : model->modules(/*include_self=*/false)) {
      if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
        bn->running_mean.normal_(0, 0.1);
        bn->running_var.uniform_(1, 1.5);
        bn->weight.normal_(1, 0.1);
        bn->bias.normal_(0, 0.1);
      }
    }
  }
  model->eval();
  yolo::exporter::NetworkInfo info;
  info.source = arch;
  info.task = "classify";
  info.nc = 10;
  yolo::exporter::ExportOptions options;
  options.batch = 2;
  options.imgsz = 64;
  options.file = (dir.path / "model.onnx").string();
  const std::vector<std::string> names{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  const auto path = yolo::exporter::export_model(*model, info, names, options);
  CHECK_NOTHROW(yolo::exporter::check_onnx_file(path));

  const auto images = yolo::test::read_npy_float32(yolo::test::data_path("torchvision/tv_input.npy"));  // [2, 3, 64, 64]
  const auto probabilities = yolo::exporter::OpenCvDnnModel(path).forward(images);
  torch::NoGradGuard no_grad;
  check_close(model->forward(images).softmax(1), probabilities, 1e-4, 0);
  if (densenet) {  // torchvision's own logits of these weights
    const auto logits = yolo::test::read_npy_float32(yolo::test::data_path("torchvision/densenet_g12_nc10_logits.npy"));
    check_close(logits.softmax(1), probabilities, 1e-4, 0);
  }
}
