#pragma once
// Pictures of augmented training batches with their boxes, to check labels before training
// (`yolo detect dataset data=... save_batches=N`).
#include <cstdint>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

class DataLoader;

struct Batch;

/// Writes one batch as a JPEG grid at `path`, every box drawn with its class name, or each image's
/// class for a classification batch (Ultralytics' train_batchN.jpg). A file that cannot be written
/// is an error naming it.
void save_batch_image(const Batch& batch, const std::vector<std::string>& names, const std::string& path);

/// Writes the next `n` batches of `loader` as JPEG grids (dir/train_batch{i}.jpg) with every box
/// and its class name drawn. Returns the files written.
std::vector<std::string> save_batch_previews(DataLoader& loader, int64_t n, const std::string& dir,
                                             const std::vector<std::string>& names);

/// Loads the dataset YAML, scans its training split (the summary goes to the log), and writes `n`
/// batch previews of 16 augmented images at `imgsz` into `dir`. Returns the files written.
std::vector<std::string> preview_dataset(const std::string& data_yaml, const std::string& datasets_dir, int64_t imgsz,
                                         int64_t n, const std::string& dir);

}  // namespace data
YOLO_END_NAMESPACE
