#pragma once
// An exclusive lock between processes on one machine (or over a shared file system), so that two
// programs or DDP ranks asking for the same download fetch it once: the first holds the lock and
// downloads, the others wait for it and then find the file in place.
#include <filesystem>
#include <string>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

class FileLock {
 public:
  /// Blocks until this process holds the lock file `path` (created if absent). `what` names the
  /// guarded work in the message logged when another process holds it.
  FileLock(std::filesystem::path path, const std::string& what);
  /// Removes the lock file and releases it.
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace io
YOLO_END_NAMESPACE
