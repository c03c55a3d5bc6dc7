#pragma once
// Dataset YAMLs compiled into the library (coco8.yaml, coco128.yaml, coco.yaml, VOC.yaml, ...), so
// that `data=coco8.yaml` works with no file on disk, as Ultralytics' packaged YAMLs do.
#include <optional>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// Where Ultralytics publishes its dataset archives (coco8.zip, imagenet10.zip, ...).
inline constexpr const char* kDatasetAssets = "https://github.com/ultralytics/assets/releases/download/v0.0.0/";

/// The text of a built-in dataset YAML by file name ("coco8.yaml"), or nullopt.
std::optional<std::string> builtin_dataset_yaml(const std::string& file_name);
/// The built-in dataset YAML names.
std::vector<std::string> builtin_dataset_names();

}  // namespace data
YOLO_END_NAMESPACE
