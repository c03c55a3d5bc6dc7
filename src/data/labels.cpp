#include "data/labels.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

constexpr uint64_t kCacheVersion = 1;
constexpr float kCoordTolerance = 1e-3f;  // rounding in exported labels, e.g. 1.0004
constexpr int kMinImageSide = 10;

bool is_jpeg(const std::string& path) {
  auto ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg";
}

// A JPEG cut short (an interrupted download) lacks the end-of-image marker FF D9.
bool jpeg_has_end_marker(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f || f.tellg() < 2) return false;
  f.seekg(-2, std::ios::end);
  unsigned char tail[2] = {0, 0};
  f.read(reinterpret_cast<char*>(tail), 2);
  return tail[0] == 0xFF && tail[1] == 0xD9;
}

// The cache key: every path with its size and modification time, the class count and the format.
uint64_t files_fingerprint(const std::vector<std::string>& image_files, int64_t nc) {
  uint64_t h = 1469598103934665603ull;
  auto feed = [&h](const void* data, size_t n) {
    const auto* b = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  auto feed_file = [&](const std::string& path) {
    feed(path.data(), path.size());
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const int64_t bytes = ec ? -1 : static_cast<int64_t>(size);
    const auto mtime = fs::last_write_time(path, ec);
    const int64_t stamp = ec ? -1 : static_cast<int64_t>(mtime.time_since_epoch().count());
    feed(&bytes, sizeof bytes);
    feed(&stamp, sizeof stamp);
  };
  feed(&kCacheVersion, sizeof kCacheVersion);
  feed(&nc, sizeof nc);
  for (const auto& im : image_files) {
    feed_file(im);
    feed_file(label_path_for(im));
  }
  return h;
}

// ---- the cache file: a small binary format, little-endian as the machine writes it --------
class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}
  template <typename T>
  void pod(const T& v) {
    out_.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }

 private:
  std::ostream& out_;
};

class Reader {
 public:
  explicit Reader(std::istream& in) : in_(in) {}
  template <typename T>
  T pod() {
    T v{};
    in_.read(reinterpret_cast<char*>(&v), sizeof v);
    if (!in_) throw std::runtime_error("truncated cache");
    return v;
  }
  std::string str() {
    const auto n = pod<uint64_t>();
    if (n > (1u << 20)) throw std::runtime_error("bad string length");
    std::string s(n, '\0');
    in_.read(s.data(), static_cast<std::streamsize>(n));
    if (!in_) throw std::runtime_error("truncated cache");
    return s;
  }

 private:
  std::istream& in_;
};

constexpr char kMagic[8] = {'Y', 'O', 'L', 'O', 'L', 'B', 'L', 'S'};

void write_cache(const std::string& path, uint64_t key, const ScanResult& r) {
  // A name of this process's own: the ranks of a distributed run may scan the same split at once.
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) {
      log_warning("cache directory {} is not writeable, labels will be scanned again next time",
                  fs::path(path).parent_path().string());
      return;
    }
    Writer w(out);
    out.write(kMagic, sizeof kMagic);
    w.pod(kCacheVersion);
    w.pod(key);
    const auto& s = r.summary;
    for (int64_t v : {s.found, s.missing, s.empty, s.corrupt, s.duplicates}) w.pod(v);
    w.pod<uint64_t>(s.messages.size());
    for (const auto& m : s.messages) w.str(m);
    w.pod<uint64_t>(r.labels.size());
    for (const auto& l : r.labels) {
      w.str(l.im_file);
      w.str(l.label_file);
      w.pod(l.height);
      w.pod(l.width);
      w.pod<uint64_t>(l.cls.size());
      for (size_t i = 0; i < l.cls.size(); ++i) {
        w.pod(l.cls[i]);
        w.pod(l.boxes[i]);
      }
    }
    if (!out) {
      log_warning("could not write the label cache {}", path);
      return;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    log_warning("could not write the label cache {}", path);
  }
}

