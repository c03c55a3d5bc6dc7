#include "yolo/nn/spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "utils/suggest.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace nn {
namespace {

/// "yolov8.yaml: layer 13 (head row 3)": where a row is, for error messages.
std::string row_name(const std::string& source, size_t index, size_t backbone_rows) {
  const bool in_head = index >= backbone_rows;
  return fmt::format("{}: layer {} ({} row {})", source, index, in_head ? "head" : "backbone",
                     in_head ? index - backbone_rows : index);
}

std::optional<int64_t> scalar_as_int(const YAML::Node& node) {
  int64_t value = 0;
  if (YAML::convert<int64_t>::decode(node, value)) return value;
  return std::nullopt;
}

/// A scalar argument, read as Ultralytics' parse_model reads it (YAML value, then Python literal).
ModuleArg scalar_arg(const YAML::Node& node, int64_t nc) {
  if (node.IsNull()) return std::monostate{};
  const std::string text = node.Scalar();
  if (text == "nc") return nc;
  if (text == "None") return std::monostate{};
  if (text == "True" || text == "true") return true;
  if (text == "False" || text == "false") return false;
  if (auto integer = scalar_as_int(node)) return *integer;
  double real = 0;
  if (YAML::convert<double>::decode(node, real)) return real;
  return text;
}

ModuleArg parse_arg(const YAML::Node& node, int64_t nc, const std::string& where) {
  if (!node.IsSequence()) return scalar_arg(node, nc);
  std::vector<int64_t> values;
  for (const auto& item : node) {
    auto value = item.IsScalar() ? scalar_as_int(item) : std::nullopt;
    YOLO_CHECK(value.has_value(), "{}: list arguments must hold integers, got {}", where, YAML::Dump(node));
    values.push_back(*value);
  }
  return values;
}

LayerRow parse_row(const YAML::Node& node, size_t index, size_t backbone_rows, int64_t nc,
                   const std::vector<std::string>& modules, const std::string& source) {
  const std::string where = row_name(source, index, backbone_rows);
  YOLO_CHECK(node.IsSequence() && node.size() == 4 && node[3].IsSequence(),
             "{}: a row must be [from, repeats, module, [args...]], got {}", where, YAML::Dump(node));
  LayerRow row;

  const auto& from = node[0];
  row.from_is_list = from.IsSequence();
  if (row.from_is_list) {
    for (const auto& item : from) {
      auto value = item.IsScalar() ? scalar_as_int(item) : std::nullopt;
      YOLO_CHECK(value.has_value(), "{}: 'from' must list layer indices, got {}", where, YAML::Dump(from));
      row.from.push_back(*value);
    }
    YOLO_CHECK(!row.from.empty(), "{}: 'from' is an empty list", where);
  } else {
    auto value = from.IsScalar() ? scalar_as_int(from) : std::nullopt;
    YOLO_CHECK(value.has_value(), "{}: 'from' must be a layer index or a list of them, got {}", where,
               YAML::Dump(from));
    row.from.push_back(*value);
  }
  for (auto f : row.from) {
    // -1 at layer 0 is the input image; any other index must name an earlier layer.
    const int64_t absolute = f < 0 ? static_cast<int64_t>(index) + f : f;
    const bool input = f == -1 && index == 0;
    YOLO_CHECK(input || (absolute >= 0 && absolute < static_cast<int64_t>(index)),
               "{}: 'from' index {} does not name an earlier layer (valid: 0..{} or -1..-{}); a layer can only "
               "read layers above it",
               where, f, static_cast<int64_t>(index) - 1, index);
  }

  auto repeats = node[1].IsScalar() ? scalar_as_int(node[1]) : std::nullopt;
  YOLO_CHECK(repeats && *repeats >= 1, "{}: repeats must be a positive integer, got {}", where, YAML::Dump(node[1]));
  row.repeats = *repeats;

  YOLO_CHECK(node[2].IsScalar(), "{}: module must be a name, got {}", where, YAML::Dump(node[2]));
  row.module = node[2].Scalar();
  if (row.module.rfind("nn.", 0) == 0) row.module = row.module.substr(3);  // nn.Upsample == Upsample
  YOLO_CHECK(std::find(modules.begin(), modules.end(), row.module) != modules.end(),
             "{}: unknown module '{}'.{} Known modules: {} (an application adds its own with "
             "yolo::nn::register_module)",
             where, node[2].Scalar(), did_you_mean(row.module, modules), fmt::join(modules, ", "));

  for (const auto& arg : node[3]) row.args.push_back(parse_arg(arg, nc, where));
  return row;
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  YOLO_CHECK(in.good(), "cannot read model YAML {}", path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// yolov8n.yaml -> yolov8.yaml, yolov8s-cls.yaml -> yolov8-cls.yaml: the file that holds all scales.
std::string unified_name(const std::string& file_name) {
  static const std::regex scale_suffix(R"((\d+)([nslmx])(.+)?$)");
  return std::regex_replace(file_name, scale_suffix, "$1$3");
}

}  // namespace

std::string guess_model_scale(const std::string& name_or_path) {
  static const std::regex pattern(R"(yolo(e-)?[v]?\d+([nslmx]))");
  const std::string stem = fs::path(name_or_path).stem().string();
  std::smatch match;
  return std::regex_search(stem, match, pattern) ? match[2].str() : "";
}

ModelSpec parse_model_spec(const std::string& yaml_text, const std::string& source_name, std::optional<int64_t> nc) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    YOLO_FAIL("{}: not valid YAML: {}", source_name, e.what());
  }
  YOLO_CHECK(root.IsMap(), "{}: a model YAML is a mapping with nc, backbone and head", source_name);

