// The built-in dataset YAMLs, written for yolocpp in Ultralytics' dataset format. Class names and
// download locations are the datasets' own; `path:` is relative to the datasets folder.
#include "data/builtin_datasets.h"

#include <map>

#include <fmt/format.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

constexpr const char* kCocoClasses[] = {
    "person",        "bicycle",      "car",           "motorcycle",     "airplane",     "bus",
    "train",         "truck",        "boat",          "traffic light",  "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",          "cat",            "dog",          "horse",
    "sheep",         "cow",          "elephant",      "bear",           "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",       "tie",            "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",   "kite",           "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket", "bottle",         "wine glass",   "cup",
    "fork",          "knife",        "spoon",         "bowl",           "banana",       "apple",
    "sandwich",      "orange",       "broccoli",      "carrot",         "hot dog",      "pizza",
    "donut",         "cake",         "chair",         "couch",          "potted plant", "bed",
    "dining table",  "toilet",       "tv",            "laptop",         "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",     "oven",           "toaster",      "sink",
    "refrigerator",  "book",         "clock",         "vase",           "scissors",     "teddy bear",
    "hair drier",    "toothbrush"};

constexpr const char* kVocClasses[] = {"aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",   "car",
                                       "cat",       "chair",   "cow",   "diningtable", "dog",    "horse", "motorbike",
                                       "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};

template <size_t N>
std::string names_block(const char* const (&classes)[N]) {
  std::string block = "names:\n";
  for (size_t i = 0; i < N; ++i) block += fmt::format("  {}: {}\n", i, classes[i]);
  return block;
}

/// A small COCO subset shipped as one zip holding the folder `name/` (images/ and labels/).
std::string coco_subset(const std::string& name, const std::string& about, const std::string& train,
                        const std::string& val, const std::string& extra = "") {
  return fmt::format("# {} (yolocpp built-in; downloaded into the datasets folder on first use)\n"
                     "path: {}\ntrain: {}\nval: {}\ntest:\n{}download: {}{}.zip\n\n",
                     about, name, train, val, extra, kDatasetAssets, name) +
         names_block(kCocoClasses);
}

std::string coco_full() {
  // The labels archive holds coco/ with labels/ and the image lists; the image archives unpack
  // into coco/images. `dir:` (relative to the dataset folder) is yolocpp's form of that placement.
  return fmt::format(
             "# COCO 2017 detection, 80 classes: 118k train and 5k val images, about 20 GB (yolocpp built-in)\n"
             "path: coco\ntrain: train2017.txt\nval: val2017.txt\ntest: test-dev2017.txt\n"
             "download:\n"
             "  - {}coco2017labels-segments.zip\n"
             "  - {{url: http://images.cocodataset.org/zips/train2017.zip, dir: images}}\n"
             "  - {{url: http://images.cocodataset.org/zips/val2017.zip, dir: images}}\n"
             "  - {{url: http://images.cocodataset.org/zips/test2017.zip, dir: images}}\n\n",
             kDatasetAssets) +
         names_block(kCocoClasses);
}

std::string voc() {
  // Its labels are made from the VOC XML annotations after download, which Ultralytics does in
  // Python and yolocpp does not: the download below is a script, so a missing VOC gets a message
  // naming these archives instead of a download.
  return fmt::format(
             "# PASCAL VOC 2007+2012 detection, 20 classes: 16.5k train and 5k val images, about 2.8 GB "
             "(yolocpp built-in)\n"
             "path: VOC\n"
             "train: [images/train2012, images/train2007, images/val2012, images/val2007]\n"
             "val: [images/test2007]\ntest: [images/test2007]\n"
             "download: |\n"
             "  # Ultralytics fetches these archives into VOC/images and writes YOLO labels from the XML annotations:\n"
             "  {0}VOCtrainval_06-Nov-2007.zip\n"
             "  {0}VOCtest_06-Nov-2007.zip\n"
             "  {0}VOCtrainval_11-May-2012.zip\n\n",
             kDatasetAssets) +
         names_block(kVocClasses);
}

const std::map<std::string, std::string>& builtin_datasets() {
  static const std::map<std::string, std::string> datasets{
      {"coco8.yaml", coco_subset("coco8", "COCO8: the first 8 images of COCO train2017, 4 train and 4 val, about 1 MB",
                                 "images/train", "images/val")},
      {"coco8-grayscale.yaml",
       coco_subset("coco8-grayscale", "COCO8 in grey levels: 4 train and 4 val single-channel images, about 1 MB",
                   "images/train", "images/val", "channels: 1\n")},
      {"coco128.yaml",
       coco_subset("coco128", "COCO128: the first 128 images of COCO train2017, used for both splits, about 7 MB",
                   "images/train2017", "images/train2017")},
      {"coco.yaml", coco_full()},
      {"VOC.yaml", voc()},
  };
  return datasets;
}

}  // namespace

std::optional<std::string> builtin_dataset_yaml(const std::string& file_name) {
  const auto it = builtin_datasets().find(file_name);
  if (it == builtin_datasets().end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> builtin_dataset_names() {
  std::vector<std::string> names;
  for (const auto& entry : builtin_datasets()) names.push_back(entry.first);
  return names;
}

}  // namespace data
YOLO_END_NAMESPACE
