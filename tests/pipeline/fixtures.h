#pragma once
// Helpers of the data pipeline tests: temporary dataset folders with generated images, coloured
// boxes to follow through augmentations, and a log sink that records warnings.
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "yolo/utils/log.h"

namespace yolo::test {

/// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("yolo_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& rel = "") const { return (rel.empty() ? path_ : path_ / rel).string(); }

 private:
  std::filesystem::path path_;
};


inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

/// A grey image with noise-free filled rectangles; returns it.
inline cv::Mat grey_image(int w, int h) { return cv::Mat(h, w, CV_8UC3, cv::Scalar(114, 114, 114)); }

/// The pixel bounds (x1, y1, x2, y2) of the pixels close to `bgr`, or nothing when there are none.
inline std::optional<std::array<float, 4>> colour_bounds(const cv::Mat& image, cv::Scalar bgr, double tol = 40) {
  cv::Mat mask;
  cv::inRange(image, bgr - cv::Scalar(tol, tol, tol), bgr + cv::Scalar(tol, tol, tol), mask);
  std::vector<cv::Point> points;
  cv::findNonZero(mask, points);
  if (points.size() < 4) return std::nullopt;
  const auto r = cv::boundingRect(points);
  return std::array<float, 4>{static_cast<float>(r.x), static_cast<float>(r.y), static_cast<float>(r.x + r.width),
                              static_cast<float>(r.y + r.height)};
}

/// A dataset folder `root/images/train/NNN.jpg` + `root/labels/train/NNN.txt` of `n` images, each
/// with one rectangle of class i % nc in a saturated colour, sizes cycling through `sizes`.
inline void make_dataset(const std::filesystem::path& root, int n, int nc = 3,
                         std::vector<cv::Size> sizes = {{160, 120}, {120, 160}, {128, 128}}) {
  std::mt19937 gen(7);
  for (int i = 0; i < n; ++i) {
    const auto size = sizes[i % sizes.size()];
    cv::Mat im = grey_image(size.width, size.height);
    std::uniform_int_distribution<int> wx(size.width / 6, size.width / 3), wy(size.height / 6, size.height / 3);
    const int bw = wx(gen), bh = wy(gen);
    std::uniform_int_distribution<int> x0(0, size.width - bw), y0(0, size.height - bh);
    const int x = x0(gen), y = y0(gen);
    cv::rectangle(im, cv::Rect(x, y, bw, bh), cv::Scalar(40 * (i % 5), 255, 255 - 30 * (i % 7)), cv::FILLED);
    char name[16];
    std::snprintf(name, sizeof name, "%03d", i);
    const auto image = root / "images" / "train" / (std::string(name) + ".png");
    std::filesystem::create_directories(image.parent_path());
    cv::imwrite(image.string(), im);
    write_text(root / "labels" / "train" / (std::string(name) + ".txt"),
               std::to_string(i % nc) + " " + std::to_string((x + bw / 2.0) / size.width) + " " +
                   std::to_string((y + bh / 2.0) / size.height) + " " + std::to_string(bw / double(size.width)) + " " +
                   std::to_string(bh / double(size.height)) + "\n");
  }
}

}  // namespace yolo::test
