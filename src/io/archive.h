#pragma once
// Safe extraction of downloaded zip archives (stored and deflate members). Nothing in an archive
// can write outside the target folder, and nothing is written at all unless the whole archive
// passes the checks: members with absolute paths, '..' components, links or device files are
// refused, as are archives whose member count, total size or compression ratio exceed the limits
// (decompression bombs), whose members overlap, or that need more room than the disk has.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {

/// Bounds on what one archive may put on disk.
struct ExtractLimits {
  uint64_t max_entries = 1'000'000;          ///< COCO's train2017.zip holds 118,288
  uint64_t max_total_bytes = uint64_t{256} << 30;  ///< sum of the members' sizes: 256 GiB
  /// Total size over archive size, checked once the total passes 64 MiB: image datasets compress
  /// about 1:1 and label text about 1:5, while bombs rely on deflate's ~1000:1.
  double max_ratio = 100;
};

/// Extracts the zip archive `archive` into the folder `target` (created if needed) and returns the
/// top-level names it placed there. Members are written to a staging folder inside `target` and
/// moved into place once all are complete; existing folders are merged, existing files replaced.
/// Throws yolo::Error, leaving `target` as it was, on any refusal or damage.
std::vector<std::string> extract_zip(const std::filesystem::path& archive, const std::filesystem::path& target,
                                     const ExtractLimits& limits = {});

}  // namespace io
YOLO_END_NAMESPACE
