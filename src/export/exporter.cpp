#include "export/exporter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "export/onnx_export.h"
#include "export/python_literal.h"
#include "utils/suggest.h"
#include "yolo/nn/model.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"
#include "yolo_build_config.h"

YOLO_BEGIN_NAMESPACE
namespace exporter {
namespace {

namespace fs = std::filesystem;

/// Ultralytics' export formats (its export_formats() "Argument" column), and what yolocpp writes.
const std::vector<std::string>& ultralytics_formats() {
  static const std::vector<std::string> formats{"torchscript", "onnx",  "openvino", "engine", "coreml",
                                                "saved_model", "pb",    "tflite",   "edgetpu", "tfjs",
                                                "paddle",      "mnn",   "ncnn",     "imx",    "rknn"};
  return formats;
}
constexpr const char* kWrittenFormats = "onnx";

/// Ultralytics' spellings of the same format.
std::string canonical_format(std::string format) {
  std::transform(format.begin(), format.end(), format.begin(), [](unsigned char c) { return std::tolower(c); });
  if (format == "tensorrt" || format == "trt") return "engine";
  for (const char* alias : {"mlmodel", "mlpackage", "mlprogram", "apple", "ios"})
    if (format == alias) return "coreml";
  return format;
}

/// The export keys the ONNX export takes (simplify is accepted: the graph is written without what a
/// simplifier would remove).
constexpr const char* kOnnxKeys = "batch, dynamic, half, opset, simplify";

/// "yolov8n.yaml" -> "YOLOv8n", as Ultralytics names the model in the description: from the YAML's own
/// `yaml_file` (Ultralytics' checkpoints keep it there), else the YAML the model was built from, else the
/// exported file's name.
std::string pretty_name(const NetworkInfo& info, const std::string& file) {
  std::string yaml_file;
  try {
    if (const auto node = YAML::Load(info.yaml_text)["yaml_file"]; node && node.IsScalar()) yaml_file = node.as<std::string>();
  } catch (const YAML::Exception&) {
    // the name only decorates the description
  }
  if (yaml_file.empty()) {
    const bool plain_yaml = fs::path(info.source).extension() == ".yaml" && info.source.find(':') == std::string::npos;
    yaml_file = plain_yaml || info.yaml_text.empty() ? info.source : file;
  }
  auto name = fs::path(yaml_file).stem().string();
  for (size_t at = name.find("yolo"); at != std::string::npos; at = name.find("yolo", at + 4)) name.replace(at, 4, "YOLO");
  return name;
}

/// Python's datetime.now().isoformat(): local time with microseconds.
std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm local{};
  localtime_r(&seconds, &local);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}", local.tm_year + 1900, local.tm_mon + 1,
                     local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec, micros);
}

int64_t max_stride(const NetworkInfo& info) {
  return static_cast<int64_t>(*std::max_element(info.strides.begin(), info.strides.end()));
}

}  // namespace

ExportOptions export_options(const ExportArgs& args, const std::string& weights) {
  ExportOptions options;
  options.format = canonical_format(args.format());
  const auto& formats = ultralytics_formats();
  if (std::find(formats.begin(), formats.end(), options.format) == formats.end()) {
    YOLO_FAIL("Invalid export format='{}'.{} Valid formats are {}; yolocpp writes {}", args.format(),
              did_you_mean(options.format, formats), fmt::join(formats, ", "), kWrittenFormats);
  }
  if (options.format == "engine") {
    YOLO_FAIL("format=engine needs TensorRT, which this build of yolocpp does not include. Export format=onnx and "
              "build the engine where TensorRT is installed: trtexec --onnx=best.onnx --saveEngine=best.engine "
              "(add --fp16 for half precision)");
  }
  YOLO_CHECK(options.format == "onnx",
             "format={} is an Ultralytics export format that yolocpp does not write; supported formats: {}. ONNX "
             "Runtime, OpenCV DNN, OpenVINO and TensorRT all read format=onnx",
             args.format(), kWrittenFormats);

  // As Ultralytics' validate_args: the export arguments the format does not take must keep their defaults.
  const ExportArgs defaults;
  for (const char* key : {"int8", "keras", "optimize", "nms", "workspace"}) {
    YOLO_CHECK(args.get(key) == defaults.get(key),
               "argument '{}={}' is not supported for format=onnx; the ONNX export takes {}", key, args.get(key),
               kOnnxKeys);
  }

  const double batch = args.batch();
  YOLO_CHECK(batch >= 1 && batch == std::floor(batch),
             "'batch={}' is invalid for export: the exported model's batch size must be a whole number >= 1 (use "
             "dynamic=True for any batch size)",
             args.get("batch"));
  options.batch = static_cast<int64_t>(batch);
  options.imgsz = args.imgsz();
  options.dynamic = args.dynamic();
  options.half = args.half();
  options.opset = args.opset() == 0 ? kDefaultOpset : args.opset();
  YOLO_CHECK(options.opset >= kMinOpset && options.opset <= kMaxOpset,
             "'opset={}' is not supported: yolocpp writes ONNX opsets {} to {} (default {})", args.opset(), kMinOpset,
             kMaxOpset, kDefaultOpset);
  options.file = fs::path(weights).replace_extension(".onnx").string();
  return options;
}

