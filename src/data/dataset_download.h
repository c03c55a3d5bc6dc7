#pragma once
// Datasets fetched on first use: the `download:` of a dataset YAML, and classification datasets by
// name (imagenet10, mnist160, ...). Archives land in the datasets folder (the `datasets_dir`
// argument, else $YOLO_DATASETS_DIR, else ./datasets) and are extracted safely (io/archive.h);
// concurrent processes and DDP ranks download a dataset once (a lock file, the others wait).
//
// `download:` forms understood:
//   download: https://host/name.zip            one archive, extracted beside the dataset folder
//                                              (it holds that folder, as Ultralytics' zips do)
//   download:                                  several, in order; `dir:` extracts one into a
//     - https://host/labels.zip                folder inside the dataset folder
//     - {url: https://host/images.zip, dir: images}
// Anything else (Ultralytics' Python scripts, `bash ...`) is not run: the error names the URLs the
// script mentions, to fetch by hand.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "yolo/version.h"

namespace YAML {
class Node;
}

YOLO_BEGIN_NAMESPACE
namespace data {

/// The datasets folder, absolute: `given` when not empty, else $YOLO_DATASETS_DIR, else ./datasets
/// (Ultralytics' datasets_dir default outside a git checkout).
std::filesystem::path resolve_datasets_dir(const std::string& given);

/// Makes sure the dataset a YAML describes is on disk: when `in_place()` says it is not (or an
/// earlier download was cut short), runs the YAML's `download:` into `root` (the resolved `path:`)
/// and its parent. `yaml_name` names the YAML in messages. Throws yolo::Error for scripts, offline
/// mode, failed downloads, refused archives, and archives that do not make `in_place()` true.
void ensure_dataset(const YAML::Node& download, const std::string& yaml_name, const std::filesystem::path& root,
                    const std::function<bool()>& in_place);

/// The root folder (holding train/ and val/ or test/ of class folders) of the classification
/// dataset `data`: an existing folder; a folder of that name in the datasets folder; otherwise a
/// known dataset name (see classification_dataset_names()) or an http(s) URL of a .zip, downloaded
/// and extracted into the datasets folder on first use. Throws yolo::Error naming what was tried.
std::string classification_dataset_root(const std::string& data, const std::string& datasets_dir);

/// The classification datasets downloadable by name from Ultralytics' assets.
std::vector<std::string> classification_dataset_names();

}  // namespace data
YOLO_END_NAMESPACE
