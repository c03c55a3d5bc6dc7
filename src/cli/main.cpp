// The `yolo` command line, with Ultralytics' syntax: `yolo [TASK] MODE key=value ...`.
//   yolo detect train data=coco8.yaml model=yolov8n.yaml epochs=100 imgsz=640
//   yolo detect val model=runs/detect/train/weights/best.pt data=coco8.yaml
//   yolo detect predict model=best.pt source=images/
//   yolo info model=yolov8n.yaml nc=10
//   yolo detect dataset data=coco8.yaml save_batches=2
//   yolo classify train data=path/to/folder model=yolov8n-cls.yaml epochs=5 imgsz=224
//   yolo export model=best.pt format=onnx
//   yolo detect val model=best.onnx data=coco8.yaml
//   yolo plot runs/detect/train
//   yolo convert fashion-mnist datasets/fashion-mnist
#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "data/dataset_yaml.h"
#include "data/fashion_mnist.h"
#include "data/preview.h"
#include "plots/val_state.h"
#include "utils/suggest.h"
#include "yolo/model.h"
#include "yolo/nn/network.h"
#include "yolo/process.h"
#include "yolo/utils/checks.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace {

const std::vector<std::string> kTasks{"detect", "classify"};
const std::vector<std::string> kModes{"train", "val", "predict", "export", "info", "dataset"};

constexpr const char* kHelp = R"(Usage: yolo [TASK] MODE [key=value ...]

  TASK  detect or classify (default: the model's task)
  MODE  train, val, predict, export, info, dataset
  ARGS  any Ultralytics argument as key=value, e.g. epochs=100 imgsz=640 device=cpu

Examples:
  yolo detect train data=coco8.yaml model=yolov8n.yaml epochs=10 imgsz=640
  yolo train data=coco8.yaml model=yolov8n.pt epochs=10        (task taken from the model)
  yolo detect val model=runs/detect/train/weights/best.pt data=coco8.yaml
  yolo detect predict model=yolov8n.pt source=path/to/images conf=0.25
  yolo export model=best.pt format=onnx opset=17 dynamic=True   (writes best.onnx)
  yolo predict model=best.onnx source=path/to/images            (the export, through OpenCV DNN)
  yolo info model=yolov8s.yaml nc=10
  yolo detect dataset data=coco8.yaml save_batches=2            (check labels and augmentation)
  yolo classify train data=path/to/folder model=yolov8n-cls.yaml epochs=5   (folder: train/<class>/, val/<class>/)
  yolo classify predict model=best.pt source=image.jpg
  yolo plot runs/detect/train                                   (redraw a run's plots)
  yolo convert fashion-mnist OUT [IDX_DIR]                      (Fashion-MNIST's idx files -> OUT/train, OUT/val)
  yolo version
  yolo checks                                                   (versions, CUDA, GPUs, backends)
)";

struct Command {
  std::string task, mode;
  std::vector<std::string> arguments;  // key=value tokens
};

Command parse_command_line(int argc, char** argv) {
  Command command;
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token.find('=') != std::string::npos) {
      command.arguments.push_back(token);
    } else if (std::find(kTasks.begin(), kTasks.end(), token) != kTasks.end() && command.task.empty()) {
      command.task = token;
    } else if (std::find(kModes.begin(), kModes.end(), token) != kModes.end() && command.mode.empty()) {
      command.mode = token;
    } else if (yolo::TrainArgs::is_bool_key(token)) {
      command.arguments.push_back(token + "=True");  // a bare boolean key means True, as in Ultralytics
    } else {
      std::vector<std::string> words = kModes;
      words.insert(words.end(), kTasks.begin(), kTasks.end());
      YOLO_FAIL("'{}' is not a valid task, mode or key=value argument.{} See 'yolo help'.", token,
                yolo::did_you_mean(token, words));
    }
  }
  YOLO_CHECK(!command.mode.empty(), "'mode' is missing. Valid modes are {}. See 'yolo help'.",
             fmt::join(kModes, ", "));
  return command;
}

/// Pulls `key=value` out of the argument list (for keys that only one mode understands).
std::optional<std::string> take_argument(std::vector<std::string>& arguments, const std::string& key) {
  for (auto it = arguments.begin(); it != arguments.end(); ++it) {
    if (it->rfind(key + "=", 0) == 0) {
      auto value = it->substr(key.size() + 1);
      arguments.erase(it);
      return value;
    }
  }
  return std::nullopt;
}

int run_info(Command& command) {
  const auto nc = take_argument(command.arguments, "nc");
  auto args = yolo::TrainArgs::from_strings(command.arguments);
  const std::string model = args.model().empty() ? "yolov8n.yaml" : args.model();
  std::optional<int64_t> nc_value;
  if (nc) nc_value = std::stoll(*nc);
  const bool file = model.find(".pt") != std::string::npos || model.find(".onnx") != std::string::npos;
  if (nc_value || !file) {
    auto net = yolo::nn::create_network(model, nc_value);
    std::printf("%s\n", yolo::nn::format_info(*net, args.imgsz()).c_str());
  } else {
    std::printf("%s\n", yolo::Model(model).info().c_str());
  }
  return 0;
}

