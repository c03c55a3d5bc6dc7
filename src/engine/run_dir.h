#pragma once
// Run folders as Ultralytics names them: runs/detect/train, train2, train3, ...
#include <string>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

/// `path` if it does not exist (or exist_ok), else the first free `path2`, `path3`, ...; creates it when `mkdir`.
std::string increment_path(const std::string& path, bool exist_ok, bool mkdir = true);

/// The default project folder for a task and mode's run folder: "runs/<task>" unless `project` is set.
std::string run_folder(const std::string& project, const std::string& task, const std::string& name,
                       const std::string& mode, bool exist_ok);

}  // namespace engine
YOLO_END_NAMESPACE
