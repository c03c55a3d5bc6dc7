#include "io/archive.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <utility>

#include "io/zip.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace io {
namespace {

constexpr uint64_t kRatioFloor = uint64_t{64} << 20;

/// The archive's bytes, mapped read-only for as long as the returned owner lives.
std::pair<std::shared_ptr<const void>, std::string_view> map_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  YOLO_CHECK(fd >= 0, "cannot open the archive {}: {}", path.string(), std::strerror(errno));
  struct stat info {};
  const bool ok = ::fstat(fd, &info) == 0;
  const auto size = static_cast<size_t>(info.st_size);
  void* data = ok && size > 0 ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  const int error = errno;
  ::close(fd);
  YOLO_CHECK(ok && size > 0, "{}: not a zip archive (the file is empty)", path.string());
  YOLO_CHECK(data != MAP_FAILED, "cannot read the archive {}: {}", path.string(), std::strerror(error));
  std::shared_ptr<const void> owner(data, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return {owner, std::string_view(static_cast<const char*>(data), size)};
}

/// A member's path relative to the target, with '.' and empty components dropped; throws for
/// absolute paths and '..'. Backslashes count as separators, as Windows tools write them.
std::string member_path(const std::string& name, const std::string& archive) {
  const auto refuse = [&](const char* why) {
    YOLO_FAIL("refused to extract {}: member '{}' {}; nothing was extracted", archive, name, why);
  };
  if (name.find('\0') != std::string::npos) refuse("has a NUL byte in its name");
  std::string n = name;
  std::replace(n.begin(), n.end(), '\\', '/');
  if (!n.empty() && n[0] == '/') refuse("has an absolute path");
  if (n.size() >= 2 && std::isalpha(static_cast<unsigned char>(n[0])) && n[1] == ':') refuse("has a drive letter");
  std::string path;
  size_t start = 0;
  while (start <= n.size()) {
    const size_t end = std::min(n.find('/', start), n.size());
    const std::string part = n.substr(start, end - start);
    if (part == "..") refuse("points outside the target folder ('..')");
    if (!part.empty() && part != ".") path += (path.empty() ? "" : "/") + part;
    start = end + 1;
  }
  return path;
}

struct Member {
  const ZipEntry* entry;
  std::string path;
  bool directory;
};

/// Every check that needs no writing: names, kinds, methods, counts, sizes, overlaps, disk room.
std::vector<Member> plan(const ZipReader& zip, uint64_t archive_size, const fs::path& target,
                         const ExtractLimits& limits) {
  const std::string& archive = zip.source_name();
  const auto refuse = [&](const std::string& why) {
    YOLO_FAIL("refused to extract {}: {}; nothing was extracted", archive, why);
  };
  if (zip.entries().size() > limits.max_entries)
    refuse(fmt::format("it has {} members, more than the limit of {}", zip.entries().size(), limits.max_entries));
  std::vector<Member> members;
  std::set<std::string> named, files, folders;
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  uint64_t total = 0;
  for (const auto& entry : zip.entries()) {
    const std::string path = member_path(entry.name, archive);
    const uint32_t kind = entry.unix_mode & S_IFMT;
    const bool directory = (!entry.name.empty() && (entry.name.back() == '/' || entry.name.back() == '\\')) ||
                           kind == S_IFDIR;
    if (kind == S_IFLNK) refuse(fmt::format("member '{}' is a symbolic link", entry.name));
    if (kind != 0 && kind != S_IFREG && kind != S_IFDIR)
      refuse(fmt::format("member '{}' is a special file (mode {:o})", entry.name, entry.unix_mode));
    if (entry.method != 0 && entry.method != 8)
      refuse(fmt::format("member '{}' uses zip method {} (only stored and deflate are read)", entry.name, entry.method));
    if (entry.flags & 1) refuse(fmt::format("member '{}' is encrypted", entry.name));
    if (path.empty()) {
      if (!directory) refuse(fmt::format("member '{}' has no file name", entry.name));
      continue;  // "./": the target itself
    }
    if (!named.insert(path).second) refuse(fmt::format("member '{}' appears twice", entry.name));
    (directory ? folders : files).insert(path);
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
      folders.insert(path.substr(0, slash));
    if (!directory) {
      total += entry.size;
      if (entry.compressed_size > 0) spans.emplace_back(entry.data_offset, entry.data_offset + entry.compressed_size);
    }
    if (total > limits.max_total_bytes)
      refuse(fmt::format("its members add up to more than the limit of {} bytes", limits.max_total_bytes));
    members.push_back({&entry, path, directory});
  }
  for (const auto& file : files)
    if (folders.count(file)) refuse(fmt::format("'{}' is both a file and a folder", file));
  // Members sharing compressed bytes are how small archives expand without limit.
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second) refuse("its members overlap (a zip bomb)");
  if (total > kRatioFloor && static_cast<double>(total) > limits.max_ratio * static_cast<double>(archive_size))
    refuse(fmt::format("{} bytes would expand to {} (more than {}:1, a zip bomb?)", archive_size, total,
                       limits.max_ratio));
  const uint64_t room = fs::space(target).available;
  if (total > room)
    refuse(fmt::format("it needs {} bytes and {} has {} free", total, target.string(), room));
  return members;
}

