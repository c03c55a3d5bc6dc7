#pragma once
// Dataset YAML files in Ultralytics' layout: path, train, val, test, names, nc.
#include <cstdint>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// A dataset YAML with every split resolved to absolute, existing paths.
struct DataSpec {
  std::string yaml_file;                      // absolute path of the YAML, or the built-in's name
  std::string root;                           // the resolved `path`
  std::vector<std::string> train, val, test;  // folders, .txt image lists or image files
  std::vector<std::string> names;             // class names, index = class id
  int64_t nc = 0;

  /// The sources of "train", "val" or "test"; throws for any other name or an absent split.
  const std::vector<std::string>& split(const std::string& name) const;
};

/// Reads and resolves a dataset YAML: a file, or when no file has that name a built-in YAML
/// (coco8.yaml, coco128.yaml, coco.yaml, VOC.yaml, ...). A relative `path` is taken from the YAML's
/// folder and, when nothing exists there, from the datasets folder (`datasets_dir`, else
/// $YOLO_DATASETS_DIR, else ./datasets; built-ins use the datasets folder only); no `path` means
/// the YAML's folder. Split entries are relative to `path`. When the val images are missing, the
/// YAML's `download:` fetches the dataset first (see src/data/dataset_download.h). Throws
/// yolo::Error naming the file and key at fault (missing train/val, nc != len(names), a split that
/// does not exist, a failed download).
DataSpec load_data_spec(const std::string& yaml_path, const std::string& datasets_dir = "");

}  // namespace data
YOLO_END_NAMESPACE
