#pragma once
// Files fetched over HTTP(S) with libcurl: resume of partial files, retries with back-off, size and
// checksum checks, a lock so that concurrent processes fetch a file once, progress through the
// library's log. Environment:
//   YOLO_OFFLINE=1          never touch the network: a missing file is an error naming its URL
//   YOLO_ASSETS_URL=<url>   replaces https://github.com/ultralytics/assets/releases/download
//   YOLO_TORCHVISION_URL=<url>  replaces https://download.pytorch.org/models
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// One file to fetch.
struct DownloadRequest {
  std::string url;               ///< canonical URL; mirrored_url() is applied when fetching
  std::filesystem::path file;    ///< where the file ends up
  std::optional<uint64_t> size;  ///< expected bytes, when published
  std::string sha256;            ///< expected digest, or its leading hex digits; empty when unknown
};

struct DownloadOptions {
  int attempts = 4;                          ///< tries that receive nothing before giving up
  std::chrono::milliseconds backoff{1000};  ///< pause after a failed try, doubled after each further one
  long connect_timeout_s = 30;
  long stall_timeout_s = 60;  ///< a transfer under 1 kB/s for this long is cut and retried (resuming)
};

/// Fetches `request.url` into `request.file` unless that file exists. Bytes go to `<file>.part`
/// first, which a later call resumes (HTTP Range) after an interruption; the file appears, by a
/// rename, only complete and checked. Server errors (5xx, 408, 429) and broken connections are
/// retried; other HTTP errors, a wrong size or checksum and offline mode throw yolo::Error naming
/// the URL and the file.
void download_file(const DownloadRequest& request, const DownloadOptions& options = {});

/// True when YOLO_OFFLINE is 1, true, yes or on (any case).
bool offline();

/// The URL actually fetched for `url`, after the YOLO_ASSETS_URL / YOLO_TORCHVISION_URL mirrors.
std::string mirrored_url(const std::string& url);

/// True for http:// and https:// URLs.
bool is_url(const std::string& text);

/// The file name a URL ends with, without query or fragment ("https://x/a/coco8.zip?dl=1" -> "coco8.zip").
std::string url_file_name(const std::string& url);

}  // namespace io
YOLO_END_NAMESPACE
