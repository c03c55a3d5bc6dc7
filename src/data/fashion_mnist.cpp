#include "data/fashion_mnist.h"

#include <zlib.h>

#include <array>
#include <filesystem>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/image_cache.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

namespace fs = std::filesystem;

YOLO_BEGIN_NAMESPACE
namespace data {
namespace {

constexpr const char* kInstall = "apt install dataset-fashion-mnist, or give the folder holding the idx files";

/// Reads exactly `size` bytes from a zlib stream (which passes plain files through); false at the end.
bool read_exactly(gzFile file, const std::string& path, void* out, size_t size) {
  auto* bytes = static_cast<uint8_t*>(out);
  while (size > 0) {
    const unsigned piece = static_cast<unsigned>(std::min<size_t>(size, 1u << 30));
    const int got = gzread(file, bytes, piece);
    if (got < 0) {
      int code = 0;
      YOLO_FAIL("{}: cannot be read: {}", path, gzerror(file, &code));
    }
    if (got == 0) return false;
    bytes += got;
    size -= static_cast<size_t>(got);
  }
  return true;
}

/// `<dir>/<name>.gz`, else `<dir>/<name>`.
std::string idx_file(const fs::path& dir, const std::string& name) {
  for (const auto& candidate : {dir / (name + ".gz"), dir / name})
    if (fs::is_regular_file(candidate)) return candidate.string();
  YOLO_FAIL("Fashion-MNIST file {} (or {}.gz) does not exist: {}", (dir / name).string(), name, kInstall);
}

/// One split's images (N x H x W) and labels (N), checked against each other.
std::pair<IdxArray, IdxArray> read_split(const fs::path& dir, const std::string& split) {
  const auto images_file = idx_file(dir, split + "-images-idx3-ubyte");
  const auto labels_file = idx_file(dir, split + "-labels-idx1-ubyte");
  auto images = read_idx(images_file);
  auto labels = read_idx(labels_file);
  YOLO_CHECK(images.shape.size() == 3, "{}: expected images of N x height x width, found {} dimensions", images_file,
             images.shape.size());
  YOLO_CHECK(labels.shape.size() == 1, "{}: expected one label per image, found {} dimensions", labels_file,
             labels.shape.size());
  YOLO_CHECK(images.shape[0] == labels.shape[0], "{} holds {} images but {} holds {} labels", images_file,
             images.shape[0], labels_file, labels.shape[0]);
  const auto classes = fashion_mnist_class_folders().size();
  for (size_t i = 0; i < labels.values.size(); ++i)
    YOLO_CHECK(labels.values[i] < classes, "{}: label {} of item {} is not a Fashion-MNIST class (0..{})", labels_file,
               labels.values[i], i, classes - 1);
  return {std::move(images), std::move(labels)};
}

/// `out`/<class>/<split>_<index>.png for every item of a split.
int64_t write_split(const std::pair<IdxArray, IdxArray>& split_arrays, const std::string& split, const fs::path& out) {
  const auto& [images, labels] = split_arrays;
  const auto& names = fashion_mnist_class_folders();
  for (const auto label : std::set<uint8_t>(labels.values.begin(), labels.values.end()))
    fs::create_directories(out / names[label]);  // the classes present
  const int height = static_cast<int>(images.shape[1]), width = static_cast<int>(images.shape[2]);
  const size_t pixels = static_cast<size_t>(height) * width;
  parallel_for(labels.values.size(), [&](size_t i) {
    const cv::Mat image(height, width, CV_8UC1, const_cast<uint8_t*>(images.values.data() + i * pixels));
    const auto file = out / names[labels.values[i]] / fmt::format("{}_{:05d}.png", split, i);
    YOLO_CHECK(cv::imwrite(file.string(), image), "cannot write {} (is the disk full or read-only?)", file.string());
  });
  return static_cast<int64_t>(labels.values.size());
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  YOLO_CHECK(fs::is_regular_file(path), "idx file {} does not exist", path);
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  YOLO_CHECK(file, "{}: cannot be opened", path);
  // Magic: two zero bytes, the value type (0x08: unsigned byte), the number of dimensions; then each
  // dimension as a big-endian 32-bit count.
  std::array<uint8_t, 4> magic{};
  YOLO_CHECK(read_exactly(file.get(), path, magic.data(), magic.size()), "{}: too short for an idx header", path);
  YOLO_CHECK(magic[0] == 0 && magic[1] == 0 && magic[3] >= 1 && magic[3] <= 4,
             "{}: not an idx file (its header starts {:02x} {:02x} {:02x} {:02x}, expected 00 00 08 and 1 to 4 "
             "dimensions)", path, magic[0], magic[1], magic[2], magic[3]);
  YOLO_CHECK(magic[2] == 0x08, "{}: idx values of type {:#04x}; only unsigned bytes (0x08) are supported", path,
             magic[2]);
  IdxArray array;
  uint64_t count = 1;
  for (int d = 0; d < magic[3]; ++d) {
    std::array<uint8_t, 4> be{};
    YOLO_CHECK(read_exactly(file.get(), path, be.data(), be.size()), "{}: the header ends inside dimension {}", path, d);
    const uint64_t size = (uint64_t{be[0]} << 24) | (uint64_t{be[1]} << 16) | (uint64_t{be[2]} << 8) | be[3];
    array.shape.push_back(static_cast<int64_t>(size));
    count *= size;
    YOLO_CHECK(count <= (uint64_t{1} << 34), "{}: its header declares more than 16 GiB of values", path);
  }
  array.values.resize(count);
  YOLO_CHECK(read_exactly(file.get(), path, array.values.data(), count),
             "{}: truncated: its header declares {} values but the file ends before them", path, count);
  uint8_t extra = 0;
  YOLO_CHECK(!read_exactly(file.get(), path, &extra, 1), "{}: holds more values than its header declares ({})", path,
             count);
  int code = Z_OK;
  const char* message = gzerror(file.get(), &code);
  YOLO_CHECK(code == Z_OK, "{}: damaged compressed data: {}", path, message);
  return array;
}

const std::vector<std::string>& fashion_mnist_class_folders() {
  static const std::vector<std::string> names{"t-shirt_top", "trouser", "pullover", "dress",   "coat",
                                              "sandal",      "shirt",   "sneaker",  "bag",     "ankle_boot"};
  return names;
}

ConvertedCounts convert_fashion_mnist(const std::string& source_dir, const std::string& out_dir) {
  YOLO_CHECK(fs::is_directory(source_dir), "Fashion-MNIST folder {} does not exist: {}", source_dir, kInstall);
  YOLO_CHECK(!fs::exists(out_dir) || (fs::is_directory(out_dir) && fs::is_empty(out_dir)),
             "{} exists and is not an empty folder: choose a new output folder", out_dir);
  // Both splits are read and checked before anything is written.
  const auto train = read_split(source_dir, "train");
  const auto test = read_split(source_dir, "t10k");
  ConvertedCounts counts;
  counts.train = write_split(train, "train", fs::path(out_dir) / "train");
  counts.val = write_split(test, "t10k", fs::path(out_dir) / "val");
  return counts;
}

}  // namespace data
YOLO_END_NAMESPACE