  ModelSpec spec;
  spec.yaml_text = yaml_text;
  spec.source = source_name;
  if (root["yaml_file"] && root["yaml_file"].IsScalar()) spec.yaml_file = root["yaml_file"].Scalar();

  const auto yaml_nc = root["nc"] && root["nc"].IsScalar() ? scalar_as_int(root["nc"]) : std::nullopt;
  if (nc && (!yaml_nc || *nc != *yaml_nc)) {
    log_info("Overriding model.yaml nc={} with nc={}", yaml_nc ? std::to_string(*yaml_nc) : "None", *nc);
  }
  YOLO_CHECK(nc || yaml_nc, "{}: nc is not set; give it in the YAML or as an argument", source_name);
  spec.nc = nc ? *nc : *yaml_nc;
  YOLO_CHECK(spec.nc > 0, "{}: nc must be positive, got {}", source_name, spec.nc);

  if (root["channels"]) {
    auto channels = scalar_as_int(root["channels"]);
    YOLO_CHECK(channels && *channels > 0, "{}: channels must be a positive integer", source_name);
    spec.in_channels = *channels;
  }

  auto read_multiple = [&](const char* key) {
    double value = 1.0;
    if (root[key]) {
      YOLO_CHECK(YAML::convert<double>::decode(root[key], value) && value > 0, "{}: {} must be a positive number",
                 source_name, key);
    }
    return value;
  };
  spec.depth_multiple = read_multiple("depth_multiple");
  spec.width_multiple = read_multiple("width_multiple");

  if (const auto scales = root["scales"]) {
    YOLO_CHECK(scales.IsMap() && scales.size() > 0, "{}: scales must map a letter to [depth, width, max_channels]",
               source_name);
    // The name decides, as Ultralytics' yaml_model_load; a `scale` key (a checkpoint's embedded
    // YAML has one) is used for names without a scale letter.
    spec.scale = guess_model_scale(source_name);
    if (spec.scale.empty() && root["scale"] && root["scale"].IsScalar()) spec.scale = root["scale"].Scalar();
    if (spec.scale.empty()) {
      spec.scale = scales.begin()->first.Scalar();
      log_warning("{}: no model scale in the name, assuming scale='{}'", source_name, spec.scale);
    }
    const auto chosen = scales[spec.scale];
    std::vector<std::string> letters;
    for (const auto& entry : scales) letters.push_back(entry.first.Scalar());
    YOLO_CHECK(chosen, "{}: scale '{}' is not in scales ({})", source_name, spec.scale, fmt::join(letters, ", "));
    double max_channels = 0;
    YOLO_CHECK(chosen.IsSequence() && chosen.size() == 3 &&
                   YAML::convert<double>::decode(chosen[0], spec.depth_multiple) &&
                   YAML::convert<double>::decode(chosen[1], spec.width_multiple) &&
                   YAML::convert<double>::decode(chosen[2], max_channels),
               "{}: scales.{} must be [depth, width, max_channels]", source_name, spec.scale);
    spec.max_channels = static_cast<int64_t>(max_channels);
  }

  const auto backbone = root["backbone"], head = root["head"];
  YOLO_CHECK(backbone && backbone.IsSequence() && head && head.IsSequence(),
             "{}: backbone and head must both be lists of [from, repeats, module, args] rows", source_name);
  const auto modules = registered_modules();
  spec.backbone_rows = backbone.size();
  size_t index = 0;
  for (const auto* section : {&backbone, &head}) {
    for (const auto& row : *section) spec.layers.push_back(parse_row(row, index++, spec.backbone_rows, spec.nc,
                                                                     modules, source_name));
  }
  YOLO_CHECK(!spec.layers.empty(), "{}: the model has no layers", source_name);

  const auto& last = spec.layers.back().module;
  if (last == "Detect")
    spec.task = "detect";
  else if (last == "Classify")
    spec.task = "classify";
  else
    YOLO_FAIL("{}: the last head row is {}; yolocpp builds Detect (detect) or Classify (classify) models",
              source_name, last);
  return spec;
}

ModelSpec load_model_spec(const std::string& name_or_path, std::optional<int64_t> nc, int64_t in_channels) {
  const fs::path path(name_or_path);
  const fs::path unified = path.parent_path() / unified_name(path.filename().string());
  std::optional<std::string> text;
  for (const auto& candidate : {path, unified}) {
    std::error_code ec;
    if (!text && fs::is_regular_file(candidate, ec)) text = read_text_file(candidate);
  }
  for (const auto& candidate : {unified.filename().string(), path.filename().string()}) {
    if (!text) text = builtin_model_yaml(candidate);
  }
  if (!text) {
    auto known = builtin_model_variants();
    const auto unscaled = builtin_model_names();
    known.insert(known.end(), unscaled.begin(), unscaled.end());
    YOLO_FAIL("model YAML '{}' is neither a file nor a built-in model.{} Built-in models: {} (the name without "
              "the scale letter, e.g. yolo11.yaml, means its first scale)",
              name_or_path, did_you_mean(path.filename().string(), known), fmt::join(builtin_model_variants(), ", "));
  }
  auto spec = parse_model_spec(*text, name_or_path, nc);
  spec.in_channels = in_channels;
  return spec;
}

}  // namespace nn
YOLO_END_NAMESPACE
