#include "data/preview.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/core.hpp>

#include "data/dataset.h"
#include "data/dataset_yaml.h"
#include "data/loader.h"
#include "plots/from_metrics.h"
#include "plots/mosaic.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {
void save_batch_image(const Batch& batch, const std::vector<std::string>& names, const std::string& path) {
  plots::save_mosaic(plots::batch_tiles(batch), names, path);
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

}  // namespace data
YOLO_END_NAMESPACE