void write_member(const ZipReader& zip, const ZipEntry& entry, const fs::path& path) {
  fs::create_directories(path.parent_path());
  // The staging folder is new and only this code creates anything in it, so no link can redirect a
  // write; O_EXCL | O_NOFOLLOW still refuse whatever would be there.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  YOLO_CHECK(fd >= 0, "cannot create {}: {}", path.string(), std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  zip.extract(entry, [&](std::string_view chunk) {
    while (!chunk.empty()) {
      const ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      YOLO_CHECK(n > 0, "cannot write {}: {}", path.string(), std::strerror(errno));
      chunk.remove_prefix(static_cast<size_t>(n));
    }
  });
  YOLO_CHECK(::close(*closer.release()) == 0, "cannot write {}: {}", path.string(), std::strerror(errno));
}

/// Moves `from` to `to`: a rename when `to` is absent, a merge of folders, a replaced file. A dry
/// run only checks that every move is possible, so that a conflict stops before anything moved.
void move_into_place(const fs::path& from, const fs::path& to, bool dry_run) {
  const auto there = fs::symlink_status(to);
  if (!fs::exists(there)) {
    if (!dry_run) fs::rename(from, to);
  } else if (fs::is_directory(from) && fs::is_directory(to)) {
    for (const auto& child : fs::directory_iterator(from))
      move_into_place(child.path(), to / child.path().filename(), dry_run);
    if (!dry_run) fs::remove(from);
  } else {
    YOLO_CHECK(fs::is_regular_file(from) && fs::is_regular_file(there),
               "cannot extract {} there: {} exists and is not a {}; nothing was extracted", from.filename().string(),
               to.string(), fs::is_directory(from) ? "folder" : "file");
    if (!dry_run) fs::rename(from, to);
  }
}

/// A staging folder "<target>/.yolo-extract-<host>-<pid>-<n>", removed on every way out. Folders
/// left by killed processes of this host are removed when the next one is made.
struct Staging {
  fs::path path;

  explicit Staging(const fs::path& target) {
    static std::atomic<int> counter{0};
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    const std::string prefix = fmt::format(".yolo-extract-{}-", host);
    for (const auto& entry : fs::directory_iterator(target)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const pid_t pid = static_cast<pid_t>(std::atoll(name.c_str() + prefix.size()));
      std::error_code ec;
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
    }
    path = target / fmt::format("{}{}-{}", prefix, ::getpid(), counter++);
    fs::remove_all(path);
    fs::create_directory(path);
  }
  ~Staging() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

std::vector<std::string> extract_zip(const fs::path& archive, const fs::path& target, const ExtractLimits& limits) {
  auto [owner, bytes] = map_file(archive);
  YOLO_CHECK(looks_like_zip(bytes) || bytes.substr(0, 4) == std::string_view("PK\5\6", 4),
             "{}: not a zip archive (yolocpp extracts .zip files only)", archive.string());
  const ZipReader zip(owner, bytes, archive.string());
  fs::create_directories(target);
  const std::vector<Member> members = plan(zip, bytes.size(), target, limits);

  Staging staging(target);
  log_info("Extracting {} ({} members) to {}", archive.filename().string(), members.size(), target.string());
  for (const auto& member : members) {
    const fs::path path = staging.path / member.path;
    if (member.directory)
      fs::create_directories(path);
    else
      write_member(zip, *member.entry, path);
  }
  std::vector<std::string> placed;
  for (const auto& child : fs::directory_iterator(staging.path)) placed.push_back(child.path().filename().string());
  std::sort(placed.begin(), placed.end());
  for (const bool dry_run : {true, false})
    for (const auto& name : placed) move_into_place(staging.path / name, target / name, dry_run);
  return placed;
}

}  // namespace io
YOLO_END_NAMESPACE
