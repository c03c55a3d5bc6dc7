#include "data/dataset_download.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>

#include <fmt/ranges.h>

#include "data/builtin_datasets.h"
#include "io/archive.h"
#include "io/download.h"
#include "io/file_lock.h"
#include "utils/suggest.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

/// One archive of a dataset and the folder it is extracted into.
struct Archive {
  std::string url;
  fs::path dir;
};

/// Left while a download runs: a dataset folder beside it may be half-made, so it is fetched again.
fs::path incomplete_marker(const fs::path& root) {
  return root.parent_path() / ("." + root.filename().string() + ".incomplete");
}

bool complete(const fs::path& root, const std::function<bool()>& in_place) {
  return in_place() && !fs::exists(incomplete_marker(root));
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

[[noreturn]] void refuse_script(const std::string& script, const std::string& yaml_name, const fs::path& root) {
  static const std::regex url_pattern(R"(https?://[^\s'"(){}\[\],]+)");
  std::vector<std::string> urls;
  for (auto it = std::sregex_iterator(script.begin(), script.end(), url_pattern); it != std::sregex_iterator(); ++it) {
    const std::string url = io::mirrored_url(it->str());
    if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(url);
  }
  YOLO_FAIL("{}: the dataset is not at {} and the YAML's `download:` is a script, which Ultralytics runs (as Python "
            "or shell) and yolocpp does not.{} Put the dataset at {} so that the YAML's train and val paths exist "
            "there, or let Ultralytics download it once (`yolo train data={}` in Python) and point datasets_dir= "
            "(or YOLO_DATASETS_DIR) at its datasets folder.",
            yaml_name, root.string(),
            urls.empty() ? std::string(" It names no URL.")
                         : fmt::format(" The URLs it names, to fetch by hand:\n  {}\n", fmt::join(urls, "\n  ")),
            root.string(), fs::path(yaml_name).filename().string());
}

std::vector<Archive> archives_of(const YAML::Node& download, const std::string& yaml_name, const fs::path& root) {
  std::vector<Archive> archives;
  const auto add = [&](const std::string& url, const fs::path& dir) {
    YOLO_CHECK(io::is_url(url), "{}: download: '{}' is not an http(s) URL", yaml_name, url);
    const std::string file = io::url_file_name(url);
    YOLO_CHECK(file.size() > 4 && file.compare(file.size() - 4, 4, ".zip") == 0,
               "{}: download: {} is not a .zip archive; yolocpp downloads and extracts .zip files only", yaml_name,
               url);
    archives.push_back({url, dir});
  };
  if (download.IsScalar()) {
    const std::string text = trim(download.as<std::string>());
    if (!io::is_url(text) || text.find_first_of(" \t\r\n") != std::string::npos) refuse_script(text, yaml_name, root);
    add(text, root.parent_path());
  } else if (download.IsSequence()) {
    for (const auto& item : download) {
      if (item.IsScalar()) {
        add(trim(item.as<std::string>()), root.parent_path());
        continue;
      }
      YOLO_CHECK(item.IsMap() && item["url"], "{}: download: each item is a URL or {{url: ..., dir: ...}}", yaml_name);
      fs::path dir = root.parent_path();
      if (item["dir"]) {
        const fs::path inside = item["dir"].as<std::string>();
        const bool climbs = std::any_of(inside.begin(), inside.end(), [](const fs::path& p) { return p == ".."; });
        YOLO_CHECK(inside.is_relative() && !climbs,
                   "{}: download: dir: {} must be a folder inside the dataset folder (relative, no '..')", yaml_name,
                   inside.string());
        dir = root / inside;
      }
      add(trim(item["url"].as<std::string>()), dir);
    }
  } else {
    YOLO_FAIL("{}: download: must be a URL, a list of URLs, or a script", yaml_name);
  }
  return archives;
}

