#pragma once
// Classification datasets in Ultralytics' layout (torchvision's ImageFolder): a folder with train/
// and val/ (else validation/, valid/ or test/), one sub-folder per class, class names sorted.
// Training samples go through Ultralytics' classify augmentations, validation samples through its
// eval transform (shorter side resized with PIL's bilinear, centre crop).
//
// Bad folders are errors named as Azure ML's "Train PyTorch Model" names them: NotLabeledDataset (no
// class sub-folders), InvalidDataset (train and val classes differ, listing the difference), and an
// empty class folder. Unreadable or truncated images are skipped with a warning naming the file.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/dataset_yaml.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// The dataset `data` names: a folder (as given, else in the datasets folder, else a dataset
/// downloadable by name such as imagenet10: data/dataset_download.h), or a dataset YAML whose
/// `path` is that folder (relative to the YAML, else to the datasets folder; none: the YAML's folder) (`train`, `val`, `test` may name other sub-folders; `names`, when given,
/// must be the class folders). Splits are the folders' absolute paths; names the sorted class
/// folders of the training split.
DataSpec load_classify_data_spec(const std::string& data, const std::string& datasets_dir = "");

/// One image of a class folder.
struct LabelledImage {
  std::string file;
  int64_t label = 0;
};

/// The images of `split_dir`/<class>/ for every class of `names` (torchvision's ImageFolder order:
/// classes in order, files sorted within each), each verified (decodable, at least 10 pixels a side,
/// not a truncated JPEG) on up to 8 threads; unreadable ones are left out with a warning naming the
/// file. A class folder without images is an error.
std::vector<LabelledImage> scan_class_folders(const std::string& split_dir, const std::vector<std::string>& names);

class ClassificationDataset : public Dataset {
 public:
  /// The images of `split_dir` labelled by `names`; options.augment picks the training transform,
  /// options.fraction keeps the first part of a training split, options.cache = ram / disk keeps
  /// decoded images.
  ClassificationDataset(const std::string& split_dir, const std::vector<std::string>& names, DatasetOptions options);

  size_t size() const override { return images_.size(); }
  const std::string& file(size_t index) const override { return images_.at(index).file; }
  Sample get(size_t index, Rng& rng, const std::vector<size_t>& recent = {}) const override;

  const std::vector<LabelledImage>& images() const { return images_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  cv::Mat decode(size_t index) const;

  DatasetOptions options_;
  std::vector<std::string> names_;
  std::vector<LabelledImage> images_;
  std::vector<std::shared_ptr<const cv::Mat>> cached_;  // cache=ram: every image, decoded once (read-only after)
};

}  // namespace data
YOLO_END_NAMESPACE
