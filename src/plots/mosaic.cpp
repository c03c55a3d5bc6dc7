#include "plots/mosaic.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include <fmt/format.h>

#include "plots/chart.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {
namespace {

std::string class_name(int cls, const std::vector<std::string>& names) {
  return cls >= 0 && cls < static_cast<int>(names.size()) ? names[cls] : std::to_string(cls);
}

/// Text on a filled label box whose top left corner is `at` (moved inside the image when it would leave it).
void label(cv::Mat& image, const std::string& text, cv::Point at, double scale, int thickness, const cv::Scalar& fill) {
  int baseline = 0;
  const auto size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  const int pad = std::max(2, size.height / 4);
  cv::Rect box(at, cv::Size(size.width + 2 * pad, size.height + baseline + pad));
  box.x = std::clamp(box.x, 0, std::max(0, image.cols - box.width));
  box.y = std::clamp(box.y, 0, std::max(0, image.rows - box.height));
  cv::rectangle(image, box, fill, cv::FILLED);
  cv::putText(image, text, {box.x + pad, box.y + pad / 2 + size.height}, cv::FONT_HERSHEY_SIMPLEX, scale,
              text_colour_on(fill), thickness, cv::LINE_AA);
}

}  // namespace

cv::Mat draw_mosaic(const std::vector<MosaicTile>& tiles, const std::vector<std::string>& names,
                    const MosaicOptions& options) {
  YOLO_CHECK(!tiles.empty(), "a batch mosaic needs at least one image");
  const size_t count = std::min(tiles.size(), options.max_tiles);
  int h = 0, w = 0;
  for (size_t i = 0; i < count; ++i) {
    YOLO_CHECK(tiles[i].image.type() == CV_8UC3, "mosaic image {} must be 8-bit BGR", i);
    h = std::max(h, tiles[i].image.rows), w = std::max(w, tiles[i].image.cols);
  }
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
  const int rows = static_cast<int>((count + cols - 1) / cols);
  double scale = std::min(1.0, options.max_size / static_cast<double>(std::max(cols * w, rows * h)));
  scale = std::max(scale, options.min_tile / static_cast<double>(std::max(h, w)));
  const int th = static_cast<int>(std::ceil(h * scale)), tw = static_cast<int>(std::ceil(w * scale));
  cv::Mat grid(rows * th, cols * tw, CV_8UC3, cv::Scalar(255, 255, 255));

  // Text and lines sized to the grid (Ultralytics takes 1% of the grid's sides; 3/4 of that crowds less).
  const double font_px = std::max(18.0, (th + tw) * cols * 0.0075);
  const double text_scale = font_px / 30.0;
  const int text_thickness = std::max(1, static_cast<int>(std::lround(font_px / 18)));
  const int line = std::max(2, static_cast<int>(std::lround(font_px / 10)));

  for (size_t i = 0; i < count; ++i) {
    const auto& tile = tiles[i];
    const cv::Rect cell(static_cast<int>(i % cols) * tw, static_cast<int>(i / cols) * th, tw, th);
    const double sx = static_cast<double>(tw) / w, sy = static_cast<double>(th) / h;
    const cv::Size size(cvRound(tile.image.cols * sx), cvRound(tile.image.rows * sy));
    cv::Mat placed = grid(cv::Rect(cell.tl(), size));
    cv::resize(tile.image, placed, size, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    for (const auto& b : tile.boxes) {
      if (b.conf >= 0 && b.conf < options.conf_threshold) continue;
      const cv::Point p1(cell.x + cvRound(b.x1 * sx), cell.y + cvRound(b.y1 * sy));
      const cv::Point p2(cell.x + cvRound(b.x2 * sx), cell.y + cvRound(b.y2 * sy));
      const auto colour = class_colour(b.cls);
      cv::rectangle(grid, p1, p2, colour, line, cv::LINE_AA);
      const std::string text =
          b.conf < 0 ? class_name(b.cls, names) : fmt::format("{} {:.1f}", class_name(b.cls, names), b.conf);
      int baseline = 0;
      const int text_h = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, text_scale, text_thickness, &baseline).height;
      // Above the box when there is room, else inside its top edge; clipped to the tile.
      const int above = p1.y - text_h - baseline - 2 * line;
      cv::Mat tile_area = grid(cell);
      label(tile_area, text, cv::Point(p1.x - cell.x, (above >= cell.y ? above : p1.y) - cell.y), text_scale,
            text_thickness, colour);
    }
    for (size_t k = 0; k < tile.classes.size(); ++k) {
      const auto& [cls, probability] = tile.classes[k];
      const std::string text =
          probability < 0 ? class_name(cls, names) : fmt::format("{} {:.2f}", class_name(cls, names), probability);
      cv::Mat tile_area = grid(cell);
      label(tile_area, text, cv::Point(0, static_cast<int>(k * font_px * 1.3)), text_scale, text_thickness,
            k == 0 ? class_colour(cls) : cv::Scalar(64, 64, 64));
    }
    if (!tile.caption.empty()) {  // light text on a dark outline reads on any picture
      const cv::Point at = cell.tl() + cv::Point(5, th - 6);
      const auto caption = tile.caption.substr(0, 40);
      cv::putText(grid, caption, at, cv::FONT_HERSHEY_SIMPLEX, text_scale * 0.8, cv::Scalar(40, 40, 40),
                  text_thickness + 2, cv::LINE_AA);
      cv::putText(grid, caption, at, cv::FONT_HERSHEY_SIMPLEX, text_scale * 0.8, cv::Scalar(230, 230, 230),
                  text_thickness, cv::LINE_AA);
    }
    cv::rectangle(grid, cell, cv::Scalar(255, 255, 255), 2);
  }
  return grid;
}

void save_mosaic(const std::vector<MosaicTile>& tiles, const std::vector<std::string>& names, const std::string& path,
                 const MosaicOptions& options) {
  write_image(path, draw_mosaic(tiles, names, options));
}

}  // namespace plots
YOLO_END_NAMESPACE
