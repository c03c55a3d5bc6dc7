#pragma once
// Batch mosaics (train_batchN.jpg, val_batchN_labels.jpg / _pred.jpg): up to 16 images in a grid, each with its
// boxes and class names (detection) or its class and top predictions (classification).
#include <opencv2/core.hpp>

#include <string>
#include <utility>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {

/// A box in the pixels of its tile's image. conf < 0 marks a label; predictions show "name 0.87".
struct TileBox {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int cls = 0;
  float conf = -1;
};

struct MosaicTile {
  cv::Mat image;                             ///< 8-bit BGR
  std::string caption;                       ///< e.g. the file name, drawn at the bottom left
  std::vector<TileBox> boxes;                ///< detection
  std::vector<std::pair<int, float>> classes;  ///< classification: (class, probability); probability < 0 = the label
};

struct MosaicOptions {
  int max_size = 1920;          ///< the longer side of the grid at most (larger batches are scaled down)
  int min_tile = 160;           ///< tiles are scaled up to this side at least (32x32 classification images)
  size_t max_tiles = 16;
  float conf_threshold = 0.25f;  ///< predictions below are not drawn
};

/// Draws the tiles in a square-ish grid, row by row.
cv::Mat draw_mosaic(const std::vector<MosaicTile>& tiles, const std::vector<std::string>& names,
                    const MosaicOptions& options = {});
/// draw_mosaic() written to `path` (JPEG or PNG by extension); an unwriteable path is an error naming it.
void save_mosaic(const std::vector<MosaicTile>& tiles, const std::vector<std::string>& names, const std::string& path,
                 const MosaicOptions& options = {});

}  // namespace plots
YOLO_END_NAMESPACE
