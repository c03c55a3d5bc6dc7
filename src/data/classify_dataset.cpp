#include "data/classify_dataset.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/ranges.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/classify_augment.h"
#include "data/dataset_download.h"
#include "data/image_cache.h"
#include "data/labels.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

constexpr const char* kLayout =
    "a classification dataset is a folder with train/<class>/*.jpg and val/<class>/*.jpg (one sub-folder per class)";

std::vector<std::string> class_folders(const fs::path& split) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(split, fs::directory_options::follow_directory_symlink))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// Images directly in a split folder belong to no class: said, not silently dropped.
void warn_about_loose_images(const fs::path& split) {
  int64_t loose = 0;
  for (const auto& entry : fs::directory_iterator(split))
    if (entry.is_regular_file() && is_image_file(entry.path())) ++loose;
  if (loose > 0)
    log_warning("{}: {} images lie directly in the split folder, outside any class folder, and are not used", split.string(),
                loose);
}

/// The same classes in `split` as in training, or InvalidDataset naming the difference.
void check_same_classes(const fs::path& split, const std::vector<std::string>& names) {
  const auto found = class_folders(split);
  if (found == names) return;
  std::vector<std::string> missing, extra;
  std::set_difference(names.begin(), names.end(), found.begin(), found.end(), std::back_inserter(missing));
  std::set_difference(found.begin(), found.end(), names.begin(), names.end(), std::back_inserter(extra));
  YOLO_FAIL("InvalidDataset: {} does not have the training split's classes: {}{}{}. Every split needs the same "
            "class folders",
            split.string(), missing.empty() ? "" : fmt::format("missing {}", fmt::join(missing, ", ")),
            !missing.empty() && !extra.empty() ? "; " : "",
            extra.empty() ? "" : fmt::format("not in training {}", fmt::join(extra, ", ")));
}

fs::path first_existing(const fs::path& root, std::initializer_list<const char*> names) {
  for (const auto* name : names)
    if (fs::is_directory(root / name)) return root / name;
  return {};
}

}  // namespace

DataSpec load_classify_data_spec(const std::string& data, const std::string& datasets_dir) {
  YOLO_CHECK(!data.empty(), "classification needs data=path/to/folder ({})", kLayout);
  DataSpec spec;
  fs::path root = data;
  std::string train_name = "train", val_name, test_name;
  std::vector<std::string> yaml_names;
  const auto ext = fs::path(data).extension().string();
  if (ext == ".yaml" || ext == ".yml") {
    YOLO_CHECK(fs::is_regular_file(data), "dataset YAML {} does not exist", data);
    YAML::Node doc;
    try {
      doc = YAML::LoadFile(data);
    } catch (const YAML::Exception& e) {
      YOLO_FAIL("{}: not valid YAML: {}", data, e.what());
    }
    YOLO_CHECK(doc.IsMap(), "{}: expected a mapping with `path:` naming the dataset folder ({})", data, kLayout);
    spec.yaml_file = fs::absolute(data).string();
    // As detection YAMLs: no `path` is the YAML's folder; a relative one starts there.
    const fs::path folder = fs::absolute(data).parent_path();
    root = doc["path"] && doc["path"].IsScalar() ? fs::path(doc["path"].as<std::string>()) : folder;
    if (root.is_relative() && fs::is_directory(folder / root)) root = folder / root;
    if (doc["train"] && doc["train"].IsScalar()) train_name = doc["train"].as<std::string>();
    if (doc["val"] && doc["val"].IsScalar()) val_name = doc["val"].as<std::string>();
    if (doc["test"] && doc["test"].IsScalar()) test_name = doc["test"].as<std::string>();
    if (const auto names = doc["names"]; names && names.IsSequence()) {
      for (const auto& n : names) yaml_names.push_back(n.as<std::string>());
    } else if (names && names.IsMap()) {
      for (const auto& kv : names) yaml_names.push_back(kv.second.as<std::string>());
    }
  }
  if (spec.yaml_file.empty()) {
    // A folder, one in the datasets folder, or a dataset downloadable by name (imagenet10, mnist160, ...).
    root = classification_dataset_root(data, datasets_dir);
  } else if (!fs::is_directory(root) && root.is_relative()) {
    root = resolve_datasets_dir(datasets_dir) / root;
  }
  YOLO_CHECK(fs::is_directory(root), "dataset folder {} does not exist ({})", root.string(), kLayout);
  root = fs::weakly_canonical(root);
  spec.root = root.string();
  if (spec.yaml_file.empty()) spec.yaml_file = spec.root;

  const fs::path train = root / train_name;
  YOLO_CHECK(fs::is_directory(train), "{} has no {}/ folder: {}", root.string(), train_name, kLayout);
  spec.names = class_folders(train);
  YOLO_CHECK(!spec.names.empty(),
             "NotLabeledDataset: {} has no class sub-folders, so its images have no labels: {}", train.string(),
             kLayout);
  if (!yaml_names.empty()) {
    std::vector<std::string> sorted = yaml_names;
    std::sort(sorted.begin(), sorted.end());
    YOLO_CHECK(sorted == spec.names, "InvalidDataset: {} names the classes [{}] but {} holds the class folders [{}]",
               data, fmt::join(yaml_names, ", "), train.string(), fmt::join(spec.names, ", "));
  }
  spec.nc = static_cast<int64_t>(spec.names.size());
  warn_about_loose_images(train);
  spec.train = {train.string()};

  // As Ultralytics: val/, else validation/ or valid/; a missing split falls back to the other one.
  fs::path val = val_name.empty() ? first_existing(root, {"val", "validation", "valid"}) : root / val_name;
  fs::path test = test_name.empty() ? first_existing(root, {"test"}) : root / test_name;
  YOLO_CHECK(val_name.empty() || fs::is_directory(val), "{}: val: {} does not exist", data, val.string());
  YOLO_CHECK(test_name.empty() || fs::is_directory(test), "{}: test: {} does not exist", data, test.string());
  YOLO_CHECK(!val.empty() || !test.empty(), "{} has no val/ (or test/) folder to validate on: {}", root.string(),
             kLayout);
  for (const auto& split : {val, test}) {
    if (split.empty()) continue;
    check_same_classes(split, spec.names);
    warn_about_loose_images(split);
  }
  spec.val = {(val.empty() ? test : val).string()};
  spec.test = {(test.empty() ? val : test).string()};
  return spec;
}