bool read_cache(const std::string& path, uint64_t key, ScanResult& r) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  try {
    char magic[sizeof kMagic];
    in.read(magic, sizeof magic);
    if (!in || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return false;
    Reader rd(in);
    if (rd.pod<uint64_t>() != kCacheVersion || rd.pod<uint64_t>() != key) return false;
    auto& s = r.summary;
    s.found = rd.pod<int64_t>(), s.missing = rd.pod<int64_t>(), s.empty = rd.pod<int64_t>();
    s.corrupt = rd.pod<int64_t>(), s.duplicates = rd.pod<int64_t>();
    const auto n_messages = rd.pod<uint64_t>();
    for (uint64_t i = 0; i < n_messages; ++i) s.messages.push_back(rd.str());
    const auto n = rd.pod<uint64_t>();
    r.labels.resize(n);
    for (auto& l : r.labels) {
      l.im_file = rd.str();
      l.label_file = rd.str();
      l.height = rd.pod<int64_t>();
      l.width = rd.pod<int64_t>();
      const auto rows = rd.pod<uint64_t>();
      for (uint64_t i = 0; i < rows; ++i) {
        l.cls.push_back(rd.pod<int64_t>());
        l.boxes.push_back(rd.pod<std::array<float, 4>>());
      }
    }
  } catch (const std::exception&) {
    r = ScanResult{};
    return false;
  }
  return true;
}

bool parse_floats(const std::string& line, std::vector<float>& values) {
  values.clear();
  const char* p = line.c_str();
  while (true) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == ',') ++p;
    if (*p == '\0') return true;
    char* end = nullptr;
    errno = 0;
    const float v = std::strtof(p, &end);
    if (end == p || errno == ERANGE) return false;
    values.push_back(v);
    p = end;
  }
}

}  // namespace

std::string ScanSummary::describe() const {
  return fmt::format("{} images, {} backgrounds, {} corrupt", images(), backgrounds(), corrupt);
}

std::string label_path_for(const std::string& image_path) {
  const std::string images = "/images/", labels = "/labels/";
  std::string p = image_path;
  const auto at = p.rfind(images);
  if (at != std::string::npos) p.replace(at, images.size(), labels);
  return fs::path(p).replace_extension(".txt").string();
}

bool is_image_file(const std::filesystem::path& p) {
  static const std::set<std::string> formats{".bmp", ".dng", ".jpeg", ".jpg",  ".mpo",
                                             ".png", ".tif", ".tiff", ".webp", ".pfm"};
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return formats.count(ext) > 0;
}

std::vector<std::string> find_image_files(const std::vector<std::string>& sources) {
  std::vector<std::string> files;
  for (const auto& source : sources) {
    const fs::path p(source);
    YOLO_CHECK(fs::exists(p), "image source {} does not exist", source);
    const auto before = files.size();
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p, fs::directory_options::follow_directory_symlink))
        if (e.is_regular_file() && is_image_file(e.path())) files.push_back(e.path().string());
    } else if (p.extension() == ".txt") {
      std::ifstream list(p);
      std::string line;
      while (std::getline(list, line)) {
        line.erase(line.find_last_not_of(" \t\r\n") + 1);
        if (line.empty()) continue;
        fs::path entry(line);
        if (entry.is_relative()) entry = p.parent_path() / entry;  // "./images/a.jpg" is relative to the list
        entry = entry.lexically_normal();
        if (is_image_file(entry)) files.push_back(entry.string());
      }
    } else {
      YOLO_CHECK(is_image_file(p), "{} is neither a folder, a .txt list nor an image", source);
      files.push_back(p.string());
    }
    YOLO_CHECK(files.size() > before, "no images found in {}", source);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string verify_image(const std::string& im_file, int64_t* height, int64_t* width) {
  std::error_code ec;
  const auto bytes = fs::file_size(im_file, ec);
  if (ec) return fmt::format("{}: ignoring image: cannot read it ({})", im_file, ec.message());
  if (bytes == 0) return fmt::format("{}: ignoring image: the file is empty", im_file);
  if (is_jpeg(im_file) && !jpeg_has_end_marker(im_file))
    return fmt::format("{}: ignoring image: truncated JPEG (no end-of-image marker)", im_file);
  // A full decode, EXIF orientation applied, gives the size the loader will see.
  const cv::Mat im = cv::imread(im_file, cv::IMREAD_COLOR);
  if (im.empty()) return fmt::format("{}: ignoring image: it does not decode as an image", im_file);
  if (im.rows < kMinImageSide || im.cols < kMinImageSide)
    return fmt::format("{}: ignoring image: {}x{} is smaller than {} pixels", im_file, im.cols, im.rows, kMinImageSide);
  if (height) *height = im.rows;
  if (width) *width = im.cols;
  return {};
}

