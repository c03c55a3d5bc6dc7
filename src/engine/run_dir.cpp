#include "engine/run_dir.h"

#include <filesystem>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

namespace fs = std::filesystem;

std::string increment_path(const std::string& path, bool exist_ok, bool mkdir) {
  std::string chosen = path;
  if (fs::exists(path) && !exist_ok) {
    for (int n = 2;; ++n) {
      chosen = path + std::to_string(n);
      if (!fs::exists(chosen)) break;
    }
  }
  if (mkdir) {
    std::error_code ec;
    fs::create_directories(chosen, ec);
    YOLO_CHECK(!ec, "cannot create run folder '{}': {} — set project=... to a writable folder", chosen, ec.message());
  }
  return chosen;
}

std::string run_folder(const std::string& project, const std::string& task, const std::string& name,
                       const std::string& mode, bool exist_ok) {
  const std::string base = project.empty() ? (fs::path("runs") / task).string() : project;
  const std::string leaf = name.empty() ? mode : name;
  return increment_path((fs::path(base) / leaf).string(), exist_ok);
}

}  // namespace engine
YOLO_END_NAMESPACE
