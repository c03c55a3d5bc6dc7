#pragma once
// Model YAML (Ultralytics' format) -> a checked, typed description of the network to build.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace nn {

/// One argument of a layer row: None, a bool, an int, a float, a string ("nearest") or a list of ints.
/// The name `nc` in a row is resolved to the model's class count when the spec is parsed.
using ModuleArg = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<int64_t>>;

/// One `[from, repeats, module, args]` row, as written (before depth/width scaling).
struct LayerRow {
  std::vector<int64_t> from;  ///< -1 is the previous layer; other negatives count back from this row
  bool from_is_list = false;  ///< written as a list (`[-1, 6]`) rather than one index
  int64_t repeats = 1;
  std::string module;  ///< the registry's name, "nn.Upsample" normalised to "Upsample"
  std::vector<ModuleArg> args;
};

/// Everything needed to build a model: the YAML text it came from and the parsed, checked rows.
struct ModelSpec {
  std::string yaml_text;  ///< the whole YAML, kept so that the spec can be re-parsed (e.g. with another nc)
  std::string source;     ///< the name asked for ("yolov8n.yaml") or the file read
  std::string yaml_file;  ///< the YAML's own `yaml_file` key (a checkpoint's stored YAML names its file), or ""
  std::string scale;      ///< "n", "s", ... or "" when the YAML has no `scales`
  int64_t nc = 0;
  std::string task;  ///< "detect" or "classify", from the head's last module
  int64_t in_channels = 3;
  double depth_multiple = 1.0;
  double width_multiple = 1.0;
  int64_t max_channels = std::numeric_limits<int64_t>::max();
  std::vector<LayerRow> layers;  ///< backbone rows, then head rows
  size_t backbone_rows = 0;
};

/// Loads a model YAML by file path or built-in name, as Ultralytics resolves them: a file on disk
/// first, then the built-ins; `yolov8n.yaml` means `yolov8.yaml` at scale `n` and
/// `yolov8s-cls.yaml` means `yolov8-cls.yaml` at scale `s`. `nc` overrides the YAML's class count.
ModelSpec load_model_spec(const std::string& name_or_path, std::optional<int64_t> nc = std::nullopt,
                          int64_t in_channels = 3);

/// Parses YAML text; `source_name` names it in errors and gives the scale (`yolov8s.yaml` -> "s").
ModelSpec parse_model_spec(const std::string& yaml_text, const std::string& source_name,
                           std::optional<int64_t> nc = std::nullopt);

/// The scale letter in a model name (`yolov8s-cls.yaml` -> "s"), or "" — Ultralytics' guess_model_scale.
std::string guess_model_scale(const std::string& name_or_path);

/// Names of the built-in model YAMLs ("yolov8.yaml", "yolov8-cls.yaml", "yolo11.yaml", "yolo11-cls.yaml").
std::vector<std::string> builtin_model_names();
/// Every scaled name the built-ins answer to: "yolov8n.yaml" ... "yolo11x-cls.yaml".
std::vector<std::string> builtin_model_variants();
/// The text of a built-in model YAML, or nullopt.
std::optional<std::string> builtin_model_yaml(const std::string& file_name);

/// Module names a model YAML may use: the built-ins and those registered with
/// yolo::nn::register_module (yolo/nn/registry.h).
std::vector<std::string> registered_modules();

}  // namespace nn
YOLO_END_NAMESPACE