bool verify_image_label(const std::string& im_file, const std::string& label_file, int64_t nc, ImageLabels& out,
                        int64_t& duplicates, std::string& message, bool& label_missing) {
  out = ImageLabels{};
  out.im_file = im_file, out.label_file = label_file;
  duplicates = 0;
  label_missing = false;
  auto reject = [&message](std::string why) {
    message = std::move(why);
    return false;
  };
  if (auto why = verify_image(im_file, &out.height, &out.width); !why.empty()) return reject(std::move(why));

  std::ifstream in(label_file);
  if (!in) {
    label_missing = true;
    return true;
  }
  std::string line;
  std::vector<float> v;
  std::set<std::array<float, 5>> seen;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (!parse_floats(line, v))
      return reject(fmt::format("{}:{}: ignoring image: the row is not a list of numbers", label_file, line_no));
    if (v.empty()) continue;
    const bool polygon = v.size() >= 7 && v.size() % 2 == 1;
    if (v.size() != 5 && !polygon)
      return reject(
          fmt::format("{}:{}: ignoring image: expected 5 values (class cx cy w h) or a polygon "
                      "(class x1 y1 x2 y2 x3 y3 ...), got {}",
                      label_file, line_no, v.size()));
    const float cls = v[0];
    if (cls < 0 || cls != std::floor(cls) || cls >= static_cast<float>(nc))
      return reject(fmt::format("{}:{}: ignoring image: class {} is outside the dataset's {} classes (0..{})",
                                label_file, line_no, cls, nc, nc - 1));
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i] < -kCoordTolerance || v[i] > 1 + kCoordTolerance)
        return reject(
            fmt::format("{}:{}: ignoring image: coordinate {} is outside [0, 1]: labels must be "
                        "normalised by the image size",
                        label_file, line_no, v[i]));
      v[i] = std::clamp(v[i], 0.0f, 1.0f);
    }
    std::array<float, 4> box;
    if (polygon) {  // segment label: its bounding box
      float x0 = 1, y0 = 1, x1 = 0, y1 = 0;
      for (size_t i = 1; i + 1 < v.size(); i += 2) {
        x0 = std::min(x0, v[i]), x1 = std::max(x1, v[i]);
        y0 = std::min(y0, v[i + 1]), y1 = std::max(y1, v[i + 1]);
      }
      box = {(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0};
    } else {
      box = {v[1], v[2], v[3], v[4]};
    }
    if (!seen.insert({cls, box[0], box[1], box[2], box[3]}).second) {
      ++duplicates;
      continue;
    }
    out.cls.push_back(static_cast<int64_t>(cls));
    out.boxes.push_back(box);
  }
  if (duplicates > 0) message = fmt::format("{}: {} duplicate labels removed", label_file, duplicates);
  return true;
}

ScanResult scan_labels(const std::vector<std::string>& image_files, int64_t nc, int64_t workers) {
  YOLO_CHECK(!image_files.empty(), "no images to scan");
  const std::string cache_file = fs::path(label_path_for(image_files.front())).parent_path().string() + ".yolocpp.cache";  // Ultralytics owns <split>.cache and cannot read ours
  const uint64_t key = files_fingerprint(image_files, nc);
  ScanResult result;
  if (read_cache(cache_file, key, result)) {
    result.summary.from_cache = true;
  } else {
    result = ScanResult{};
    const size_t n = image_files.size();
    struct Outcome {
      ImageLabels labels;
      bool ok = false, missing = false;
      int64_t duplicates = 0;
      std::string message;
    };
    std::vector<Outcome> outcomes(n);
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next++) < n;) {
        auto& o = outcomes[i];
        try {
          o.ok = verify_image_label(image_files[i], label_path_for(image_files[i]), nc, o.labels, o.duplicates,
                                    o.message, o.missing);
        } catch (const std::exception& e) {
          o.ok = false, o.message = fmt::format("{}: ignoring image: {}", image_files[i], e.what());
        }
      }
    };
    const auto threads =
        static_cast<size_t>(std::clamp<int64_t>(workers > 0 ? workers : std::thread::hardware_concurrency(), 1, 16));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < std::min(threads, n); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    auto& s = result.summary;
    for (auto& o : outcomes) {
      if (!o.message.empty()) s.messages.push_back(o.message);
      s.duplicates += o.duplicates;
      if (!o.ok) {
        ++s.corrupt;
        continue;
      }
      if (o.missing)
        ++s.missing;
      else if (o.labels.cls.empty())
        ++s.empty;
      else
        ++s.found;
      result.labels.push_back(std::move(o.labels));
    }
    write_cache(cache_file, key, result);
  }
  result.summary.cache_file = cache_file;
  auto& s = result.summary;
  for (const auto& m : s.messages) log_warning("{}", m);
  log_info("Scanning {}{}... {}", fs::path(cache_file).replace_extension().string(), s.from_cache ? ".cache" : "",
           s.describe());
  if (s.found == 0) log_warning("no labels found in {}: training will see only backgrounds", cache_file);
  return result;
}

}  // namespace data
YOLO_END_NAMESPACE