/// Downloads and extracts `archives` unless another process has completed the dataset meanwhile.
void fetch(const std::vector<Archive>& archives, const std::string& name, const fs::path& root,
           const std::function<bool()>& in_place) {
  const fs::path parent = root.parent_path();
  fs::create_directories(parent);
  io::FileLock lock(parent / ("." + root.filename().string() + ".lock"), "downloading dataset " + name);
  if (complete(root, in_place)) return;  // another process (or DDP rank) downloaded it while this one waited
  if (io::offline()) {
    std::vector<std::string> steps;
    for (const auto& a : archives) steps.push_back(fmt::format("{} extracted into {}", io::mirrored_url(a.url), a.dir.string()));
    YOLO_FAIL("{}: the dataset is not at {} and YOLO_OFFLINE is set, so it is not downloaded: fetch by hand\n  {}\n"
              "(or unset YOLO_OFFLINE)",
              name, root.string(), fmt::join(steps, "\n  "));
  }
  log_info("Dataset '{}' not found at {}: downloading it", name, root.string());
  std::ofstream(incomplete_marker(root)) << "A download of " << name << " was cut short: the next use fetches it again.\n";
  for (const auto& archive : archives) {
    const fs::path zip = archive.dir / io::url_file_name(archive.url);
    io::download_file({archive.url, zip});
    try {
      io::extract_zip(zip, archive.dir);
    } catch (const Error& e) {
      fs::remove(zip);  // a refused or damaged archive would only fail again
      YOLO_FAIL("{} (the archive was removed)", e.what());
    }
    fs::remove(zip);
  }
  fs::remove(incomplete_marker(root));
  YOLO_CHECK(in_place(),
             "{}: downloaded and extracted the dataset, but it is still not complete at {}: the archive's folders do "
             "not match the YAML's path, train and val",
             name, root.string());
  log_info("Dataset '{}' ready in {}", name, root.string());
}

}  // namespace

fs::path resolve_datasets_dir(const std::string& given) {
  if (!given.empty()) return fs::absolute(given);
  if (const char* env = std::getenv("YOLO_DATASETS_DIR"); env && *env) return fs::absolute(env);
  return fs::absolute("datasets");
}

void ensure_dataset(const YAML::Node& download, const std::string& yaml_name, const fs::path& root,
                    const std::function<bool()>& in_place) {
  if (complete(root, in_place)) return;
  fetch(archives_of(download, yaml_name, root), yaml_name, root, in_place);
}

std::vector<std::string> classification_dataset_names() {
  return {"caltech101",    "caltech256", "cifar10",      "cifar100",     "fashion-mnist",
          "imagenet10",    "imagenette", "imagenette160", "imagenette320", "imagewoof",
          "imagewoof160",  "imagewoof320", "mnist",      "mnist160"};
}

std::string classification_dataset_root(const std::string& data, const std::string& datasets_dir) {
  const fs::path datasets = resolve_datasets_dir(datasets_dir);
  if (io::is_url(data)) {
    const fs::path root = datasets / fs::path(io::url_file_name(data)).stem();
    const auto in_place = [&] { return fs::is_directory(root); };
    if (!complete(root, in_place)) fetch({{data, datasets}}, data, root, in_place);
    return root.string();
  }
  std::error_code ec;
  if (fs::is_directory(data, ec)) return fs::weakly_canonical(data).string();
  const fs::path root = datasets / data;
  const auto in_place = [&] { return fs::is_directory(root); };
  if (complete(root, in_place)) return root.string();
  YOLO_CHECK(data != "imagenet",
             "data=imagenet: ImageNet cannot be downloaded by name (it needs an image-net.org account); lay ILSVRC2012 "
             "out as {0}/train/<class>/*.JPEG and {0}/val/<class>/*.JPEG",
             root.string());
  const auto names = classification_dataset_names();
  YOLO_CHECK(std::find(names.begin(), names.end(), data) != names.end(),
             "data={}: no such folder (looked at {} and {}), and not a dataset downloadable by name.{} Downloadable: {}",
             data, fs::absolute(data).string(), root.string(), did_you_mean(data, names), fmt::join(names, ", "));
  fetch({{kDatasetAssets + data + ".zip", datasets}}, data, root, in_place);
  return root.string();
}

}  // namespace data
YOLO_END_NAMESPACE