NetworkInfo network_info(const nn::NetworkImpl& network) {
  const auto architecture = network.architecture();
  NetworkInfo info;
  info.source = architecture.name;
  info.yaml_text = architecture.yaml_text;
  info.task = network.task();
  info.nc = network.nc();
  if (const auto* yolo = dynamic_cast<const nn::YoloModelImpl*>(&network)) info.in_channels = yolo->spec().in_channels;
  info.strides = network.strides();
  return info;
}

std::vector<std::pair<std::string, std::string>> export_metadata(const NetworkInfo& info,
                                                                 const std::vector<std::string>& names,
                                                                 const ExportOptions& options) {
  std::vector<std::pair<std::string, std::string>> metadata{
      {"description", fmt::format("yolocpp {} model {}", pretty_name(info, options.file),
                                  options.data.empty() ? "" : "trained on " + options.data)},
      {"author", "yolocpp"},
      {"date", iso_now()},
      {"version", YOLO_VERSION_STRING},
      {"stride", std::to_string(max_stride(info))},
      {"task", info.task},
      {"batch", std::to_string(options.batch)},
      {"imgsz", fmt::format("[{0}, {0}]", options.imgsz)},
      {"names", names_literal(names)},
      {"args", fmt::format("{{'batch': {}, 'half': {}, 'dynamic': {}, 'simplify': True, 'opset': {}, 'nms': False}}",
                           options.batch, options.half ? "True" : "False", options.dynamic ? "True" : "False",
                           options.opset)},
      {"channels", std::to_string(info.in_channels)},
  };
  return metadata;
}

std::string export_model(const nn::NetworkImpl& network, const std::vector<std::string>& names, ExportOptions options) {
  return export_model(network.export_module(), network_info(network), names, std::move(options));
}

std::string export_model(const torch::nn::Module& network, const NetworkInfo& info,
                         const std::vector<std::string>& names, ExportOptions options) {
  YOLO_CHECK(info.task == "detect" || info.task == "classify",
             "cannot export a {} model: yolocpp exports the tasks detect and classify", info.task);
  YOLO_CHECK(static_cast<int64_t>(names.size()) == info.nc, "export: {} class names for a model with nc={}",
             names.size(), info.nc);
  // As Ultralytics' check_imgsz: a size the strides do not divide is rounded up, with a warning.
  const int64_t stride = max_stride(info);
  const int64_t imgsz = std::max<int64_t>(stride, (options.imgsz + stride - 1) / stride * stride);
  if (imgsz != options.imgsz)
    log_warning("imgsz={} must be multiple of max stride {}, updating to {}", options.imgsz, stride, imgsz);
  options.imgsz = imgsz;

#if YOLO_HAVE_ONNX
  log_info("ONNX: starting export of {} with ONNX {} opset {} ({}, {}input {}x{}x{}x{})...", info.source,
           onnx_library_version(), options.opset, options.half ? "fp16" : "fp32", options.dynamic ? "dynamic " : "",
           options.batch, info.in_channels, options.imgsz, options.imgsz);
  OnnxOptions onnx;
  onnx.opset = options.opset;
  onnx.half = options.half;
  onnx.dynamic = options.dynamic;
  onnx.batch = options.batch;
  onnx.height = onnx.width = options.imgsz;
  write_onnx(network, info, onnx, export_metadata(info, names, options), options.file);
  log_info("ONNX: export success, saved as '{}' ({:.1f} MB)", options.file,
           static_cast<double>(fs::file_size(options.file)) / 1e6);
  return options.file;
#else
  (void)network;  // nothing to walk without ONNX's definitions
  YOLO_FAIL("this build of yolocpp cannot write ONNX: it was configured without ONNX's protobuf definitions and "
            "checker (Debian: apt install libonnx-dev, then rebuild), or against a LibTorch that bundles its own "
            "protobuf (PyPI's torch: build against Debian's LibTorch for export)");
#endif
}

#if !YOLO_HAVE_ONNX
// The ONNX checker's entry points, in a build without it (export_model says why above).
void check_onnx_file(const std::string& path) {
  YOLO_FAIL("{}: this build of yolocpp has no ONNX checker (no libonnx-dev when it was configured)", path);
}
std::string onnx_library_version() { return "none"; }
#endif

}  // namespace exporter
YOLO_END_NAMESPACE
