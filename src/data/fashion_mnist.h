#pragma once
// Fashion-MNIST (Zalando's idx files, as Debian's dataset-fashion-mnist installs them) converted into
// Ultralytics' classification folder layout, so that `yolo classify train data=OUT` reads it:
//   OUT/train/<class>/train_00000.png   the 60,000 training items
//   OUT/val/<class>/t10k_00000.png      the 10,000 items of the official test split
// File names give the idx split and the item's index in it; images stay 28 x 28 grey PNGs (lossless).
#include <cstdint>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// Where Debian's dataset-fashion-mnist puts the idx files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// An unsigned-byte idx array (LeCun's MNIST format): its dimensions and values, row-major.
struct IdxArray {
  std::vector<int64_t> shape;
  std::vector<uint8_t> values;
};

/// Reads an idx file of unsigned bytes, gzip-compressed or not. Throws yolo::Error naming the file when
/// it is missing, not an unsigned-byte idx file, or holds more or fewer values than its header says.
IdxArray read_idx(const std::string& path);

/// Fashion-MNIST's class names as folder names, in label order ("T-shirt/top" -> "t-shirt_top").
const std::vector<std::string>& fashion_mnist_class_folders();

/// How many images convert_fashion_mnist wrote per split.
struct ConvertedCounts {
  int64_t train = 0, val = 0;
};

/// Writes the layout above from `source_dir`'s {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. `out_dir`
/// must be missing or empty (nothing is mixed with older files). Throws yolo::Error on missing or damaged
/// files, images and labels of different counts, or labels outside 0..9.
ConvertedCounts convert_fashion_mnist(const std::string& source_dir, const std::string& out_dir);

}  // namespace data
YOLO_END_NAMESPACE
