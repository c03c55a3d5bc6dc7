#include "yolo/data/preview.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "yolo/data/dataset.h"
#include "yolo/data/dataset_yaml.h"
#include "yolo/data/loader.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"

namespace fs = std::filesystem;

namespace yolo::data {
namespace {

constexpr int kMaxGridSide = 1920;  // pixels: keeps a 16-image grid of 640 images readable and small

cv::Scalar class_colour(int64_t cls) {
  // Distinct, stable hues per class.
  static const cv::Scalar palette[] = {{56, 56, 255},  {151, 157, 255}, {31, 112, 255}, {29, 178, 255},
                                       {49, 210, 207}, {10, 249, 72},   {23, 204, 146}, {134, 219, 61},
                                       {52, 147, 26},  {187, 212, 0},   {168, 153, 44}, {255, 194, 0},
                                       {147, 69, 52},  {255, 115, 100}, {236, 24, 0},   {255, 56, 132}};
  return palette[static_cast<size_t>(cls) % (sizeof palette / sizeof palette[0])];
}

cv::Mat draw_grid(const Batch& batch, const std::vector<std::string>& names) {
  const int64_t b = batch.images.size(0), h = batch.images.size(2), w = batch.images.size(3);
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(b))));
  const int rows = static_cast<int>((b + cols - 1) / cols);
  const double scale = std::min(1.0, kMaxGridSide / static_cast<double>(std::max(cols * w, rows * h)));
  const int th = static_cast<int>(h * scale), tw = static_cast<int>(w * scale);
  cv::Mat grid(rows * th, cols * tw, CV_8UC3, cv::Scalar(255, 255, 255));
  auto images = batch.images.contiguous();
  auto targets = batch.targets.accessor<float, 2>();
  for (int64_t i = 0; i < b; ++i) {
    auto* data = images[i].data_ptr<uint8_t>();
    std::vector<cv::Mat> planes;
    for (int c = 2; c >= 0; --c)  // RGB planes -> BGR for OpenCV
      planes.emplace_back(static_cast<int>(h), static_cast<int>(w), CV_8UC1, data + c * h * w);
    cv::Mat image;
    cv::merge(planes, image);
    const cv::Rect cell(static_cast<int>(i % cols) * tw, static_cast<int>(i / cols) * th, tw, th);
    cv::resize(image, grid(cell), cell.size(), 0, 0, cv::INTER_AREA);
    for (int64_t k = 0; k < targets.size(0); ++k) {
      if (static_cast<int64_t>(targets[k][0]) != i) continue;
      const auto cls = static_cast<int64_t>(targets[k][1]);
      const double cx = targets[k][2] * tw, cy = targets[k][3] * th, bw = targets[k][4] * tw, bh = targets[k][5] * th;
      const cv::Point p1(cell.x + static_cast<int>(cx - bw / 2), cell.y + static_cast<int>(cy - bh / 2));
      const cv::Point p2(cell.x + static_cast<int>(cx + bw / 2), cell.y + static_cast<int>(cy + bh / 2));
      cv::rectangle(grid, p1, p2, class_colour(cls), 2);
      const std::string label = cls < static_cast<int64_t>(names.size()) ? names[cls] : std::to_string(cls);
      cv::putText(grid, label, p1 + cv::Point(2, 12), cv::FONT_HERSHEY_SIMPLEX, 0.4, class_colour(cls), 1, cv::LINE_AA);
    }
    if (batch.labels.defined()) {  // classification: the image's class, top left
      const auto cls = batch.labels[i].item<int64_t>();
      const std::string label = cls < static_cast<int64_t>(names.size()) ? names[cls] : std::to_string(cls);
      cv::putText(grid, label, cell.tl() + cv::Point(4, 14), cv::FONT_HERSHEY_SIMPLEX, 0.4, class_colour(cls), 1,
                  cv::LINE_AA);
    }
    cv::rectangle(grid, cell, cv::Scalar(255, 255, 255), 2);
    cv::putText(grid, fs::path(batch.paths[i]).filename().string(), cell.tl() + cv::Point(4, th - 6),
                cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(220, 220, 220), 1, cv::LINE_AA);
  }
  return grid;
}

}  // namespace

void save_batch_image(const Batch& batch, const std::vector<std::string>& names, const std::string& path) {
  YOLO_CHECK(cv::imwrite(path, draw_grid(batch, names)), "could not write {}: is the folder writeable?", path);
}

std::vector<std::string> save_batch_previews(DataLoader& loader, int64_t n, const std::string& dir,
                                             const std::vector<std::string>& names) {
  YOLO_CHECK(n > 0, "save_batches={} must be positive", n);
  fs::create_directories(dir);
  std::vector<std::string> written;
  for (int64_t i = 0; i < n; ++i) {
    auto batch = loader.next();
    if (!batch) break;
    const auto path = (fs::path(dir) / fmt::format("train_batch{}.jpg", i)).string();
    save_batch_image(*batch, names, path);
    written.push_back(path);
  }
  return written;
}

std::vector<std::string> preview_dataset(const std::string& data_yaml, const std::string& datasets_dir, int64_t imgsz,
                                         int64_t n, const std::string& dir) {
  const auto spec = load_data_spec(data_yaml, datasets_dir);
  DatasetOptions options;
  options.imgsz = imgsz;
  auto dataset = std::make_shared<DetectionDataset>(spec.train, spec.names, options);
  log_info("{} train: {}, {} duplicate labels removed", spec.yaml_file, dataset->summary().describe(),
           dataset->summary().duplicates);
  LoaderOptions lo;
  lo.batch_size = 16;
  lo.workers = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 8);
  DataLoader loader(dataset, lo);
  return save_batch_previews(loader, n, dir, spec.names);
}

}  // namespace yolo::data
