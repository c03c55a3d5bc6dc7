#include "data/dataset_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/ranges.h>

#include "data/builtin_datasets.h"
#include "data/dataset_download.h"
#include "utils/suggest.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

/// The paths a split names, resolved against `root` (existing or not).
std::vector<fs::path> split_paths(const YAML::Node& node, const fs::path& root, const std::string& key,
                                  const std::string& yaml_path) {
  std::vector<std::string> entries;
  if (!node || node.IsNull()) return {};
  if (node.IsSequence()) {
    for (const auto& item : node) entries.push_back(item.as<std::string>());
  } else {
    YOLO_CHECK(node.IsScalar(), "{}: `{}` must be a path or a list of paths", yaml_path, key);
    entries.push_back(node.as<std::string>());
  }
  std::vector<fs::path> paths;
  for (const auto& entry : entries) {
    fs::path p = fs::path(entry).is_absolute() ? fs::path(entry) : root / entry;
    // Older Ultralytics YAMLs wrote splits as "../images/train" relative to `path`'s parent.
    if (!fs::exists(p) && entry.rfind("../", 0) == 0) p = root / entry.substr(3);
    paths.push_back(p);
  }
  return paths;
}

std::vector<std::string> resolve_split(const YAML::Node& node, const fs::path& root, const std::string& key,
                                       const std::string& yaml_path) {
  std::vector<std::string> resolved;
  for (const auto& p : split_paths(node, root, key, yaml_path)) {
    YOLO_CHECK(fs::exists(p), "{}: {}: {} does not exist (resolved against path: {})", yaml_path, key, p.string(),
               root.string());
    resolved.push_back(fs::weakly_canonical(p).string());
  }
  return resolved;
}

std::vector<std::string> read_names(const YAML::Node& node, const std::string& yaml_path) {
  std::vector<std::string> names;
  if (node.IsSequence()) {
    for (const auto& n : node) names.push_back(n.as<std::string>());
  } else if (node.IsMap()) {
    // {id: name}: ids must cover 0..n-1, in any order.
    std::map<int64_t, std::string> by_id;
    for (const auto& kv : node) by_id[kv.first.as<int64_t>()] = kv.second.as<std::string>();
    int64_t expected = 0;
    for (const auto& [id, name] : by_id) {
      YOLO_CHECK(id == expected, "{}: names: class ids must run 0..{} without gaps, id {} is missing", yaml_path,
                 by_id.size() - 1, expected);
      names.push_back(name);
      ++expected;
    }
  } else {
    YOLO_FAIL("{}: names must be a list or a {{id: name}} map", yaml_path);
  }
  return names;
}

}  // namespace

const std::vector<std::string>& DataSpec::split(const std::string& name) const {
  const std::vector<std::string>* s = name == "train"  ? &train
                                      : name == "val"  ? &val
                                      : name == "test" ? &test
                                                       : nullptr;
  YOLO_CHECK(s, "unknown split '{}': use train, val or test", name);
  YOLO_CHECK(!s->empty(), "{}: the dataset has no `{}` split", yaml_file, name);
  return *s;
}

DataSpec load_data_spec(const std::string& yaml_path, const std::string& datasets_dir) {
  // A file first; a bare name that is no file is one of the built-in YAMLs, as Ultralytics' packaged ones.
  std::optional<std::string> builtin;
  if (!fs::is_regular_file(yaml_path) && !fs::path(yaml_path).has_parent_path()) builtin = builtin_dataset_yaml(yaml_path);
  YOLO_CHECK(builtin || fs::is_regular_file(yaml_path), "dataset YAML {} does not exist, nor is it a built-in one.{} "
             "Built-ins: {}", yaml_path, did_you_mean(yaml_path, builtin_dataset_names()),
             fmt::join(builtin_dataset_names(), ", "));
  YAML::Node doc;
  try {
    doc = builtin ? YAML::Load(*builtin) : YAML::LoadFile(yaml_path);
  } catch (const YAML::Exception& e) {
    YOLO_FAIL("{}: not valid YAML: {}", yaml_path, e.what());
  }
  YOLO_CHECK(doc.IsMap(), "{}: expected a mapping with train, val and names", yaml_path);
  DataSpec spec;
  const fs::path yaml_abs = fs::absolute(yaml_path);
  spec.yaml_file = builtin ? yaml_path : yaml_abs.string();
  const fs::path yaml_dir = yaml_abs.parent_path();
  const fs::path datasets = resolve_datasets_dir(datasets_dir);

  // A relative `path` is looked up beside the YAML, then in the datasets folder (built-ins: there only).
  fs::path root = yaml_dir;
  const bool has_path = doc["path"] && !doc["path"].IsNull();
  if (has_path) {
    const fs::path given = doc["path"].as<std::string>();
    root = given.is_absolute() ? given : yaml_dir / given;
    if (!given.is_absolute() && (builtin || !fs::exists(root))) root = datasets / given;
  }
  if (const auto download = doc["download"]; download && !download.IsNull()) {
    ensure_dataset(download, yaml_path, root, [&] {
      const auto val = split_paths(doc["val"], root, "val", yaml_path);
      return fs::exists(root) && std::all_of(val.begin(), val.end(), [](const fs::path& p) { return fs::exists(p); });
    });
  }
  YOLO_CHECK(fs::exists(root), "{}: path: {} does not exist (looked in the YAML's folder and in the datasets folder "
             "{}; set datasets_dir= or YOLO_DATASETS_DIR)", yaml_path, doc["path"].as<std::string>(), datasets.string());
  spec.root = fs::weakly_canonical(root).string();

  for (const char* key : {"train", "val"})
    YOLO_CHECK(doc[key] && !doc[key].IsNull(), "{}: the `{}:` key is missing", yaml_path, key);
  spec.train = resolve_split(doc["train"], root, "train", yaml_path);
  spec.val = resolve_split(doc["val"], root, "val", yaml_path);
  spec.test = resolve_split(doc["test"], root, "test", yaml_path);

  const bool has_nc = doc["nc"] && !doc["nc"].IsNull();
  if (doc["names"] && !doc["names"].IsNull()) {
    spec.names = read_names(doc["names"], yaml_path);
    if (has_nc) {
      const auto nc = doc["nc"].as<int64_t>();
      YOLO_CHECK(nc == static_cast<int64_t>(spec.names.size()),
                 "{}: nc: {} does not match the {} entries of names: fix one of them", yaml_path, nc,
                 spec.names.size());
    }
  } else {
    YOLO_CHECK(has_nc, "{}: give `names:` (a list or an {{id: name}} map) or at least `nc:`", yaml_path);
    for (int64_t i = 0; i < doc["nc"].as<int64_t>(); ++i) spec.names.push_back("class" + std::to_string(i));
  }
  spec.nc = static_cast<int64_t>(spec.names.size());
  YOLO_CHECK(spec.nc > 0, "{}: names is empty", yaml_path);
  if (const auto channels = doc["channels"]; channels && channels.IsScalar() && channels.as<std::string>() != "3")
    log_warning("{}: channels: {} is not supported yet; images are read with 3 channels (grey levels repeated)",
                yaml_path, channels.as<std::string>());
  return spec;
}

}  // namespace data
YOLO_END_NAMESPACE
