#pragma once
// `export` mode: a model written as a file that other runtimes load. ONNX is written from our module
// graph (src/export/onnx/, which needs libonnx-dev at build time); Ultralytics' other formats are
// refused by name, with what to do instead.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "yolo/config/args.h"
#include "yolo/version.h"

namespace torch::nn {
class Module;
}
YOLO_BEGIN_NAMESPACE
namespace nn {
class NetworkImpl;
}  // namespace nn

namespace exporter {

/// The opsets an exported ONNX graph may declare, and the one it declares unless asked.
constexpr int64_t kMinOpset = 12, kMaxOpset = 20, kDefaultOpset = 17;

/// What the exporter needs to know of a network besides its modules (network_info() reads it off a network).
struct NetworkInfo {
  std::string source;     ///< the YAML or file it came from ("yolov8n.yaml"), for messages and the description
  std::string yaml_text;  ///< its model YAML, if any (Ultralytics' checkpoints name their YAML in it)
  std::string task;       ///< "detect" or "classify"
  int64_t nc = 0;
  int64_t in_channels = 3;
  std::vector<double> strides{1.0};  ///< per detection level; {1} for classify, as Ultralytics
};
NetworkInfo network_info(const nn::NetworkImpl& network);

/// The exporter's own options, resolved from ExportArgs by export_options().
struct ExportOptions {
  std::string format = "onnx";
  int64_t batch = 1;
  int64_t imgsz = 640;  ///< rounded up to a multiple of the model's largest stride by export_model
  bool dynamic = false;
  bool half = false;
  int64_t opset = kDefaultOpset;
  std::string file;  ///< where the export goes
  std::string data;  ///< the dataset the model was trained on (for the description), or ""
};

/// Checks and resolves the export keys of `args`: the format (and Ultralytics' aliases), the
/// arguments that format accepts, the opset and the batch. The file goes next to `weights`
/// ("runs/train/weights/best.pt" -> "runs/train/weights/best.onnx"). Errors list what is supported.
ExportOptions export_options(const ExportArgs& args, const std::string& weights);

/// Writes `network` (a YoloModel, a torchvision classifier: any module with an ONNX emitter; left
/// unchanged) as `options` ask; returns the path written. A build without libonnx-dev, a task or module
/// without an ONNX form, and a graph ONNX's checker rejects are errors.
std::string export_model(const torch::nn::Module& network, const NetworkInfo& info,
                         const std::vector<std::string>& names, ExportOptions options);
/// Any yolocpp network (YOLO or torchvision): its export_module() with its network_info().
std::string export_model(const nn::NetworkImpl& network, const std::vector<std::string>& names, ExportOptions options);

/// The metadata_props Ultralytics' exporter writes (description, author, date, version, stride, task,
/// batch, imgsz, names, args, channels), with values in the Python-literal forms its AutoBackend reads.
std::vector<std::pair<std::string, std::string>> export_metadata(const NetworkInfo& info,
                                                                 const std::vector<std::string>& names,
                                                                 const ExportOptions& options);

}  // namespace exporter
YOLO_END_NAMESPACE
