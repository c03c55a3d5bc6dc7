#include "io/download.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "io/file_lock.h"
#include "io/sha256.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace io {
namespace {

struct Mirror {
  const char* canonical_prefix;
  const char* env;
};
constexpr Mirror kMirrors[] = {
    {"https://github.com/ultralytics/assets/releases/download", "YOLO_ASSETS_URL"},
    {"https://download.pytorch.org/models", "YOLO_TORCHVISION_URL"},
};

std::string human_size(uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  return b < 1e6 ? fmt::format("{:.1f} kB", b / 1e3) : b < 1e9 ? fmt::format("{:.1f} MB", b / 1e6)
                                                              : fmt::format("{:.2f} GB", b / 1e9);
}

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    YOLO_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "libcurl failed to initialise");
  });
}

/// The state of one try: where bytes go, how many came, and the progress line.
struct Transfer {
  std::FILE* out = nullptr;
  uint64_t offset = 0;            // bytes already in the .part file when the try started
  uint64_t received = 0;          // bytes this try
  std::optional<uint64_t> limit;  // the expected size: more is an error, not a bigger file
  bool overflow = false;
  std::string name;
  int64_t last_step = -1;
};

size_t on_data(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (t.limit && t.offset + t.received + bytes > *t.limit) {
    t.overflow = true;
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  if (std::fwrite(data, 1, bytes, t.out) != bytes) return 0;
  t.received += bytes;
  return bytes;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(user);
  const uint64_t done = t.offset + static_cast<uint64_t>(now);
  const uint64_t whole = total > 0 ? t.offset + static_cast<uint64_t>(total) : 0;
  // One line per percent when the size is known, per MiB otherwise.
  const int64_t step = whole > 0 ? static_cast<int64_t>(100 * done / whole) : static_cast<int64_t>(done >> 20);
  if (step != t.last_step) {
    t.last_step = step;
    log_progress(whole > 0 ? fmt::format("Downloading {}: {:3d}% {}/{}", t.name, step, human_size(done), human_size(whole))
                           : fmt::format("Downloading {}: {}", t.name, human_size(done)),
                 false);
  }
  return 0;
}

uint64_t file_size_or_zero(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

/// What became of one try.
enum class Outcome { Complete, Retry, Restart, Fail };

struct TryResult {
  Outcome outcome;
  std::string error;     // for everything but Complete
  bool discard = false;  // the partial file is wrong, not merely short: resuming it makes no sense
  uint64_t received = 0;
};

TryResult fetch_once(const std::string& url, const fs::path& part, const DownloadRequest& request,
                     const DownloadOptions& options) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  YOLO_CHECK(curl, "libcurl could not start a transfer");
  Transfer t;
  t.offset = file_size_or_zero(part);
  t.limit = request.size;
  t.name = request.file.filename().string();
  t.out = std::fopen(part.c_str(), "ab");
  YOLO_CHECK(t.out, "cannot write {}: {}", part.string(), std::strerror(errno));
  char error_buffer[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);  // GitHub release assets redirect to their storage
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);  // an error page is an error, never the file's bytes
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "yolocpp/" YOLO_VERSION_STRING);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
  curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(t.offset));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  const CURLcode code = curl_easy_perform(h);
  long http = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
  const bool closed = std::fclose(t.out) == 0;

  TryResult result{Outcome::Retry};
  const std::string what = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  if (code == CURLE_OK) {
    YOLO_CHECK(closed, "cannot write {}: {}", part.string(), std::strerror(errno));
    result.outcome = Outcome::Complete;
  } else if (t.overflow) {
    result = {Outcome::Fail, fmt::format("the server sent more than the expected {} bytes", *request.size), true};
  } else if (code == CURLE_RANGE_ERROR || (code == CURLE_HTTP_RETURNED_ERROR && http == 416)) {
    result = {Outcome::Restart, "the server cannot resume the partial file"};
  } else if (code == CURLE_HTTP_RETURNED_ERROR) {
    const bool transient = http >= 500 || http == 408 || http == 429;
    result = {transient ? Outcome::Retry : Outcome::Fail,
              fmt::format("HTTP {}{}", http, http == 404 ? " (not found: check the name and the URL)" : "")};
  } else if (code == CURLE_WRITE_ERROR) {
    result = {Outcome::Fail, fmt::format("cannot write {}: {}", part.string(), std::strerror(errno))};
  } else if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT || code == CURLE_TOO_MANY_REDIRECTS) {
    result = {Outcome::Fail, what};
  } else {
    result.error = what;  // connection refused or cut, timeouts, TLS hiccups: try again
  }
  result.received = t.received;
  return result;
}

