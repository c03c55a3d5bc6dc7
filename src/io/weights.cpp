#include "io/weights.h"

#include <cstdlib>
#include <map>
#include <optional>

#include <fmt/ranges.h>

#include "io/download.h"
#include "utils/suggest.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace io {
namespace {

constexpr const char* kAssetsRelease = "https://github.com/ultralytics/assets/releases/download/v8.3.0/";
constexpr const char* kTorchvisionModels = "https://download.pytorch.org/models/";

/// torchvision 0.14's IMAGENET1K_V1 files. Their names end in the first hex digits of the file's
/// SHA-256 (torch.hub's naming rule), which the download is checked against.
const std::map<std::string, std::string>& torchvision_files() {
  static const std::map<std::string, std::string> files{
      {"resnet18", "resnet18-f37072fd.pth"},
      {"resnet34", "resnet34-b627a593.pth"},
      {"resnet50", "resnet50-0676ba61.pth"},
      {"resnet101", "resnet101-63fe2227.pth"},
      {"resnet152", "resnet152-394f9c45.pth"},
      {"resnext50_32x4d", "resnext50_32x4d-7cdf4587.pth"},
      {"resnext101_32x8d", "resnext101_32x8d-8ba56ff5.pth"},
      {"resnext101_64x4d", "resnext101_64x4d-173b62eb.pth"},
      {"wide_resnet50_2", "wide_resnet50_2-95faca4d.pth"},
      {"wide_resnet101_2", "wide_resnet101_2-32ee1156.pth"},
      {"densenet121", "densenet121-a639ec97.pth"},
      {"densenet161", "densenet161-8d451a50.pth"},
      {"densenet169", "densenet169-b2777c0a.pth"},
      {"densenet201", "densenet201-c1103571.pth"},
  };
  return files;
}

/// Ultralytics' release assets of the model families yolocpp builds (GITHUB_ASSETS_NAMES).
const std::vector<std::string>& asset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const char scale : std::string("nsmlx")) {
      for (const char* task : {"", "-cls", "-seg", "-pose", "-obb", "-oiv7"})
        all.push_back(fmt::format("yolov8{}{}.pt", scale, task));
      for (const char* task : {"", "-cls", "-seg", "-pose", "-obb"}) all.push_back(fmt::format("yolo11{}{}.pt", scale, task));
      all.push_back(fmt::format("yolo12{}.pt", scale));
    }
    return all;
  }();
  return names;
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

/// $XDG_CACHE_HOME, else ~/.cache, else the working folder.
fs::path user_cache() {
  if (const auto xdg = env_or_empty("XDG_CACHE_HOME"); !xdg.empty()) return xdg;
  if (const auto home = env_or_empty("HOME"); !home.empty()) return fs::path(home) / ".cache";
  return fs::current_path() / ".cache";
}

/// torch.hub's checkpoint folder: $TORCH_HOME/hub/checkpoints, TORCH_HOME defaulting to <cache>/torch.
fs::path torch_hub_checkpoints() {
  const auto torch_home = env_or_empty("TORCH_HOME");
  return (torch_home.empty() ? user_cache() / "torch" : fs::path(torch_home)) / "hub" / "checkpoints";
}

struct Published {
  std::string url, sha256;
  fs::path cache;
};

std::optional<Published> published(const std::string& name) {
  for (const auto& asset : asset_names())
    if (asset == name) return Published{kAssetsRelease + name, "", weights_dir()};
  for (const auto& [architecture, file] : torchvision_files()) {
    if (file != name) continue;
    const auto dash = file.rfind('-'), dot = file.rfind('.');
    return Published{kTorchvisionModels + file, file.substr(dash + 1, dot - dash - 1), torch_hub_checkpoints()};
  }
  return std::nullopt;
}

}  // namespace

fs::path weights_dir() {
  const auto dir = env_or_empty("YOLO_WEIGHTS_DIR");
  return dir.empty() ? user_cache() / "yolocpp" / "weights" : fs::path(dir);
}

std::vector<std::string> published_weights_names() {
  std::vector<std::string> names = asset_names();
  for (const auto& entry : torchvision_files()) names.push_back(entry.second);
  return names;
}

std::string resolve_weights(const std::string& path) {
  std::error_code ec;
  if (is_url(path)) {
    const fs::path local = weights_dir() / url_file_name(path);
    download_file({path, local});
    return local.string();
  }
  if (fs::exists(path, ec)) return path;
  const fs::path given(path);
  const auto release = published(given.filename().string());
  if (!release) return path;
  const fs::path local = given.has_parent_path() ? given : release->cache / given;
  download_file({release->url, local, std::nullopt, release->sha256});
  return local.string();
}

std::string torchvision_weights(const std::string& architecture) {
  const auto& files = torchvision_files();
  const auto it = files.find(architecture);
  if (it == files.end()) {
    std::vector<std::string> known;
    for (const auto& entry : files) known.push_back(entry.first);
    YOLO_FAIL("no torchvision ImageNet weights are known for '{}'.{} Known: {}", architecture,
              did_you_mean(architecture, known), fmt::join(known, ", "));
  }
  return resolve_weights(it->second);
}

}  // namespace io
YOLO_END_NAMESPACE
