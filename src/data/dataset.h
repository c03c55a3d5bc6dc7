#pragma once
// A detection dataset in Ultralytics' layout: verified labels, decoded images and the training
// (mosaic, perspective, mixup, HSV, flips) or validation (letterbox) transforms.
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/augment.h"
#include "data/labels.h"
#include "data/options.h"
#include "data/rng.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// One transformed image, ready to batch.
struct Sample {
  cv::Mat image;  // HWC uint8, BGR
  std::vector<int64_t> cls;
  std::vector<std::array<float, 4>> boxes;  // x1, y1, x2, y2 in pixels of `image` (detection)
  int64_t label = -1;                       // the image's class (classification); -1 for detection
  bool to_rgb = true;                       // false when the `bgr` augmentation keeps BGR order
  std::string path;
  std::array<int64_t, 2> orig_shape{0, 0};      // (h, w) of the decoded file
  std::array<double, 4> ratio_pad{1, 1, 0, 0};  // gain h, gain w, pad w (left), pad h (top)
};

/// What a DataLoader batches: indexed samples, each a pure function of (index, rng). get() may be
/// called from several threads at once.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  /// The transformed sample `index`, every random draw from `rng`. `recent` holds the dataset indices
  /// loaded just before (mosaic partners); datasets without mosaic ignore it.
  virtual Sample get(size_t index, Rng& rng, const std::vector<size_t>& recent = {}) const = 0;
  /// The file of sample `index`, for error messages.
  virtual const std::string& file(size_t index) const = 0;
  /// How many recently loaded images get() wants in `recent` (0: none).
  virtual size_t mosaic_buffer_length() const { return 0; }
  /// Mosaic (and mixup) on: the trainer turns them off for the last `close_mosaic` epochs. Call
  /// close_mosaic() between epochs: after DataLoader::set_epoch(), before the first next().
  virtual bool mosaic_enabled() const { return false; }
  virtual void close_mosaic() {}
};

/// get() and load_image() may be called from several threads at once; the rest configures the
/// dataset and belongs between epochs.
class DetectionDataset : public Dataset {
 public:
  /// Finds the images of `sources` (folders, .txt lists, files), verifies their labels against
  /// `names` (cached next to the labels), applies single_cls / classes / fraction, and, with
  /// cache=ram|disk, decodes the images once. Throws when no usable image remains.
  DetectionDataset(const std::vector<std::string>& sources, const std::vector<std::string>& names, DatasetOptions opts);

  size_t size() const override { return labels_.size(); }
  const std::string& file(size_t index) const override { return labels_.at(index).im_file; }
  const ScanSummary& summary() const { return summary_; }
  const std::vector<ImageLabels>& labels() const { return labels_; }
  const std::vector<std::string>& names() const { return names_; }
  const DatasetOptions& options() const { return opts_; }

  /// The transformed sample `index`; every random draw comes from `rng`. Mosaic and MixUp take
  /// their extra images from `mosaic_pool` (dataset indices) when it is given, else from the whole
  /// dataset. Throws yolo::Error naming the file when an image cannot be read any more.
  Sample get(size_t index, Rng& rng, const std::vector<size_t>& mosaic_pool = {}) const override;

  /// Turns mosaic and mixup off, as the trainer does for the last `close_mosaic` epochs.
  void close_mosaic() override;
  bool mosaic_enabled() const override { return opts_.hyp.mosaic > 0; }

  /// Letterbox shape (h, w) of rect batch `batch`, or {imgsz, imgsz} without rect.
  std::array<int64_t, 2> batch_shape(size_t batch) const;
  /// Ultralytics' buffer of recent images for mosaic: min(size, 8 batches, 1000).
  size_t mosaic_buffer_length() const override;

  /// The image `index` decoded and resized so its long side is imgsz: (image, original (h, w)).
  std::pair<std::shared_ptr<const cv::Mat>, std::array<int64_t, 2>> load_image(size_t index) const;

 private:
  Instances load_instances(size_t index) const;
  Instances mosaic_or_letterbox(size_t index, Rng& rng, const std::vector<size_t>& pool) const;
  cv::Mat decode(size_t index) const;
  void set_rectangle();
  void cache_images();

  DatasetOptions opts_;
  std::vector<std::string> names_;
  std::vector<ImageLabels> labels_;
  ScanSummary summary_;
  std::vector<std::array<int64_t, 2>> batch_shapes_;  // rect only

  // Decoded images: all of them with cache=ram, else the most recent ones (mosaic reuses them).
  mutable std::mutex images_mutex_;
  mutable std::unordered_map<size_t, std::shared_ptr<const cv::Mat>> images_;
  mutable std::deque<size_t> image_order_;
  size_t max_cached_images_ = 0;
};

}  // namespace data
YOLO_END_NAMESPACE
