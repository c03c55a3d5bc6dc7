#pragma once
// Finding images, verifying their label files, and caching the verified result next to the labels.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace data {

/// The verified labels of one image. Boxes are normalised (cx, cy, w, h).
struct ImageLabels {
  std::string im_file, label_file;
  int64_t height = 0, width = 0;  // decoded size, EXIF orientation applied
  std::vector<int64_t> cls;
  std::vector<std::array<float, 4>> boxes;
};

/// The outcome of a scan, as Ultralytics reports it ("N images, M backgrounds, K corrupt").
struct ScanSummary {
  int64_t found = 0;        // images with at least one label row
  int64_t missing = 0;      // images without a label file (backgrounds)
  int64_t empty = 0;        // images with an empty label file (backgrounds)
  int64_t corrupt = 0;      // images skipped: undecodable, truncated, bad labels
  int64_t duplicates = 0;   // duplicate label rows dropped
  bool from_cache = false;  // the result was read from the .yolocpp.cache file
  std::string cache_file;
  std::vector<std::string> messages;  // one warning per skipped image or dropped row

  int64_t images() const { return found + missing + empty; }
  int64_t backgrounds() const { return missing + empty; }
  /// "128 images, 3 backgrounds, 2 corrupt".
  std::string describe() const;
};

struct ScanResult {
  std::vector<ImageLabels> labels;  // usable images only, in file order
  ScanSummary summary;
};

/// Whether a file name has one of the image suffixes Ultralytics reads (.jpg, .png, .bmp, .tif, .webp, ...).
bool is_image_file(const std::filesystem::path& path);

/// Image files of folders (recursive), .txt lists (one path a line, relative to the list's folder)
/// or single images, sorted. Throws naming a source that does not exist or holds no image.
std::vector<std::string> find_image_files(const std::vector<std::string>& sources);

/// `.../images/x/a.jpg` -> `.../labels/x/a.txt`, as Ultralytics pairs them.
std::string label_path_for(const std::string& image_path);

/// Verifies every image and its label file against `nc` classes, reusing `<labels folder>.yolocpp.cache`
/// while the files (paths, sizes, modification times) are unchanged. Warnings go to the log.
ScanResult scan_labels(const std::vector<std::string>& image_files, int64_t nc, int64_t workers = 0);

/// Whether an image can be trained on: a readable, non-empty file, not a truncated JPEG, that decodes
/// to at least 10 pixels a side. Returns "" and its decoded (h, w) when usable, else why not
/// ("a.jpg: ignoring image: ...").
std::string verify_image(const std::string& im_file, int64_t* height = nullptr, int64_t* width = nullptr);

/// Verifies one image + label pair; `message` receives the reason when the image is rejected
/// (returns false) or a note about dropped rows (returns true).
bool verify_image_label(const std::string& im_file, const std::string& label_file, int64_t nc, ImageLabels& out,
                        int64_t& duplicates, std::string& message, bool& label_missing);

}  // namespace data
YOLO_END_NAMESPACE
