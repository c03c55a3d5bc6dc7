#include "io/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

FileLock::FileLock(std::filesystem::path path, const std::string& what) : path_(std::move(path)) {
  std::error_code ec;
  std::filesystem::create_directories(path_.parent_path(), ec);
  bool told = false;
  while (true) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    YOLO_CHECK(fd_ >= 0, "cannot create the lock file {}: {} — is the folder writable?", path_.string(),
               std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (!told) log_info("Waiting for another process to finish {} (lock {})", what, path_.string());
      told = true;
      int status;
      while ((status = ::flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {
      }
      if (status != 0) {
        const int error = errno;
        ::close(fd_);
        YOLO_FAIL("cannot lock {}: {}", path_.string(), std::strerror(error));
      }
    }
    // The holder removes the file before releasing it: a lock on a removed (or replaced) file guards
    // nothing, so start again on the file now at the path.
    struct stat held {}, current {};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &current) == 0 && held.st_ino == current.st_ino &&
        held.st_dev == current.st_dev)
      return;
    ::close(fd_);
  }
}

FileLock::~FileLock() {
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace io
YOLO_END_NAMESPACE