std::vector<LabelledImage> scan_class_folders(const std::string& split_dir, const std::vector<std::string>& names) {
  std::vector<LabelledImage> candidates;
  for (size_t label = 0; label < names.size(); ++label) {
    const fs::path folder = fs::path(split_dir) / names[label];
    YOLO_CHECK(fs::is_directory(folder), "InvalidDataset: {} has no folder for class '{}'", split_dir, names[label]);
    // ImageFolder's order: os.walk's folders sorted, files sorted within each.
    std::vector<std::pair<std::string, std::string>> files;  // (folder, name)
    for (const auto& entry : fs::recursive_directory_iterator(folder, fs::directory_options::follow_directory_symlink))
      if (entry.is_regular_file() && is_image_file(entry.path()))
        files.emplace_back(entry.path().parent_path().string(), entry.path().filename().string());
    YOLO_CHECK(!files.empty(), "{}: empty class folder: class '{}' has no images in this split; add images or remove "
               "the folder from every split", folder.string(), names[label]);
    std::sort(files.begin(), files.end());
    for (const auto& [dir, name] : files)
      candidates.push_back({(fs::path(dir) / name).string(), static_cast<int64_t>(label)});
  }
  std::vector<std::string> problems(candidates.size());
  parallel_for(candidates.size(), [&](size_t i) { problems[i] = verify_image(candidates[i].file); });
  std::vector<LabelledImage> usable;
  int64_t corrupt = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (problems[i].empty()) {
      usable.push_back(std::move(candidates[i]));
    } else {
      log_warning("{}", problems[i]);
      ++corrupt;
    }
  }
  log_info("Scanning {}... {} images, {} corrupt", split_dir, usable.size(), corrupt);
  YOLO_CHECK(!usable.empty(), "{}: none of its {} images can be read (see the warnings above)", split_dir,
             candidates.size());
  return usable;
}

ClassificationDataset::ClassificationDataset(const std::string& split_dir, const std::vector<std::string>& names,
                                             DatasetOptions options)
    : options_(std::move(options)), names_(names) {
  YOLO_CHECK(options_.imgsz > 0, "imgsz={} must be positive", options_.imgsz);
  if (options_.cache == "false" || options_.cache == "False") options_.cache.clear();
  YOLO_CHECK(options_.cache.empty() || options_.cache == "ram" || options_.cache == "disk",
             "cache={} is not one of ram, disk or false", options_.cache);
  YOLO_CHECK(options_.fraction > 0 && options_.fraction <= 1, "fraction={} must be in (0, 1]", options_.fraction);
  images_ = scan_class_folders(split_dir, names_);
  if (options_.augment && options_.fraction < 1)  // as Ultralytics: the first part, in folder order
    images_.resize(std::max<size_t>(1, static_cast<size_t>(std::nearbyint(images_.size() * options_.fraction))));
  if (options_.cache == "disk") {
    std::vector<std::string> files;
    for (const auto& im : images_) files.push_back(im.file);
    cache_to_disk(files);
  } else if (options_.cache == "ram") {
    std::vector<std::shared_ptr<const cv::Mat>> decoded(images_.size());
    parallel_for(images_.size(), [&](size_t i) { decoded[i] = std::make_shared<const cv::Mat>(decode(i)); });
    size_t bytes = 0;
    for (const auto& im : decoded) bytes += im->total() * im->elemSize();
    cached_ = std::move(decoded);
    log_info("Cached {} images in RAM ({:.1f} GB)", images_.size(), bytes / 1e9);
  }
}

cv::Mat ClassificationDataset::decode(size_t index) const {
  return read_image(images_[index].file, options_.cache == "disk");
}

Sample ClassificationDataset::get(size_t index, Rng& rng, const std::vector<size_t>& /*recent*/) const {
  YOLO_CHECK(index < images_.size(), "sample index {} out of range ({} images)", index, images_.size());
  auto bgr = cached_.empty() ? std::make_shared<const cv::Mat>(decode(index)) : cached_[index];
  cv::Mat rgb;
  cv::cvtColor(*bgr, rgb, cv::COLOR_BGR2RGB);
  Sample s;
  s.image = options_.augment ? classify_train_transform(rgb, options_.imgsz, options_.hyp, rng)
                             : classify_eval_transform(rgb, options_.imgsz);
  s.to_rgb = false;  // already RGB
  s.label = images_[index].label;
  s.path = images_[index].file;
  s.orig_shape = {bgr->rows, bgr->cols};
  return s;
}

}  // namespace data
YOLO_END_NAMESPACE
