#include "data/image_cache.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {

// ---- cache=disk: the decoded image as a NumPy .npy file next to it, as Ultralytics keeps it ----
std::string npy_path(const std::string& image_file) { return fs::path(image_file).replace_extension(".npy").string(); }

void write_npy(const std::string& path, const cv::Mat& im) {
  std::string header =
      fmt::format("{{'descr': '|u1', 'fortran_order': False, 'shape': ({}, {}, 3), }}", im.rows, im.cols);
  header.append(64 - (10 + header.size() + 1) % 64, ' ').push_back('\n');  // the format aligns data to 64 bytes
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary);
  if (!out) {
    log_warning("cache=disk: cannot write {} (folder not writeable), the image will be decoded every time", path);
    return;
  }
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  const cv::Mat c = im.isContinuous() ? im : im.clone();
  out.write(reinterpret_cast<const char*>(c.data), static_cast<std::streamsize>(c.total() * c.elemSize()));
  out.close();
  std::error_code ec;
  fs::rename(tmp, path, ec);
}

cv::Mat read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[10];
  if (!in.read(magic, 10) || std::memcmp(magic, "\x93NUMPY\x01\x00", 8) != 0) return {};
  uint16_t len = 0;
  std::memcpy(&len, magic + 8, 2);
  std::string header(len, '\0');
  in.read(header.data(), len);
  int h = 0, w = 0, c = 0;
  const auto at = header.find("'shape': (");
  if (at == std::string::npos || header.find("'|u1'") == std::string::npos ||
      std::sscanf(header.c_str() + at, "'shape': (%d, %d, %d)", &h, &w, &c) != 3 || c != 3)
    return {};
  cv::Mat im(h, w, CV_8UC3);
  if (!in.read(reinterpret_cast<char*>(im.data), static_cast<std::streamsize>(im.total() * 3))) return {};
  return im;
}

void cache_to_disk(const std::vector<std::string>& files) {
  parallel_for(files.size(), [&](size_t i) {
    const auto npy = npy_path(files[i]);
    if (fs::exists(npy)) return;
    const cv::Mat im = cv::imread(files[i], cv::IMREAD_COLOR);
    YOLO_CHECK(!im.empty(), "{}: cannot decode the image for cache=disk", files[i]);
    write_npy(npy, im);
  });
  log_info("Cached {} images to disk (.npy next to each image)", files.size());
}

cv::Mat read_image(const std::string& file, bool from_npy) {
  if (from_npy) {
    cv::Mat im = read_npy(npy_path(file));
    if (!im.empty()) return im;
  }
  cv::Mat im = cv::imread(file, cv::IMREAD_COLOR);  // EXIF orientation applied; grey images as 3 equal channels
  YOLO_CHECK(!im.empty(), "{}: the image cannot be read any more (deleted or changed since the scan?)", file);
  return im;
}

}  // namespace data
YOLO_END_NAMESPACE