int run_dataset(Command& command) {
  auto args = yolo::TrainArgs::from_strings(command.arguments);
  YOLO_CHECK(!args.data().empty(), "dataset mode needs data=path/to/data.yaml");
  const auto written = yolo::data::preview_dataset(args.data(), args.datasets_dir(), args.imgsz(),
                                                   args.save_batches() > 0 ? args.save_batches() : 1,
                                                   args.project().empty() ? "runs/detect/dataset" : args.project());
  for (const auto& path : written) std::printf("%s\n", path.c_str());
  return 0;
}

/// `export`: batch 1 and the model's training imgsz unless given, as Ultralytics' Model.export.
int run_export(yolo::Model& net, const Command& command, yolo::ExportArgs args) {
  const auto defaults = net.export_defaults();
  for (const char* key : {"batch", "imgsz"}) {
    const bool given = std::any_of(command.arguments.begin(), command.arguments.end(),
                                   [&](const std::string& a) { return a.rfind(std::string(key) + "=", 0) == 0; });
    if (!given) args.set(key, defaults.get(key));
  }
  std::printf("%s\n", net.export_model(args).c_str());
  return 0;
}

/// `convert`: a dataset shipped in its own format, written as a classification folder (OUT/train, OUT/val).
int run_convert(int argc, char** argv) {
  const std::vector<std::string> formats{"fashion-mnist"};
  YOLO_CHECK(argc == 4 || argc == 5,
             "usage: yolo convert fashion-mnist OUT [IDX_DIR] (IDX_DIR: the folder of the idx files, by default {})",
             yolo::data::kFashionMnistDir);
  const std::string format = argv[2];
  YOLO_CHECK(format == "fashion-mnist", "yolo convert: unknown dataset format '{}'; known: {}.{}", format,
             fmt::join(formats, ", "), yolo::did_you_mean(format, formats));
  const std::string out = argv[3];
  const auto counts = yolo::data::convert_fashion_mnist(argc == 5 ? argv[4] : yolo::data::kFashionMnistDir, out);
  std::printf("%lld train and %lld val images in %s (train with: yolo classify train data=%s)\n",
              static_cast<long long>(counts.train), static_cast<long long>(counts.val), out.c_str(), out.c_str());
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h") {
    std::printf("%s", kHelp);
    return argc < 2 ? 1 : 0;
  }
  if (std::string(argv[1]) == "version" || std::string(argv[1]) == "--version") {
    std::printf("yolocpp %s\n", YOLO_VERSION_STRING);
    return 0;
  }
  if (std::string(argv[1]) == "checks") {
    std::printf("%s", yolo::checks().to_string().c_str());
    return 0;
  }
  if (std::string(argv[1]) == "plot") {
    YOLO_CHECK(argc == 3, "usage: yolo plot RUN_FOLDER (e.g. yolo plot runs/detect/train)");
    for (const auto& path : yolo::plots::redraw_run_plots(argv[2])) std::printf("%s\n", path.c_str());
    return 0;
  }
  if (std::string(argv[1]) == "convert") return run_convert(argc, argv);
  auto command = parse_command_line(argc, argv);
  if (command.mode == "info") return run_info(command);
  if (command.mode == "dataset") return run_dataset(command);

  auto args = yolo::TrainArgs::from_strings(command.arguments);
  args.mode(command.mode);
  // What this program chooses for its process: the allocator kept warm for the loops, and one process per
  // device for device=0,1 (ranks 1..n-1 are copies of this command that end after training).
  yolo::keep_freed_memory_in_heap();
  yolo::RankLauncher ranks(args);
  std::string model = args.model();
  if (model.empty()) {
    YOLO_CHECK(command.mode == "train", "{} needs a model: model=path/to/best.pt", command.mode);
    model = command.task == "classify" ? "yolov8n-cls.yaml" : "yolov8n.yaml";
    yolo::log_warning("'model' argument is missing. Using default 'model={}'.", model);
  }
  yolo::Model net(model);
  // The task is the model's; a task word on the command line must agree with it.
  YOLO_CHECK(command.task.empty() || command.task == net.task(), "{} is a {} model, not a {} one: run 'yolo {} {} ...'",
             model, net.task(), command.task, net.task(), command.mode);
  args.task(net.task());
  const bool classify = net.task() == "classify";
  if (command.mode == "export") return run_export(net, command, args);
  if (command.mode == "train") {
    auto results = net.train(args);
    if (ranks.is_worker()) return 0;
    ranks.join();
    if (classify)
      std::printf("top1 %.4f  top5 %.4f  (%s)\n", results.metrics.top1, results.metrics.top5, results.save_dir.c_str());
    else
      std::printf("mAP50-95 %.4f  mAP50 %.4f  (%s)\n", results.metrics.map50_95, results.metrics.map50,
                  results.save_dir.c_str());
  } else if (command.mode == "val") {
    auto results = net.val(args);
    if (classify)
      std::printf("top1 %.4f  top5 %.4f\n", results.top1, results.top5);
    else
      std::printf("mAP50-95 %.4f  mAP50 %.4f\n", results.map50_95, results.map50);
  } else if (command.mode == "predict") {
    // The CLI saves annotated images by default, as Ultralytics' CLI does; the APIs do not.
    auto predictions = net.predict(args.source(), args);
    size_t boxes = 0;
    for (const auto& p : predictions) boxes += p.boxes.size();
    if (classify)
      std::printf("%zu images classified\n", predictions.size());
    else
      std::printf("%zu images, %zu detections\n", predictions.size(), boxes);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const yolo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  }
}