/// Checks a complete .part file against the expected size and digest; returns what is wrong, or "".
std::string verify(const fs::path& part, const DownloadRequest& request) {
  const uint64_t size = file_size_or_zero(part);
  if (request.size && size != *request.size)
    return fmt::format("it has {} bytes, {} were expected", size, *request.size);
  if (!request.sha256.empty()) {
    std::string expected = request.sha256;
    std::transform(expected.begin(), expected.end(), expected.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string actual = sha256_file(part.string());
    if (actual.compare(0, expected.size(), expected) != 0)
      return fmt::format("its SHA-256 is {}, {} was expected", actual, expected);
  }
  return "";
}

}  // namespace

bool offline() {
  const char* value = std::getenv("YOLO_OFFLINE");
  if (!value) return false;
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

std::string mirrored_url(const std::string& url) {
  for (const auto& mirror : kMirrors) {
    const std::string prefix = mirror.canonical_prefix;
    const char* replacement = std::getenv(mirror.env);
    if (replacement && *replacement && url.compare(0, prefix.size(), prefix) == 0) {
      std::string base = replacement;
      while (!base.empty() && base.back() == '/') base.pop_back();
      return base + url.substr(prefix.size());
    }
  }
  return url;
}

bool is_url(const std::string& text) { return text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0; }

std::string url_file_name(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  return path.substr(path.find_last_of('/') + 1);
}

void download_file(const DownloadRequest& request, const DownloadOptions& options) {
  const fs::path& file = request.file;
  if (fs::exists(file)) return;
  const std::string url = mirrored_url(request.url);
  YOLO_CHECK(!offline(),
             "{} is not on disk and YOLO_OFFLINE is set, so it is not downloaded: fetch {} by hand and put it in {} "
             "(or unset YOLO_OFFLINE)",
             file.filename().string(), url, fs::absolute(file).parent_path().string());
  fs::create_directories(file.parent_path().empty() ? fs::path(".") : file.parent_path());
  FileLock lock(fs::path(file.string() + ".lock"), "downloading " + file.filename().string());
  if (fs::exists(file)) return;  // another process fetched it while this one waited
  init_curl();

  const fs::path part = file.string() + ".part";
  const auto fail = [&](const std::string& why) {
    // Keep what came for the next call to resume; an empty file only hides the error.
    if (file_size_or_zero(part) == 0) fs::remove(part);
    YOLO_FAIL("cannot download {} to {}: {}", url, file.string(), why);
  };
  if (const uint64_t have = file_size_or_zero(part); have > 0)
    log_info("Resuming {} at {} from {}", file.string(), human_size(have), url);
  else
    log_info("Downloading {} to {}", url, file.string());
  int failures = 0;
  bool restarted = false;
  while (true) {
    const uint64_t had = file_size_or_zero(part);
    // A part as large as the whole is complete already: check it rather than ask for zero bytes.
    const bool complete = request.size && had == *request.size;
    const TryResult result = complete ? TryResult{Outcome::Complete} : fetch_once(url, part, request, options);
    if (result.outcome == Outcome::Complete) {
      const std::string wrong = verify(part, request);
      if (wrong.empty()) break;
      fs::remove(part);
      // A resumed file may join two versions of the file: fetch it whole once before blaming the server.
      if (had > 0 && !restarted) {
        restarted = true;
        log_warning("{}: the resumed download does not check out ({}); downloading it again from the start",
                    file.string(), wrong);
        continue;
      }
      YOLO_FAIL("downloaded {} but {}: the file was removed (corrupted transfer or changed upstream file)", url, wrong);
    }
    if (result.outcome == Outcome::Restart && !restarted) {
      restarted = true;
      fs::remove(part);
      log_warning("{}: {}; downloading it again from the start", url, result.error);
      continue;
    }
    if (result.outcome != Outcome::Retry) {
      if (result.discard) fs::remove(part);
      fail(result.error);
    }
    failures = result.received > 0 ? 1 : failures + 1;  // a try that brought data does not use up the budget
    if (failures >= options.attempts) fail(fmt::format("{} (gave up after {} tries)", result.error, options.attempts));
    const auto delay = options.backoff * (1 << std::min(failures - 1, 10));
    log_warning("Download of {} interrupted ({}); retrying in {:.1f} s{}", url, result.error, delay.count() / 1000.0,
                file_size_or_zero(part) > 0 ? fmt::format(", resuming at {}", human_size(file_size_or_zero(part))) : "");
    std::this_thread::sleep_for(delay);
  }
  std::error_code ec;
  fs::rename(part, file, ec);
  YOLO_CHECK(!ec, "cannot rename {} to {}: {}", part.string(), file.string(), ec.message());
  log_progress(fmt::format("Downloaded {} ({})", file.filename().string(), human_size(file_size_or_zero(file))), true);
}

}  // namespace io
YOLO_END_NAMESPACE
